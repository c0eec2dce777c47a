'use strict';
const assert = require('assert');
const { rk, random, randomArray, backends, needCuda, make, opts, assertClose, assertCode } = require('./helpers');
const { forwardRef, backwardRef, kinkDistance } = require('./kplanes-reference');

// ---------------------------------------------------------------- data

/** Random (non-orthogonal) matrices, entries U(−1, 1). */
function randomMatrices(T) {
  return randomArray(9 * T, -1, 1);
}

/** Random orthogonal matrices (Gram–Schmidt of random Gaussian-ish columns, random sign). */
function orthogonalMatrices(T) {
  const out = new Float64Array(9 * T);
  for (let t = 0; t < T; t++) {
    const v = [0, 1, 2].map(() => Array.from(randomArray(3, -1, 1)));
    const q = [];
    for (const a of v) {
      const u = a.slice();
      for (const e of q) {
        const d = u[0] * e[0] + u[1] * e[1] + u[2] * e[2];
        for (let i = 0; i < 3; i++) u[i] -= d * e[i];
      }
      const n = Math.hypot(u[0], u[1], u[2]);
      q.push(u.map((x) => x / n));
    }
    if (random() < 0.5) q[2] = q[2].map((x) => -x);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) out[9 * t + 3 * i + j] = q[i][j];
  }
  return out;
}

const f32 = (a) => Float64Array.from(new Float32Array(a));

/**
 * Plane values: a smooth random field (a few sinusoids over the normalised coordinates) plus
 * pixel noise of amplitude min(1, 8/N). Pure noise on a 200-pixel plane would make float32
 * results differ from the float64 reference by ~1e-5 from coordinate rounding alone (slope ×
 * (N − 1)/2 × float32 epsilon), an error of the inputs' conditioning, not of the kernels.
 */
function planeData(n, H, W) {
  const out = new Float64Array(n);
  const HW = H * W;
  const noise = Math.min(1, 8 / Math.max(H, W));
  for (let m = 0; m < n / HW; m++) {
    const waves = [0, 1, 2].map(() => ({ a: 0.4 * random(), fx: 3 * random(), fy: 3 * random(), ph: 6.3 * random() }));
    for (let y = 0; y < H; y++) {
      const v = H > 1 ? (2 * y) / (H - 1) - 1 : 0;
      for (let x = 0; x < W; x++) {
        const u = W > 1 ? (2 * x) / (W - 1) - 1 : 0;
        let val = noise * (2 * random() - 1);
        for (const w of waves) val += w.a * Math.sin(Math.PI * (w.fx * u + w.fy * v) + w.ph);
        out[m * HW + y * W + x] = val;
      }
    }
  }
  return out;
}

/**
 * A problem: points U(−1.1, 1.1), rotations, planes U(−1, 1), gates, gradOut U(−1, 1). Values
 * are rounded to float32 first when `dtype` is float32, so the float64 reference sees exactly the
 * inputs the kernels get. With `margin`, points whose sampled coordinates come within `margin`
 * pixels of a kink of the bilinear interpolant (a grid line or the border) are redrawn, so that
 * coordinate gradients are comparable across precisions (they jump at kinks).
 */
function problem({ B, T, C, levels, gates, ortho = false, margin = 0 }, dtype) {
  const round = dtype === 'float32' ? f32 : (a) => a;
  const rotations = round(ortho ? orthogonalMatrices(T) : randomMatrices(T));
  const planes = levels.map(([H, W]) => ({ H, W, data: round(planeData(3 * T * C * H * W, H, W)) }));
  const points = round(randomArray(3 * B, -1.1, 1.1));
  if (margin > 0) {
    for (let b = 0; b < B; b++) {
      for (let tries = 0; tries < 1000 && kinkDistance(points, b, rotations, planes) < margin; tries++) {
        for (let j = 0; j < 3; j++) points[3 * b + j] = round([-1.1 + 2.2 * random()])[0];
      }
    }
  }
  const S = levels.length;
  const g = gates ?? new Array(S).fill(1);
  const gradOut = round(randomArray(B * S * T * C, -1, 1));
  return { B, T, C, S, dtype, rotations, planes, points, gates: g, gradOut, explicitGates: gates !== undefined };
}

function tensors(backend, pr) {
  const { B, T, C, dtype } = pr;
  return {
    points: make(backend, pr.points, [B, 3], dtype),
    rotations: make(backend, pr.rotations, [T, 3, 3], dtype),
    planes: pr.planes.map((p) => make(backend, p.data, [3 * T, C, p.H, p.W], dtype)),
    gradOut: make(backend, pr.gradOut, [B, pr.S * T * C], dtype),
  };
}

function disposeAll(x) {
  for (const v of Object.values(x)) {
    if (Array.isArray(v)) v.forEach((t) => t.dispose());
    else if (v && typeof v.dispose === 'function') v.dispose();
  }
}

async function runBackend(backend, pr, { sync = false, needs } = {}) {
  const x = tensors(backend, pr);
  try {
    const base = opts(backend, { points: x.points, rotations: x.rotations, planes: x.planes });
    if (pr.explicitGates) base.gates = pr.gates;
    const feats = sync ? rk.kplanes.sampleTiltedSync(base) : await rk.kplanes.sampleTilted(base);
    assert.deepStrictEqual([...feats.shape], [pr.B, pr.S * pr.T * pr.C]);
    assert.strictEqual(feats.dtype, pr.dtype);
    assert.strictEqual(feats.device, x.points.device);
    const bo = { ...base, gradOut: x.gradOut };
    if (needs) bo.needs = needs;
    const g = sync ? rk.kplanes.sampleTiltedBackwardSync(bo) : await rk.kplanes.sampleTiltedBackward(bo);
    const out = { features: await feats.toArray() };
    feats.dispose();
    if (g.planes) {
      out.planes = [];
      for (let s = 0; s < pr.S; s++) {
        assert.deepStrictEqual([...g.planes[s].shape], [3 * pr.T, pr.C, pr.planes[s].H, pr.planes[s].W]);
        out.planes.push(await g.planes[s].toArray());
        g.planes[s].dispose();
      }
    }
    if (g.points) {
      assert.deepStrictEqual([...g.points.shape], [pr.B, 3]);
      out.points = await g.points.toArray();
      g.points.dispose();
    }
    if (g.rotations) {
      assert.deepStrictEqual([...g.rotations.shape], [pr.T, 3, 3]);
      out.rotations = await g.rotations.toArray();
      g.rotations.dispose();
    }
    return out;
  } finally {
    disposeAll(x);
  }
}

function reference(pr) {
  return {
    features: forwardRef(pr.points, pr.rotations, pr.planes, pr.C, pr.gates),
    ...backwardRef(pr.points, pr.rotations, pr.planes, pr.C, pr.gates, pr.gradOut),
  };
}

// Tolerances: |err| <= rtol·|ref| + atol, atol relative to max|ref| for the gradients.
const TOL = {
  float64: { frtol: 1e-12, fatol: 1e-13, grtol: 1e-9, gatol: 1e-11 },
  float32: { frtol: 1e-4, fatol: 5e-6, grtol: 1e-3, gatol: 2e-5 },
};

function maxAbs(a) {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

function compare(got, want, dtype, what) {
  const t = TOL[dtype];
  assertClose(got.features, want.features, t.frtol, `${what} features`, t.fatol);
  if (want.planes && got.planes) {
    want.planes.forEach((w, s) => assertClose(got.planes[s], w, t.grtol, `${what} dL/dplanes[${s}]`, t.gatol * maxAbs(w)));
  }
  if (got.points) assertClose(got.points, want.points, t.grtol, `${what} dL/dpoints`, t.gatol * maxAbs(want.points));
  if (got.rotations) assertClose(got.rotations, want.rotations, t.grtol, `${what} dL/drotations`, t.gatol * maxAbs(want.rotations));
}

// (B, T, C, H, W) of the brief, plus a two-level case with gates
const CASES = [
  { name: '(37, 1, 1, 5, 5)', B: 37, T: 1, C: 1, levels: [[5, 5]] },
  { name: '(257, 3, 5, 7, 9)', B: 257, T: 3, C: 5, levels: [[7, 9]] },
  { name: '(4096, 4, 8, 200, 200)', B: 4096, T: 4, C: 8, levels: [[200, 200]], big: true },
  { name: '(2000, 8, 32, 50, 33)', B: 2000, T: 8, C: 32, levels: [[50, 33]], big: true },
  { name: 'two levels (300, 2, 4, [6×11, 13×4]) with gates', B: 300, T: 2, C: 4, levels: [[6, 11], [13, 4]], gates: [0.7, -1.3] },
];

const HOST = ['js', 'native'];

// One problem and reference per (case, dtype, rotations), shared by the backends.
const problemCache = new Map();
function cachedProblem(c, dtype, ortho) {
  const key = `${c.name} ${dtype} ${ortho}`;
  if (!problemCache.has(key)) {
    // float32 coordinate gradients are compared away from kinks (see problem())
    const pr = problem({ ...c, ortho, margin: dtype === 'float32' ? 2e-3 : 0 }, dtype);
    problemCache.set(key, { pr, want: reference(pr) });
  }
  return problemCache.get(key);
}

function skipUnless(ctx, backend) {
  if (backend === 'cuda') needCuda(ctx);
  else if (!backends().includes(backend)) ctx.skip();
}

// ---------------------------------------------------------------- tests

describe('kplanes.sampleTilted: forward and gradients against a float64 reference', function () {
  this.timeout(60000);
  for (const backend of ['js', 'native', 'cuda']) {
    describe(`backend ${backend}`, function () {
      before(function () {
        skipUnless(this, backend);
      });
      for (const c of CASES) {
        for (const dtype of backend === 'cuda' ? ['float32'] : ['float64', 'float32']) {
          for (const ortho of c.big ? [dtype === 'float32'] : [false, true]) {
            it(`${c.name} ${dtype} ${ortho ? 'orthogonal' : 'random'} rotations`, async function () {
              const { pr, want } = cachedProblem(c, dtype, ortho);
              const got = await runBackend(backend, pr, { sync: c.B === 37 });
              compare(got, want, dtype, `${backend} ${c.name} ${dtype}`);
            });
          }
        }
      }
    });
  }
});

describe('kplanes.sampleTilted: points on the border and on grid lines (float64)', function () {
  // Identity / permutation rotations so r = p exactly; coordinates on ±1, on interior grid
  // lines, beyond the border, and planes of height or width 1.
  function specialProblem(levels, T) {
    const perms = [
      [1, 0, 0, 0, 1, 0, 0, 0, 1],
      [0, 1, 0, 0, 0, 1, 1, 0, 0],
      [0, 0, 1, 1, 0, 0, 0, 1, 0],
    ];
    const rotations = new Float64Array(9 * T);
    for (let t = 0; t < T; t++) rotations.set(perms[t % 3], 9 * t);
    const vals = [-1, 1, -1.05, 1.2, 0];
    for (const [H, W] of levels) {
      for (const N of [H, W]) for (let j = 1; j < N - 1; j++) vals.push(-1 + (2 * j) / (N - 1));
    }
    const pts = [];
    for (let i = 0; i < 400; i++) {
      for (let j = 0; j < 3; j++) pts.push(random() < 0.7 ? vals[Math.floor(random() * vals.length)] : -1.1 + 2.2 * random());
    }
    const C = 3;
    const B = pts.length / 3;
    const planes = levels.map(([H, W]) => ({ H, W, data: randomArray(3 * T * C * H * W, -1, 1) }));
    const S = levels.length;
    return { B, T, C, S, dtype: 'float64', rotations, planes, points: Float64Array.from(pts), gates: new Array(S).fill(1), gradOut: randomArray(B * S * T * C, -1, 1), explicitGates: false };
  }
  for (const backend of ['js', 'native']) {
    it(`${backend}: matches the reference exactly on kinks`, async function () {
      skipUnless(this, backend);
      const pr = specialProblem([[5, 9], [1, 4], [6, 1]], 3);
      const got = await runBackend(backend, pr);
      compare(got, reference(pr), 'float64', `${backend} special points`);
    });
  }
  it('cuda (float32): border points match the reference', async function () {
    needCuda(this);
    const pr = specialProblem([[5, 9]], 3);
    const p32 = { ...pr, dtype: 'float32' };
    for (let i = 0; i < p32.points.length; i++) if (Math.abs(p32.points[i]) !== 1 && Math.abs(p32.points[i]) < 1) p32.points[i] = 0.123;
    p32.planes = p32.planes.map((p) => ({ ...p, data: f32(p.data) }));
    p32.gradOut = f32(p32.gradOut);
    const got = await runBackend('cuda', p32);
    compare(got, reference(p32), 'float32', 'cuda border points');
  });
});

describe('kplanes.sampleTiltedBackward: gradients against central finite differences (float64)', function () {
  const c = { B: 257, T: 3, C: 5, levels: [[7, 9], [4, 6]], gates: [0.9, 1.7] };
  for (const backend of HOST) {
    it(`${backend}: planes, points and rotations`, async function () {
      skipUnless(this, backend);
      const pr = problem(c, 'float64');
      // only points well inside (away from kinks) carry loss, so L is smooth in every input
      const interior = [];
      for (let b = 0; b < pr.B; b++) {
        if (kinkDistance(pr.points, b, pr.rotations, pr.planes) > 1e-3) interior.push(b);
        else pr.gradOut.fill(0, b * pr.S * pr.T * pr.C, (b + 1) * pr.S * pr.T * pr.C);
      }
      assert.ok(interior.length > 20, `only ${interior.length} interior points`);
      const loss = (p) => {
        const x = tensors(backend, p);
        const f = rk.kplanes.sampleTiltedSync({ points: x.points, rotations: x.rotations, planes: x.planes, gates: p.gates, backend });
        const a = f.toArraySync();
        disposeAll(x);
        f.dispose();
        let L = 0;
        for (let i = 0; i < a.length; i++) L += a[i] * p.gradOut[i];
        return L;
      };
      const got = await runBackend(backend, pr);
      const h = 1e-6;
      const fd = (mutate) => {
        const plus = mutate(h);
        const minus = mutate(-h);
        return (loss(plus) - loss(minus)) / (2 * h);
      };
      const check = (analytic, numeric, what) => {
        const tol = 1e-6 * Math.max(1, Math.abs(numeric));
        assert.ok(Math.abs(analytic - numeric) <= tol, `${what}: analytic ${analytic} vs finite difference ${numeric}`);
      };
      // planes: entries with a non-zero gradient
      for (let s = 0; s < pr.S; s++) {
        const g = got.planes[s];
        const nz = [];
        for (let i = 0; i < g.length; i++) if (g[i] !== 0) nz.push(i);
        for (let n = 0; n < 4; n++) {
          const i = nz[Math.floor(random() * nz.length)];
          const num = fd((d) => {
            const planes = pr.planes.map((p) => ({ ...p, data: p.data.slice() }));
            planes[s].data[i] += d;
            return { ...pr, planes };
          });
          check(g[i], num, `dL/dplanes[${s}][${i}]`);
        }
      }
      // points
      for (let n = 0; n < 6; n++) {
        const b = interior[Math.floor(random() * interior.length)];
        const j = n % 3;
        const num = fd((d) => {
          const points = pr.points.slice();
          points[3 * b + j] += d;
          return { ...pr, points };
        });
        check(got.points[3 * b + j], num, `dL/dpoints[${b}][${j}]`);
      }
      // rotations: every entry
      for (let i = 0; i < 9 * pr.T; i++) {
        const num = fd((d) => {
          const rotations = pr.rotations.slice();
          rotations[i] += d;
          return { ...pr, rotations };
        });
        check(got.rotations[i], num, `dL/drotations[${i}]`);
      }
    });
  }
});

describe('kplanes: backends agree with each other', function () {
  this.timeout(60000);
  const c = { B: 1500, T: 4, C: 8, levels: [[20, 30], [40, 17]], gates: [1.1, 0.4] };
  it('js and native (float64, float32)', async function () {
    skipUnless(this, 'native');
    for (const dtype of ['float64', 'float32']) {
      const pr = problem({ ...c, margin: 2e-3 }, dtype);
      const a = await runBackend('js', pr);
      const b = await runBackend('native', pr);
      compare(b, a, dtype, `native vs js ${dtype}`);
    }
  });
  it('cuda and native (float32)', async function () {
    needCuda(this);
    skipUnless(this, 'native');
    const pr = problem({ ...c, margin: 2e-3 }, 'float32');
    const a = await runBackend('native', pr);
    const b = await runBackend('cuda', pr);
    compare(b, a, 'float32', 'cuda vs native');
  });
  it('native is bitwise deterministic across thread counts', async function () {
    skipUnless(this, 'native');
    const pr = problem({ B: 3000, T: 3, C: 6, levels: [[30, 30], [15, 45]], gates: [1, 0.5] }, 'float32');
    const saved = process.env.RECON_KERNELS_THREADS;
    try {
      process.env.RECON_KERNELS_THREADS = '1';
      const a = await runBackend('native', pr);
      process.env.RECON_KERNELS_THREADS = '3';
      const b = await runBackend('native', pr);
      for (const key of ['features', 'points', 'rotations']) assert.deepStrictEqual(Buffer.from(b[key].buffer), Buffer.from(a[key].buffer), key);
      a.planes.forEach((p, s) => assert.deepStrictEqual(Buffer.from(b.planes[s].buffer), Buffer.from(p.buffer), `planes[${s}]`));
    } finally {
      if (saved === undefined) delete process.env.RECON_KERNELS_THREADS;
      else process.env.RECON_KERNELS_THREADS = saved;
    }
  });
  for (const backend of ['js', 'native', 'cuda']) {
    it(`${backend}: needs selects the gradients, default gates are 1`, async function () {
      skipUnless(this, backend);
      const pr = problem({ B: 50, T: 2, C: 3, levels: [[6, 7]] }, 'float32');
      const got = await runBackend(backend, pr, { needs: { planes: false, rotations: false } });
      assert.strictEqual(got.planes, undefined);
      assert.strictEqual(got.rotations, undefined);
      assert.ok(got.points);
      compare(got, reference(pr), 'float32', `${backend} needs`);
      const none = await runBackend(backend, pr, { needs: { planes: false, points: false, rotations: false } });
      assert.deepStrictEqual(Object.keys(none).sort(), ['features']);
    });
  }
});

describe('kplanes: bad inputs', function () {
  const T = 2, C = 3, B = 10;
  const mk = (shape, dtype = 'float32') => rk.zeros(shape, { dtype });
  const good = () => ({ points: mk([B, 3]), rotations: mk([T, 3, 3]), planes: [mk([3 * T, C, 4, 5]), mk([3 * T, C, 6, 2])] });
  const cases = [
    ['points of another dtype', (o) => ({ ...o, points: mk([B, 3], 'float64') }), 'DTYPE_MISMATCH'],
    ['complex points', (o) => ({ ...o, points: mk([B, 3], 'complex64') }), 'INVALID_DTYPE'],
    ['points [B, 2]', (o) => ({ ...o, points: mk([B, 2]) }), 'INVALID_SHAPE'],
    ['rotations [T, 3, 2]', (o) => ({ ...o, rotations: mk([T, 3, 2]) }), 'INVALID_SHAPE'],
    ["planes with 3T' != 3T", (o) => ({ ...o, planes: [mk([3 * T + 3, C, 4, 5])] }), 'INVALID_SHAPE'],
    ['planes with different C', (o) => ({ ...o, planes: [mk([3 * T, C, 4, 5]), mk([3 * T, C + 1, 4, 5])] }), 'INVALID_SHAPE'],
    ['3-D planes', (o) => ({ ...o, planes: [mk([3 * T, C, 4])] }), 'INVALID_SHAPE'],
    ['no planes', (o) => ({ ...o, planes: [] }), 'INVALID_ARGUMENT'],
    ['planes not an array', (o) => ({ ...o, planes: o.planes[0] }), 'INVALID_ARGUMENT'],
    ['a plane that is not a tensor', (o) => ({ ...o, planes: [new Float32Array(10)] }), 'INVALID_ARGUMENT'],
    ['NaN gate', (o) => ({ ...o, gates: [1, NaN] }), 'NON_FINITE'],
    ['wrong number of gates', (o) => ({ ...o, gates: [1] }), 'INVALID_ARGUMENT'],
    ['unknown backend', (o) => ({ ...o, backend: 'gpu' }), 'INVALID_ARGUMENT'],
    ['disposed points', (o) => {
      o.points.dispose();
      return o;
    }, 'DISPOSED'],
    ['disposed plane', (o) => {
      o.planes[1].dispose();
      return o;
    }, 'DISPOSED'],
  ];
  for (const [what, edit, code] of cases) {
    it(`${what} -> ${code}`, async function () {
      await assertCode(() => rk.kplanes.sampleTilted(edit(good())), code, `sampleTilted: ${what}`);
      await assertCode(() => rk.kplanes.sampleTiltedSync(edit(good())), code, `sampleTiltedSync: ${what}`);
      await assertCode(() => rk.kplanes.sampleTiltedBackwardSync({ ...edit(good()), gradOut: mk([B, 2 * T * C]) }), code, `sampleTiltedBackwardSync: ${what}`);
    });
  }
  it('missing options -> INVALID_ARGUMENT', async function () {
    await assertCode(() => rk.kplanes.sampleTilted(), 'INVALID_ARGUMENT', 'no options');
    await assertCode(() => rk.kplanes.sampleTiltedSync({ points: mk([B, 3]) }), 'INVALID_ARGUMENT', 'no rotations');
  });
  it('gradOut of the wrong shape or dtype, bad needs', async function () {
    await assertCode(() => rk.kplanes.sampleTiltedBackward({ ...good(), gradOut: mk([B, T * C]) }), 'INVALID_SHAPE', 'gradOut [B, T·C] for 2 levels');
    await assertCode(() => rk.kplanes.sampleTiltedBackward({ ...good(), gradOut: mk([B, 2 * T * C], 'float64') }), 'DTYPE_MISMATCH', 'gradOut float64');
    await assertCode(() => rk.kplanes.sampleTiltedBackward({ ...good() }), 'INVALID_ARGUMENT', 'no gradOut');
    await assertCode(() => rk.kplanes.sampleTiltedBackwardSync({ ...good(), gradOut: mk([B, 2 * T * C]), needs: { points: 'yes' } }), 'INVALID_ARGUMENT', 'needs.points');
  });
  it('wrong device: inputs on two devices, float64 on cuda', async function () {
    needCuda(this);
    const o = good();
    const cudaPoints = o.points.toSync('cuda');
    await assertCode(() => rk.kplanes.sampleTilted({ ...o, points: cudaPoints }), 'DEVICE_MISMATCH', 'points on cuda, rest on cpu');
    const d64 = { points: mk([B, 3], 'float64').toSync('cuda'), rotations: mk([T, 3, 3], 'float64').toSync('cuda'), planes: [mk([3 * T, C, 4, 5], 'float64').toSync('cuda')] };
    await assertCode(() => rk.kplanes.sampleTilted(d64), 'INVALID_DTYPE', 'float64 on cuda');
    await assertCode(() => rk.kplanes.sampleTilted({ ...d64, backend: 'native' }), 'INVALID_ARGUMENT', 'host backend for cuda tensors');
    cudaPoints.dispose();
    disposeAll(d64);
  });
  it('B = 0 gives empty features and zero gradients', async function () {
    for (const backend of backends().filter((b) => b !== 'cuda')) {
      const o = { ...good(), points: mk([0, 3]), backend };
      const f = await rk.kplanes.sampleTilted(o);
      assert.deepStrictEqual([...f.shape], [0, 2 * T * C]);
      const g = await rk.kplanes.sampleTiltedBackward({ ...o, gradOut: mk([0, 2 * T * C]) });
      assert.ok(g.planes.every((p) => p.toArraySync().every((v) => v === 0)));
      assert.ok(g.rotations.toArraySync().every((v) => v === 0));
    }
  });
});
