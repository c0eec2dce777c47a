'use strict';
// Parallel-beam tomography: the matched projector pair, SIRT / CGLS / FBP / TV-min, phantoms,
// backends agreeing, and error codes. ASTRA's scaling checks run on the fastest host backend.
const assert = require('assert');
const { rk, random, randomArray, caps, backends, needCuda, assertClose, assertCode } = require('./helpers');

const { tomo, phantom, tensor } = rk;
const HOST = caps.addon.loaded ? 'native' : 'js';

function dot(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function dev(backend) {
  return backend === 'cuda' ? 'cuda' : 'cpu';
}

function bo(backend) {
  return backend === 'cuda' ? {} : { backend };
}

/** Angles spread over all four quadrants, including the axes and the diagonals. */
function quadrantAngles(n) {
  const a = [0, Math.PI / 4, Math.PI / 2, (3 * Math.PI) / 4, Math.PI, -Math.PI / 2, (5 * Math.PI) / 4, (7 * Math.PI) / 4];
  while (a.length < n) a.push(-2 * Math.PI + 4 * Math.PI * random());
  return Float64Array.from(a);
}

function centreMean(v, shape, lo, hi) {
  const [Z, Y, X] = shape;
  let s = 0;
  let n = 0;
  for (let z = lo[0]; z < hi[0]; z++) for (let y = lo[1]; y < hi[1]; y++) for (let x = lo[2]; x < hi[2]; x++) {
    s += v[(z * Y + y) * X + x];
    n++;
  }
  void Z;
  return s / n;
}

/** Deterministic Poisson noise in the transmission model (photon count I0, peak attenuation 2). */
function noisy(sino, I0, seed) {
  let st = seed >>> 0;
  const rnd = () => {
    st = (st + 0x6d2b79f5) >>> 0;
    let t = st;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let mx = 0;
  for (const v of sino) mx = Math.max(mx, v);
  const alpha = 2 / mx;
  const out = new Float64Array(sino.length);
  for (let i = 0; i < sino.length; i++) {
    const lam = I0 * Math.exp(-alpha * sino[i]);
    const g = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    const c = Math.max(1, Math.round(lam + Math.sqrt(lam) * g));
    out[i] = -Math.log(c / I0) / alpha;
  }
  return out;
}

function psnr(a, ref) {
  let lo = Infinity;
  let hi = -Infinity;
  let m = 0;
  for (let i = 0; i < ref.length; i++) {
    lo = Math.min(lo, ref[i]);
    hi = Math.max(hi, ref[i]);
    m += (a[i] - ref[i]) ** 2;
  }
  return 10 * Math.log10(((hi - lo) ** 2 * ref.length) / m);
}

describe('tomo: parallel-beam projector', function () {
  this.timeout(120000);

  const CASES = [
    { name: '2-D even', vol: [1, 16, 16], det: [1, 24] },
    { name: '2-D odd', vol: [1, 17, 13], det: [1, 21] },
    { name: '3-D odd/even, rows = Z', vol: [5, 12, 11], det: [5, 17] },
    { name: '3-D, more rows than slices, other pixel sizes', vol: [4, 10, 9], det: [7, 16], pixelSize: [0.7, 1.3], voxelSize: 1.1 },
  ];

  for (const backend of backends()) {
    for (const dtype of ['float32', 'float64']) {
      for (const c of CASES) {
        it(`adjoint identity on ${backend} ${dtype}: ${c.name}`, function () {
          if (backend === 'cuda') needCuda(this);
          const angles = quadrantAngles(14);
          const A = tomo.parallelBeam({ volume: c.vol, angles, detector: { rows: c.det[0], cols: c.det[1] }, pixelSize: c.pixelSize, voxelSize: c.voxelSize });
          const [Z, Y, X] = c.vol;
          // positive values: the inner products do not cancel, so the relative gap is meaningful
          const x = randomArray(Z * Y * X, 0, 1);
          const y = randomArray(c.det[0] * angles.length * c.det[1], 0, 1);
          const xt = tensor(x, { shape: c.vol, dtype, device: dev(backend) });
          const yt = tensor(y, { shape: A.sinogramShape, dtype, device: dev(backend) });
          const modes = backend === 'native' ? ['scatter', 'gather'] : ['scatter'];
          const Ax = A.forwardSync(xt, bo(backend)).toArraySync();
          const xs = xt.toArraySync();
          const ys = yt.toArraySync();
          for (const mode of modes) {
            const Aty = A.adjointSync(yt, { ...bo(backend), adjointMode: backend === 'native' ? mode : undefined }).toArraySync();
            const l = dot(Ax, ys);
            const r = dot(xs, Aty);
            const gap = Math.abs(l - r) / Math.max(Math.abs(l), Math.abs(r));
            assert.ok(gap < (dtype === 'float32' ? 1e-5 : 1e-12), `${mode}: ⟨Ax, y⟩ = ${l}, ⟨x, Aᵀy⟩ = ${r}, gap ${gap}`);
          }
          A.dispose();
        });
      }
    }
  }

  it('line integrals: a uniform square seen along an axis gives its side length', function () {
    const A = tomo.parallelBeam({ volume: [8, 8], angles: [0, Math.PI / 2], detector: { cols: 8 }, voxelSize: 0.5, pixelSize: 0.5 });
    const x = tensor(new Float64Array(64).fill(1), { shape: [8, 8] });
    for (const backend of backends().filter((b) => b !== 'cuda')) {
      const y = A.forwardSync(x, { backend });
      assert.deepStrictEqual(y.shape, [2, 8]);
      for (const v of y.toArraySync()) assert.ok(Math.abs(v - 4) < 1e-12, `${backend}: ${v}`);
    }
  });

  it('norm() by power iteration matches √(⟨AᵀAx, x⟩/⟨x, x⟩) at its fixed point', function () {
    const A = tomo.parallelBeam({ volume: [1, 24, 24], angles: 30, detector: { cols: 36 } });
    const n = A.normSync({ iterations: 60 });
    const n2 = A.normSync({ iterations: 60, backend: 'js' });
    assert.ok(Math.abs(n - n2) / n < 1e-6, `${n} vs ${n2}`);
    // ‖A·1‖ / ‖1‖ is a lower bound
    const one = tensor(new Float64Array(576).fill(1), { shape: [1, 24, 24] });
    const a1 = A.forwardSync(one).toArraySync();
    assert.ok(n >= Math.sqrt(dot(a1, a1) / 576) * 0.999);
  });

  for (const backend of backends()) {
    it(`backends agree with js: forward, adjoint, fbp, sirt, cgls, tvMin on ${backend}`, async function () {
      if (backend === 'js') this.skip();
      if (backend === 'cuda') needCuda(this);
      const A = tomo.parallelBeam({ volume: [3, 20, 18], angles: quadrantAngles(12), detector: { rows: 3, cols: 27 } });
      const x = randomArray(3 * 20 * 18, 0, 1);
      for (const dtype of ['float64', 'float32']) {
        const tol = dtype === 'float32' ? 2e-4 : 1e-10;
        const xj = tensor(x, { shape: [3, 20, 18], dtype });
        const xb = tensor(x, { shape: [3, 20, 18], dtype, device: dev(backend) });
        const yj = A.forwardSync(xj, { backend: 'js' });
        const yb = A.forwardSync(xb, bo(backend));
        assertClose(yb.toArraySync(), yj.toArraySync(), tol, `forward ${dtype}`);
        assertClose(A.adjointSync(yb, bo(backend)).toArraySync(), A.adjointSync(yj, { backend: 'js' }).toArraySync(), tol, `adjoint ${dtype}`);
        assertClose((await tomo.fbp(A, yb, bo(backend))).toArraySync(), (await tomo.fbp(A, yj, { backend: 'js' })).toArraySync(), tol, `fbp ${dtype}`);
        assertClose((await tomo.sirt(A, yb, { ...bo(backend), iterations: 5, min: 0 })).toArraySync(), (await tomo.sirt(A, yj, { backend: 'js', iterations: 5, min: 0 })).toArraySync(), tol * 10, `sirt ${dtype}`);
        assertClose((await tomo.cgls(A, yb, { ...bo(backend), iterations: 4 })).toArraySync(), (await tomo.cgls(A, yj, { backend: 'js', iterations: 4 })).toArraySync(), tol * 10, `cgls ${dtype}`);
        const normA = A.normSync();
        assertClose((await tomo.tvMin(A, yb, { ...bo(backend), lambda: 0.5, iterations: 5, normA })).toArraySync(), (await tomo.tvMin(A, yj, { backend: 'js', lambda: 0.5, iterations: 5, normA })).toArraySync(), tol * 10, `tvMin ${dtype}`);
      }
    });
  }
});

describe('tomo: reconstructions', function () {
  this.timeout(120000);

  it(`ASTRA scaling 2-D: unit square at [50:70]², 128², 256 cols, 180 angles: SIRT 50 and FBP give 1 (${HOST})`, async function () {
    const A = tomo.parallelBeam({ volume: [1, 128, 128], angles: 180, detector: { rows: 1, cols: 256 } });
    const x = phantom.box([1, 128, 128], { lo: [0, 50, 50], hi: [1, 70, 70] });
    const y = A.forwardSync(x, { backend: HOST });
    const s = await tomo.sirt(A, y, { iterations: 50, backend: HOST });
    const f = await tomo.fbp(A, y, { backend: HOST });
    const ms = centreMean(s.toArraySync(), [1, 128, 128], [0, 55, 55], [1, 65, 65]);
    const mf = centreMean(f.toArraySync(), [1, 128, 128], [0, 55, 55], [1, 65, 65]);
    assert.ok(Math.abs(ms - 1) < 0.05, `SIRT mean ${ms}`);
    assert.ok(Math.abs(mf - 1) < 0.05, `FBP mean ${mf}`);
  });

  it('ASTRA scaling 3-D: cube at [25:35]³ in 64³, 128² detector, 180 angles, SIRT 200 gives 1 (native)', async function () {
    if (!caps.addon.loaded) this.skip(); // too slow on js
    const A = tomo.parallelBeam({ volume: [64, 64, 64], angles: 180, detector: { rows: 128, cols: 128 } });
    const x = phantom.box([64, 64, 64], { lo: [25, 25, 25], hi: [35, 35, 35] });
    const y = A.forwardSync(x, { backend: 'native' });
    const s = await tomo.sirt(A, y, { iterations: 200, backend: 'native' });
    const m = centreMean(s.toArraySync(), [64, 64, 64], [28, 28, 28], [33, 33, 33]);
    assert.ok(Math.abs(m - 1) < 0.05, `SIRT mean ${m}`);
  });

  for (const backend of backends().filter((b) => b !== 'cuda')) {
    it(`SIRT: the weighted residual falls monotonically on noise-free data, and restarts exactly (${backend})`, async function () {
      const A = tomo.parallelBeam({ volume: [1, 40, 40], angles: 45, detector: { cols: 60 } });
      const y = A.forwardSync(phantom.sheppLogan([40, 40], { dtype: 'float64' }).reshape([1, 40, 40]), { backend });
      const ys = y.toArraySync();
      const R = A.forwardSync(tensor(new Float64Array(1600).fill(1), { shape: [1, 40, 40] }), { backend }).toArraySync();
      let x = undefined;
      let prev = Infinity;
      for (let k = 0; k < 12; k++) {
        x = await tomo.sirt(A, y, { iterations: 1, x0: x, backend });
        const ax = A.forwardSync(x, { backend }).toArraySync();
        let r = 0;
        for (let i = 0; i < ax.length; i++) if (R[i] > 1e-6) r += ((ys[i] - ax[i]) ** 2) / R[i];
        assert.ok(r < prev, `iteration ${k + 1}: weighted residual ${r} after ${prev}`);
        prev = r;
      }
      const a = await tomo.sirt(A, y, { iterations: 10, min: 0, backend });
      const b = await tomo.sirt(A, y, { iterations: 10, min: 0, x0: a, backend });
      const c = await tomo.sirt(A, y, { iterations: 20, min: 0, backend });
      assert.deepStrictEqual(Array.from(b.toArraySync()), Array.from(c.toArraySync()), '10 + 10 iterations differ from 20');
      let progress = 0;
      await tomo.sirt(A, y, { iterations: 3, backend, onProgress: (i, n) => { assert.strictEqual(n, 3); progress = i; } });
      assert.strictEqual(progress, 3);
    });
  }

  it(`FBP on a 100² Shepp-Logan, 180 angles: mean absolute error below 0.025 of the range (${HOST})`, async function () {
    // detector pixels of half a voxel (300 × 0.5 covers the diagonal); with pixel = voxel the
    // interpolation blur of the skull edge gives ≈ 0.028
    const A = tomo.parallelBeam({ volume: [100, 100], angles: 180, detector: { cols: 300 }, pixelSize: 0.5 });
    const x = phantom.sheppLogan([100, 100], { dtype: 'float64' });
    const r = (await tomo.fbp(A, A.forwardSync(x, { backend: HOST }), { backend: HOST })).toArraySync();
    const xs = x.toArraySync();
    let mae = 0;
    for (let i = 0; i < xs.length; i++) mae += Math.abs(r[i] - xs[i]);
    mae /= xs.length;
    assert.ok(mae < 0.025, `MAE ${mae}`);
    for (const filter of ['shepp-logan', 'cosine', 'hann']) {
      const f = (await tomo.fbp(A, A.forwardSync(x, { backend: HOST }), { backend: HOST, filter, padding: false })).toArraySync();
      assert.ok(Math.abs(centreMean(f, [1, 100, 100], [0, 45, 45], [1, 55, 55]) - centreMean(xs, [1, 100, 100], [0, 45, 45], [1, 55, 55])) < 0.05, filter);
    }
  });

  it(`CGLS reduces the residual and beats 20 SIRT iterations on noise-free data (${HOST})`, async function () {
    const A = tomo.parallelBeam({ volume: [48, 48], angles: 60, detector: { cols: 70 } });
    const x = phantom.sheppLogan([48, 48], { dtype: 'float64' });
    const y = A.forwardSync(x, { backend: HOST });
    const c = await tomo.cgls(A, y, { iterations: 20, backend: HOST });
    const s = await tomo.sirt(A, y, { iterations: 20, backend: HOST });
    const res = (t) => {
      const ax = A.forwardSync(t, { backend: HOST }).toArraySync();
      const ys = y.toArraySync();
      let r = 0;
      for (let i = 0; i < ys.length; i++) r += (ys[i] - ax[i]) ** 2;
      return Math.sqrt(r);
    };
    assert.ok(res(c) < 0.05 * Math.sqrt(dot(y.toArraySync(), y.toArraySync())));
    assert.ok(res(c) < res(s), `${res(c)} vs ${res(s)}`);
  });

  it(`TV-min beats SIRT in PSNR on noisy Shepp-Logan data (96², 120 angles, ${HOST})`, async function () {
    const n = 96;
    const A = tomo.parallelBeam({ volume: [n, n], angles: 120, detector: { cols: 144 } });
    const x = phantom.sheppLogan([n, n]);
    const y = tensor(noisy(A.forwardSync(x, { backend: HOST }).toArraySync(), 1e4, 7), { shape: [120, 144], dtype: 'float32' });
    const s = await tomo.sirt(A, y, { iterations: 100, min: 0, backend: HOST });
    const f = await tomo.fbp(A, y, { backend: HOST, filter: 'hann' });
    const t = await tomo.tvMin(A, y, { lambda: 1, iterations: 100, min: 0, x0: f, backend: HOST });
    const xs = x.toArraySync();
    const ps = psnr(s.toArraySync(), xs);
    const pt = psnr(t.toArraySync(), xs);
    assert.ok(pt > ps + 1, `TV ${pt} dB vs SIRT ${ps} dB`);
  });

  it('TV-min in 3-D runs and keeps the mean', async function () {
    const A = tomo.parallelBeam({ volume: [6, 16, 16], angles: 24, detector: { rows: 6, cols: 24 } });
    const x = phantom.box([6, 16, 16], { lo: [1, 4, 4], hi: [5, 12, 12], dtype: 'float64' });
    const y = A.forwardSync(x);
    const t = await tomo.tvMin(A, y, { lambda: 0.05, iterations: 60, min: 0 });
    const m = centreMean(t.toArraySync(), [6, 16, 16], [2, 6, 6], [4, 10, 10]);
    assert.ok(Math.abs(m - 1) < 0.1, `mean ${m}`);
  });
});

describe('phantom', function () {
  it('Shepp-Logan: 2-D range [0, 1], known values; 3-D has the same centre slice structure', function () {
    const p = phantom.sheppLogan([64, 64], { dtype: 'float64' }).toArraySync();
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of p) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    assert.strictEqual(lo, 0);
    assert.ok(Math.abs(hi - 1) < 1e-12);
    assert.ok(Math.abs(p[32 * 64 + 32] - 0.2) < 1e-12, `centre ${p[32 * 64 + 32]}`);
    const q = phantom.sheppLogan([1, 64, 64], { dtype: 'float64' }).toArraySync();
    assert.deepStrictEqual(Array.from(q), Array.from(p));
    const v = phantom.sheppLogan([16, 32, 32]);
    assert.deepStrictEqual(v.shape, [16, 32, 32]);
    assert.ok(Math.abs(v.toArraySync()[(8 * 32 + 16) * 32 + 16] - 0.2) < 1e-6);
  });

  it('box', function () {
    const b = phantom.box([4, 5], { lo: [1, 2], hi: [3, 9], value: 2 }).toArraySync();
    assert.deepStrictEqual(Array.from(b), [0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 0, 0, 2, 2, 2, 0, 0, 0, 0, 0]);
  });
});

describe('tomo: errors', function () {
  const A = tomo.parallelBeam({ volume: [1, 8, 8], angles: 4, detector: { cols: 12 } });
  const x = tensor(new Float32Array(64), { shape: [1, 8, 8] });
  const y = tensor(new Float32Array(48), { shape: [1, 4, 12] });

  it('bad geometry', async function () {
    await assertCode(() => tomo.parallelBeam({ volume: [8], angles: 4, detector: { cols: 8 } }), 'INVALID_SHAPE', 'volume rank');
    await assertCode(() => tomo.parallelBeam({ volume: [8, 0], angles: 4, detector: { cols: 8 } }), 'INVALID_SHAPE', 'zero size');
    await assertCode(() => tomo.parallelBeam({ volume: [8, 8], angles: [0, NaN], detector: { cols: 8 } }), 'NON_FINITE', 'NaN angle');
    await assertCode(() => tomo.parallelBeam({ volume: [8, 8], angles: 'x', detector: { cols: 8 } }), 'INVALID_ARGUMENT', 'angles type');
    await assertCode(() => tomo.parallelBeam({ volume: [8, 8], angles: 4, detector: { cols: 8.5 } }), 'INVALID_SHAPE', 'cols');
    await assertCode(() => tomo.parallelBeam({ volume: [8, 8], angles: 4, detector: { cols: 8 }, voxelSize: -1 }), 'INVALID_ARGUMENT', 'voxelSize');
    await assertCode(() => tomo.parallelBeam({ volume: [8, 8], angles: 4 }), 'INVALID_ARGUMENT', 'detector');
  });

  it('bad tensors', async function () {
    await assertCode(() => A.forward(y), 'INVALID_SHAPE', 'forward of a sinogram');
    await assertCode(() => A.adjointSync(x), 'INVALID_SHAPE', 'adjoint of a volume');
    await assertCode(() => A.forward(tensor(new Float32Array(128), { shape: [1, 8, 8], dtype: 'complex64' })), 'INVALID_DTYPE', 'complex');
    await assertCode(() => A.forward(x, { out: tensor(new Float64Array(48), { shape: [1, 4, 12] }) }), 'DTYPE_MISMATCH', 'out dtype');
    await assertCode(() => A.forward(x, { out: tensor(new Float32Array(40)) }), 'INVALID_SHAPE', 'out size');
    await assertCode(() => A.forward(x, { backend: 'gpu' }), 'INVALID_ARGUMENT', 'backend');
    const d = tensor(new Float32Array(64), { shape: [1, 8, 8] });
    d.dispose();
    await assertCode(() => A.forward(d), 'DISPOSED', 'disposed');
    await assertCode(() => A.forward('x'), 'INVALID_ARGUMENT', 'not a tensor');
  });

  it('bad algorithm options', async function () {
    await assertCode(() => tomo.sirt(A, x), 'INVALID_SHAPE', 'sirt of a volume');
    await assertCode(() => tomo.sirt(A, y, { iterations: -1 }), 'INVALID_ARGUMENT', 'iterations');
    await assertCode(() => tomo.sirt(A, y, { x0: y }), 'INVALID_SHAPE', 'x0 shape');
    await assertCode(() => tomo.sirt(A, y, { x0: tensor(new Float64Array(64), { shape: [1, 8, 8] }) }), 'DTYPE_MISMATCH', 'x0 dtype');
    await assertCode(() => tomo.sirt({}, y), 'INVALID_ARGUMENT', 'not an operator');
    await assertCode(() => tomo.fbp(A, y, { filter: 'parzen' }), 'INVALID_ARGUMENT', 'filter');
    await assertCode(() => tomo.tvMin(A, y, {}), 'INVALID_ARGUMENT', 'lambda missing');
    await assertCode(() => tomo.tvMin(A, y, { lambda: -1 }), 'INVALID_ARGUMENT', 'lambda < 0');
    await assertCode(() => tomo.cgls(A, y, { onProgress: 3 }), 'INVALID_ARGUMENT', 'onProgress');
    await assertCode(() => phantom.sheppLogan([0, 4]), 'INVALID_SHAPE', 'phantom shape');
    await assertCode(() => phantom.box([4, 4], { lo: [0], hi: [2, 2] }), 'INVALID_ARGUMENT', 'box lo');
  });

  it('cuda: results stay on the device and match native', async function () {
    needCuda(this);
    const B = tomo.parallelBeam({ volume: [2, 32, 32], angles: 40, detector: { rows: 2, cols: 48 } });
    const xh = phantom.sheppLogan([2, 32, 32]);
    const xd = phantom.sheppLogan([2, 32, 32], { device: 'cuda' });
    const yd = B.forwardSync(xd);
    assert.strictEqual(yd.device, 'cuda:0');
    const s = await tomo.sirt(B, yd, { iterations: 10, min: 0 });
    assert.strictEqual(s.device, 'cuda:0');
    const sh = await tomo.sirt(B, B.forwardSync(xh, { backend: 'native' }), { iterations: 10, min: 0, backend: 'native' });
    assertClose(s.toArraySync(), sh.toArraySync(), 1e-4, 'sirt cuda vs native');
    B.dispose();
  });
});
