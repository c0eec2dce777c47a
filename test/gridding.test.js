'use strict';
// gridding.spread / gridding.interp and mri.densityCompensation on the native and CUDA backends:
// native against the js reference (float64 and float32, d = 1..3, odd and even grids, widths
// 2..16, batches, gradients, points over several periods), against an independent float64
// direct sum of the definition, spread/interp adjointness, gradient rows against central
// differences, bit-identical spreading across thread counts, bad inputs; then the same
// comparisons for CUDA tensors (skipped without a GPU). Inputs are fresh random each run.
const assert = require('assert');
const { rk, caps, needCuda, assertClose, assertCode } = require('./helpers');
const { rnd, cdot, randomPoints: pointsOver } = require('./nufft-test-utils');
/** Points [d, M] over ±7π (several periods, negative coordinates included). */
const randomPoints = (d, M, T = Float64Array) => pointsOver(d, M, T, 7);
const params = require('../dist/lib/nufft/params.js');
const { loadAddon } = require('../dist/lib/loader.js');
const { defaultHostBackend } = require('../dist/lib/backend.js');

const { gridding, mri, tensor } = rk;
const REAL = { complex64: 'float32', complex128: 'float64' };
const ARR = { complex64: Float32Array, complex128: Float64Array };
const prod = (a) => a.reduce((x, y) => x * y, 1);

function maxAbs(a) {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

/** A random problem: points, strengths (with gradient rows when asked) and a grid. */
function problem(d, n, M, nt, gradient, dtype) {
  const T = ARR[dtype], rows = gradient ? 1 + d : 1;
  const lead = nt > 1 ? [nt] : [];
  return {
    P: tensor(randomPoints(d, M, T), { shape: [d, M], dtype: REAL[dtype] }),
    C: tensor(rnd(2 * nt * rows * M, T), { shape: [...lead, ...(gradient ? [rows] : []), M], dtype }),
    G: tensor(rnd(2 * nt * prod(n), T), { shape: [...lead, ...n], dtype }),
  };
}

/**
 * Direct float64 sum of the definition: grid[g] = Σ_j c_j·W(g, x_j) + Σ_a d_{j,a}·∂W/∂x_{j,a},
 * W = Π_a φ((g_a − y_a)/(w/2)) periodically, φ = I0(β√(1−z²))/I0(β) by its power series.
 */
function directSpread(pts, M, n, c, gradient, width, beta) {
  const d = n.length, i0 = params.besselI0(beta), half = width / 2;
  const grid = new Float64Array(2 * prod(n));
  for (let j = 0; j < M; j++) {
    const phi = [], dphi = [];
    for (let a = 0; a < d; a++) {
      const y = (pts[a * M + j] / (2 * Math.PI)) * n[a];
      phi.push(new Float64Array(n[a]));
      dphi.push(new Float64Array(n[a]));
      for (let g = 0; g < n[a]; g++) {
        let t = g - y;
        t -= n[a] * Math.round(t / n[a]);
        const z = t / half;
        phi[a][g] = params.kbKernel(z, beta) / i0;
        // ∂/∂x = φ'(z)·(−1/half)·(n/2π)
        dphi[a][g] = (params.kbKernelDerivative(z, beta) / i0) * (-1 / half) * (n[a] / (2 * Math.PI));
      }
    }
    for (let flat = 0; flat < prod(n); flat++) {
      const idx = [];
      let r = flat;
      for (let a = d - 1; a >= 0; a--) { idx[a] = r % n[a]; r = Math.floor(r / n[a]); }
      let wv = 1;
      for (let a = 0; a < d; a++) wv *= phi[a][idx[a]];
      grid[2 * flat] += c[2 * j] * wv;
      grid[2 * flat + 1] += c[2 * j + 1] * wv;
      for (let a = 0; gradient && a < d; a++) {
        let dw = dphi[a][idx[a]];
        for (let b = 0; b < d; b++) if (b !== a) dw *= phi[b][idx[b]];
        const o = 2 * ((1 + a) * M + j);
        grid[2 * flat] += c[o] * dw;
        grid[2 * flat + 1] += c[o + 1] * dw;
      }
    }
  }
  return grid;
}

function withThreads(n, fn) {
  const saved = process.env.RECON_KERNELS_THREADS;
  process.env.RECON_KERNELS_THREADS = String(n);
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.RECON_KERNELS_THREADS;
    else process.env.RECON_KERNELS_THREADS = saved;
  }
}

const CASES = [
  { d: 1, n: [37], M: 300, widths: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16] },
  { d: 1, n: [64], M: 300, widths: [2, 7, 16] },
  { d: 2, n: [20, 33], M: 300, widths: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16] },
  { d: 2, n: [48, 32], M: 300, widths: [4, 9] },
  { d: 3, n: [17, 16, 19], M: 150, widths: [2, 3, 5, 8, 11, 16] },
  { d: 3, n: [16, 18, 20], M: 150, widths: [4, 7] },
];

/**
 * Every (case, width) with and without the gradient, a fresh random problem each; dtype and
 * batch size rotate across widths so every combination shows up somewhere. k counts widths.
 */
function* comparisonCases() {
  let k = 0;
  for (const { d, n, M, widths } of CASES) {
    for (const width of widths) {
      const dtype = k % 3 === 2 ? 'complex64' : 'complex128';
      const nt = k % 2 === 0 ? 3 : 1;
      for (const gradient of [false, true]) {
        const { P, C, G } = problem(d, n, M, nt, gradient, dtype);
        const rtol = dtype === 'complex64' ? 3e-7 : 1e-13;
        yield { k, n, P, C, G, o: { width, gradient }, dtype, rtol, what: `d=${d} n=${n} w=${width} nt=${nt} ${dtype} gradient=${gradient}` };
      }
      k++;
    }
  }
}

describe('gridding native backend', function () {
  before(function () {
    if (!caps.addon.loaded) {
      if (process.env.RECON_KERNELS_REQUIRE_NATIVE === '1') assert.fail('RECON_KERNELS_REQUIRE_NATIVE=1 but the addon did not load');
      this.skip();
    }
  });

  it('is the default host backend and equals js to rounding (d = 1..3, odd/even grids, widths 2..16, batches, gradients, float64 and float32)', async () => {
    for (const { k, n, P, C, G, o, dtype, rtol, what } of comparisonCases()) {
      const sJs = gridding.spreadSync(P, C, n, { ...o, backend: 'js' });
      const sNat = gridding.spreadSync(P, C, n, o);
      if (k === 0) {
        // The default is native: bit-identical to asking for it.
        assert.strictEqual(defaultHostBackend(), 'native');
        assert.ok(Buffer.from(sNat.toArraySync().buffer).equals(Buffer.from(gridding.spreadSync(P, C, n, { ...o, backend: 'native' }).toArraySync().buffer)));
      }
      assert.strictEqual(sNat.dtype, dtype);
      assert.deepStrictEqual(sNat.shape, sJs.shape);
      assertClose(sNat.toArraySync(), sJs.toArraySync(), rtol, `spread ${what}`);
      const iJs = gridding.interpSync(P, G, { ...o, backend: 'js' });
      const iNat = await gridding.interp(P, G, { ...o, backend: 'native' });
      assert.deepStrictEqual(iNat.shape, iJs.shape);
      assertClose(iNat.toArraySync(), iJs.toArraySync(), rtol, `interp ${what}`);
    }
  });

  it('matches a direct float64 sum of the definition (normalised φ, gradient rows, several periods)', () => {
    for (const [n, width, upsampfac] of [[[23], 7, 2], [[12, 15], 5, 2], [[10, 9, 11], 4, 1.25], [[16, 18], 16, 1.25]]) {
      const d = n.length, M = 7;
      const pts = randomPoints(d, M);
      for (const gradient of [false, true]) {
        const c = rnd(2 * (gradient ? 1 + d : 1) * M);
        const got = gridding.spreadSync(tensor(pts, { shape: [d, M] }), tensor(c, { shape: gradient ? [1 + d, M] : [M], dtype: 'complex128' }), n, { width, upsampfac, gradient, backend: 'native' }).toArraySync();
        const k = gridding.kernel({ width, upsampfac });
        const ref = directSpread(pts, M, n, c, gradient, width, k.beta);
        assertClose(got, ref, 1e-12, `n=${n} w=${width} σ=${upsampfac} gradient=${gradient}`);
      }
    }
  });

  it('interp is the adjoint of spread, with and without gradient rows', () => {
    for (const { d, n } of [{ d: 1, n: [41] }, { d: 2, n: [18, 25] }, { d: 3, n: [9, 12, 10] }]) {
      for (const dtype of ['complex128', 'complex64']) {
        for (const gradient of [false, true]) {
          const { P, C, G } = problem(d, n, 120, 2, gradient, dtype);
          const o = { width: 6, gradient, backend: 'native' };
          const lhs = cdot(gridding.spreadSync(P, C, n, o).toArraySync(), G.toArraySync());
          const rhs = cdot(C.toArraySync(), gridding.interpSync(P, G, o).toArraySync());
          const tol = dtype === 'complex64' ? 1e-5 : 1e-12;
          assert.ok(Math.hypot(lhs[0] - rhs[0], lhs[1] - rhs[1]) <= tol * Math.hypot(...lhs), `d=${d} ${dtype} gradient=${gradient}: ${lhs} vs ${rhs}`);
        }
      }
    }
  });

  it('gradient rows match central differences in the point coordinates (interp and spread)', () => {
    const h = 1e-6;
    for (const n of [[29], [14, 17], [12, 11, 13]]) {
      const d = n.length, M = 9;
      const pts = randomPoints(d, M);
      const o = { eps: 1e-10, backend: 'native' };
      const Pt = (p) => tensor(p, { shape: [d, M] });
      // interp: row 1+a is ∂v/∂x_a
      const G = tensor(rnd(2 * prod(n)), { shape: n, dtype: 'complex128' });
      const I = gridding.interpSync(Pt(pts), G, { ...o, gradient: true }).toArraySync();
      // spread: with strengths (c, c·δ) the derivative rows add d/dh spread(c at x + hδ)
      const c = rnd(2 * M), delta = rnd(d * M);
      const cg = new Float64Array(2 * (1 + d) * M);
      cg.set(c);
      for (let a = 0; a < d; a++) for (let j = 0; j < M; j++) {
        cg[2 * ((1 + a) * M + j)] = c[2 * j] * delta[a * M + j];
        cg[2 * ((1 + a) * M + j) + 1] = c[2 * j + 1] * delta[a * M + j];
      }
      const C = tensor(c, { shape: [M], dtype: 'complex128' });
      const S0 = gridding.spreadSync(Pt(pts), C, n, o).toArraySync();
      const SG = gridding.spreadSync(Pt(pts), tensor(cg, { shape: [1 + d, M], dtype: 'complex128' }), n, { ...o, gradient: true }).toArraySync();
      const pp = pts.map((x, i) => x + h * delta[i]), pm = pts.map((x, i) => x - h * delta[i]);
      const Sp = gridding.spreadSync(Pt(pp), C, n, o).toArraySync(), Sm = gridding.spreadSync(Pt(pm), C, n, o).toArraySync();
      assertClose(SG.map((v, i) => v - S0[i]), Sp.map((v, i) => (v - Sm[i]) / (2 * h)), 1e-6, `spread gradient n=${n}`);
      for (let a = 0; a < d; a++) {
        const qp = pts.slice(), qm = pts.slice();
        for (let j = 0; j < M; j++) { qp[a * M + j] += h; qm[a * M + j] -= h; }
        const vp = gridding.interpSync(Pt(qp), G, o).toArraySync(), vm = gridding.interpSync(Pt(qm), G, o).toArraySync();
        assertClose(I.subarray(2 * (1 + a) * M, 2 * (2 + a) * M), vp.map((v, i) => (v - vm[i]) / (2 * h)), 1e-6, `interp gradient n=${n} axis ${a}`);
      }
    }
  });

  it('spreading is bit-identical run to run and across thread counts', () => {
    for (const [n, M, gradient, dtype] of [[[257], 40000, false, 'complex128'], [[96, 70], 60000, true, 'complex128'], [[96, 70], 60000, false, 'complex64'], [[20, 24, 18], 30000, true, 'complex128']]) {
      const d = n.length;
      // Clustered points (as on a radial trajectory) make the slabs uneven.
      const pts = randomPoints(d, M, ARR[dtype]).map((x, i) => (i % 3 === 0 ? x * 0.05 : x));
      const P = tensor(pts, { shape: [d, M], dtype: REAL[dtype] });
      const C = tensor(rnd(2 * 2 * (gradient ? 1 + d : 1) * M, ARR[dtype]), { shape: [2, ...(gradient ? [1 + d] : []), M], dtype });
      const o = { width: 7, gradient, backend: 'native' };
      const ref = Buffer.from(withThreads(1, () => gridding.spreadSync(P, C, n, o).toArraySync()).buffer);
      for (const threads of [1, 2, 3, 5, 8]) {
        const got = Buffer.from(withThreads(threads, () => gridding.spreadSync(P, C, n, o).toArraySync()).buffer);
        assert.ok(ref.equals(got), `n=${n} ${dtype} gradient=${gradient}: ${threads} threads differ from 1 thread`);
      }
      // Interpolation is per point; it must not depend on the threads either.
      const G0 = gridding.spreadSync(P, tensor(rnd(2 * M, ARR[dtype]), { shape: [M], dtype }), n, { width: 7, backend: 'native' });
      const i1 = Buffer.from(withThreads(1, () => gridding.interpSync(P, G0, o).toArraySync()).buffer);
      const i3 = Buffer.from(withThreads(3, () => gridding.interpSync(P, G0, o).toArraySync()).buffer);
      assert.ok(i1.equals(i3), `interp n=${n}: thread counts differ`);
    }
  });

  it('writes into out and handles M = 0', () => {
    const n = [16, 12], M = 50;
    const { P, C, G } = problem(2, n, M, 1, false, 'complex128');
    const out = tensor(rnd(2 * prod(n)), { shape: n, dtype: 'complex128' });
    const r = gridding.spreadSync(P, C, n, { width: 5, out });
    assert.strictEqual(r, out);
    assert.deepStrictEqual(out.toArraySync(), gridding.spreadSync(P, C, n, { width: 5 }).toArraySync());
    const vout = tensor(rnd(2 * M), { shape: [M], dtype: 'complex128' });
    assert.strictEqual(gridding.interpSync(P, G, { width: 5, out: vout }), vout);
    assert.deepStrictEqual(vout.toArraySync(), gridding.interpSync(P, G, { width: 5 }).toArraySync());
    const empty = gridding.spreadSync(tensor(new Float64Array(0), { shape: [2, 0] }), tensor(new Float64Array(0), { shape: [0], dtype: 'complex128' }), n, { out });
    assert.ok(empty.toArraySync().every((v) => v === 0), 'M = 0 spreads nothing (out is zeroed)');
    assert.deepStrictEqual(gridding.interpSync(tensor(new Float64Array(0), { shape: [2, 0] }), G).shape, [0]);
  });

  it('rejects bad inputs with codes', async () => {
    const n = [16, 16], M = 10;
    const P = tensor(rnd(2 * M), { shape: [2, M] });
    const c = tensor(rnd(2 * M), { dtype: 'complex128' });
    const G = tensor(rnd(2 * 256), { shape: n, dtype: 'complex128' });
    for (const bad of [NaN, Infinity, -Infinity]) {
      const p = rnd(2 * M);
      p[M + 3] = bad;
      const e = await assertCode(() => gridding.spreadSync(tensor(p, { shape: [2, M] }), c, n, { backend: 'native' }), 'NON_FINITE', `spread ${bad}`);
      assert.match(e.message, /points\[1, 3\]/);
      await assertCode(() => gridding.interp(tensor(p, { shape: [2, M] }), G, { backend: 'native' }), 'NON_FINITE', `interp ${bad}`);
    }
    await assertCode(() => gridding.spreadSync(P, c, n, { width: 1 }), 'INVALID_ARGUMENT', 'width 1');
    await assertCode(() => gridding.spreadSync(P, c, n, { width: 17 }), 'INVALID_ARGUMENT', 'width 17');
    await assertCode(() => gridding.spreadSync(P, c, n, { width: 4.5 }), 'INVALID_ARGUMENT', 'width 4.5');
    await assertCode(() => gridding.spreadSync(P, c, n, { eps: 1e-13 }), 'INVALID_ARGUMENT', 'eps below the limit');
    await assertCode(() => gridding.spreadSync(P, c, n, { upsampfac: 1.5 }), 'INVALID_ARGUMENT', 'upsampfac');
    await assertCode(() => gridding.spreadSync(P, c, [16, 5], { width: 6 }), 'INVALID_ARGUMENT', 'grid below the width');
    await assertCode(() => gridding.interpSync(P, tensor(rnd(2 * 80), { shape: [16, 5], dtype: 'complex128' }), { width: 6 }), 'INVALID_ARGUMENT', 'interp grid below the width');
    await assertCode(() => gridding.spreadSync(P, c, [16, 16.5]), 'INVALID_ARGUMENT', 'fractional grid');
    await assertCode(() => gridding.spreadSync(P, c, n, { gradient: true }), 'INVALID_SHAPE', 'gradient strengths rows');
    await assertCode(() => gridding.spreadSync(tensor(rnd(4 * M), { shape: [4, M] }), c, n), 'INVALID_SHAPE', '4-D points');
    await assertCode(() => gridding.spreadSync(P, tensor(rnd(2 * M, Float32Array), { dtype: 'complex64' }), n), 'INVALID_DTYPE', 'precision mismatch');
    await assertCode(() => gridding.spreadSync(P, tensor(rnd(M)), n), 'INVALID_DTYPE', 'real strengths');
    await assertCode(() => gridding.spreadSync(P, c, n, { out: tensor(rnd(2 * 255), { shape: [255], dtype: 'complex128' }) }), 'INVALID_SHAPE', 'out shape');
    await assertCode(() => gridding.spreadSync(P, c, n, { out: tensor(rnd(2 * 256, Float32Array), { shape: n, dtype: 'complex64' }) }), 'INVALID_DTYPE', 'out dtype');
    // A host reshape shares memory: out may not alias an input.
    const P256 = tensor(randomPoints(2, 256), { shape: [2, 256] });
    const S256 = tensor(rnd(2 * 256), { shape: [256], dtype: 'complex128' });
    await assertCode(() => gridding.spreadSync(P256, S256, n, { out: S256.reshape(n) }), 'INVALID_ARGUMENT', 'out aliases strengths');
    await assertCode(() => gridding.interpSync(P256, G, { out: G.reshape([256]) }), 'INVALID_ARGUMENT', 'out aliases the grid');
    const gone = tensor(rnd(2 * M), { dtype: 'complex128' });
    gone.dispose();
    await assertCode(() => gridding.spreadSync(P, gone, n), 'DISPOSED', 'disposed strengths');
    await assertCode(() => gridding.spreadSync(P, c, n, { backend: 'cuda' }), 'INVALID_ARGUMENT', 'backend cuda on host tensors');
    // The addon checks its own arguments: short buffers and bad tables are errors, not crashes.
    const addon = loadAddon().addon;
    const k = params.kernelPolynomial(4, params.kbBeta(4, 2), 1e-14);
    const args = {
      op: 'spread', dtype: 'float64', dim: 2, grid: n, M, ntransf: 1, gradient: false, width: 4, degree: k.degree,
      coeffs: Float64Array.from(k.coeffs), dcoeffs: Float64Array.from(k.dcoeffs), points: P.hostData(), input: c.hostData(), out: new Float64Array(2 * 256), threads: 0,
    };
    addon.griddingOp(args, true);
    const nativeCode = (f) => { try { f(); } catch (e) { return e.code; } return 'none'; };
    assert.strictEqual(nativeCode(() => addon.griddingOp({ ...args, out: new Float64Array(2 * 255) }, true)), 'INVALID_SHAPE');
    assert.strictEqual(nativeCode(() => addon.griddingOp({ ...args, points: new Float64Array(2 * M - 1) }, true)), 'INVALID_SHAPE');
    assert.strictEqual(nativeCode(() => addon.griddingOp({ ...args, input: new Float64Array(3) }, true)), 'INVALID_SHAPE');
    assert.strictEqual(nativeCode(() => addon.griddingOp({ ...args, coeffs: new Float64Array(5) }, true)), 'INVALID_ARGUMENT');
    assert.strictEqual(nativeCode(() => addon.griddingOp({ ...args, width: 17 }, true)), 'INVALID_ARGUMENT');
    assert.strictEqual(nativeCode(() => addon.griddingOp({ ...args, grid: [16, 3] }, true)), 'INVALID_ARGUMENT');
    assert.strictEqual(nativeCode(() => addon.griddingOp({ ...args, op: 'smear' }, true)), 'INVALID_ARGUMENT');
    assert.strictEqual(nativeCode(() => addon.griddingOp({ ...args, op: 'dcf', sets: 1, iterations: 0, scale: 1 }, true)), 'INVALID_ARGUMENT');
  });

  it('density compensation on native equals the js Pipe–Menon loop (float64 / float32, batched, 3-D)', () => {
    const cases = [
      { traj: mri.radial({ spokes: 24, samples: 64 }), imageShape: [32, 32] },
      { traj: mri.radial({ spokes: 8, samples: 40, golden: true, frames: 3 }), imageShape: [20, 20] },
      { traj: tensor(mri.radial({ spokes: 16, samples: 32 }).toArraySync(), { shape: [2, 512], dtype: 'float64' }), imageShape: [16, 16], width: 6, iterations: 4 },
      { traj: tensor(randomPoints(3, 400), { shape: [3, 400] }), imageShape: [8, 10, 9] },
    ];
    for (const { traj, imageShape, width, iterations } of cases) {
      const o = { imageShape, width, iterations };
      const js = mri.densityCompensation(traj, { ...o, backend: 'js' });
      const nat = mri.densityCompensation(traj, { ...o, backend: 'native' });
      assert.strictEqual(nat.dtype, traj.dtype);
      assert.deepStrictEqual(nat.shape, js.shape);
      assertClose(nat.toArraySync(), js.toArraySync(), traj.dtype === 'float32' ? 3e-7 : 1e-11, `dcf ${traj.dtype} ${traj.shape}`);
      assert.ok(maxAbs(nat.toArraySync()) > 0);
    }
    assert.throws(() => mri.densityCompensation(mri.radial({ spokes: 4, samples: 8 }), { imageShape: [8, 8], width: 17 }), (e) => e.code === 'INVALID_ARGUMENT');
  });
});

describe('gridding CUDA backend', function () {
  before(function () {
    needCuda(this);
  });

  const toCuda = (t) => t.toSync('cuda');

  it('equals native to rounding (d = 1..3, widths, batches, gradients, float64 and float32) and stays on the device', async () => {
    for (const { n, P, C, G, o, rtol, what } of comparisonCases()) {
      const [Pc, Cc, Gc] = [P, C, G].map(toCuda);
      const s = gridding.spreadSync(Pc, Cc, n, o);
      assert.strictEqual(s.device, Pc.device);
      assertClose(s.toArraySync(), gridding.spreadSync(P, C, n, o).toArraySync(), rtol, `cuda spread ${what}`);
      const v = await gridding.interp(Pc, Gc, o);
      assert.strictEqual(v.device, Pc.device);
      assertClose(v.toArraySync(), gridding.interpSync(P, G, o).toArraySync(), rtol, `cuda interp ${what}`);
      for (const t of [Pc, Cc, Gc, s, v]) t.dispose();
    }
  });

  it('is the adjoint of spread and matches the direct sum', () => {
    for (const n of [[33], [18, 25], [9, 12, 10]]) {
      const d = n.length;
      for (const gradient of [false, true]) {
        const { P, C, G } = problem(d, n, 100, 2, gradient, 'complex128');
        const o = { width: 6, gradient };
        const [Pc, Cc, Gc] = [P, C, G].map(toCuda);
        const lhs = cdot(gridding.spreadSync(Pc, Cc, n, o).toArraySync(), G.toArraySync());
        const rhs = cdot(C.toArraySync(), gridding.interpSync(Pc, Gc, o).toArraySync());
        assert.ok(Math.hypot(lhs[0] - rhs[0], lhs[1] - rhs[1]) <= 1e-12 * Math.hypot(...lhs), `d=${d} gradient=${gradient}`);
      }
      const M = 5, pts = randomPoints(d, M), c = rnd(2 * (1 + d) * M);
      const got = gridding.spreadSync(toCuda(tensor(pts, { shape: [d, M] })), toCuda(tensor(c, { shape: [1 + d, M], dtype: 'complex128' })), n, { width: 5, gradient: true }).toArraySync();
      assertClose(got, directSpread(pts, M, n, c, true, 5, gridding.kernel({ width: 5 }).beta), 1e-12, `cuda direct sum n=${n}`);
    }
  });

  it('writes into a device out, and rejects non-finite points and mixed devices', async () => {
    const n = [16, 16], M = 40;
    const { P, C, G } = problem(2, n, M, 1, false, 'complex128');
    const [Pc, Cc, Gc] = [P, C, G].map(toCuda);
    const out = toCuda(tensor(rnd(2 * 256), { shape: n, dtype: 'complex128' }));
    assert.strictEqual(gridding.spreadSync(Pc, Cc, n, { out }), out);
    assertClose(out.toArraySync(), gridding.spreadSync(P, C, n).toArraySync(), 1e-13, 'out');
    const p = randomPoints(2, M);
    p[M + 7] = NaN;
    const e = await assertCode(() => gridding.spreadSync(toCuda(tensor(p, { shape: [2, M] })), Cc, n), 'NON_FINITE', 'cuda NaN spread');
    assert.match(e.message, /points\[1, 7\]/);
    await assertCode(() => gridding.interp(toCuda(tensor(p, { shape: [2, M] })), Gc), 'NON_FINITE', 'cuda NaN interp');
    await assertCode(() => gridding.spreadSync(Pc, C, n), 'DEVICE_MISMATCH', 'points on cuda, strengths on the host');
    await assertCode(() => gridding.interpSync(P, Gc), 'DEVICE_MISMATCH', 'grid on cuda, points on the host');
    await assertCode(() => gridding.spreadSync(Pc, Cc, n, { out: tensor(rnd(2 * 256), { shape: n, dtype: 'complex128' }) }), 'DEVICE_MISMATCH', 'host out');
    await assertCode(() => gridding.spreadSync(Pc, Cc, n, { backend: 'native' }), 'INVALID_ARGUMENT', 'host backend on cuda tensors');
  });

  it('density compensation on the GPU equals native (float32 and float64, batched)', () => {
    for (const traj of [mri.radial({ spokes: 24, samples: 64 }), mri.radial({ spokes: 8, samples: 40, golden: true, frames: 3 }), tensor(randomPoints(3, 300), { shape: [3, 300] })]) {
      const imageShape = traj.shape[traj.shape.length - 2] === 3 ? [8, 10, 9] : [24, 24];
      const tc = toCuda(traj);
      const w = mri.densityCompensation(tc, { imageShape });
      assert.strictEqual(w.device, tc.device);
      assertClose(w.toArraySync(), mri.densityCompensation(traj, { imageShape, backend: 'native' }).toArraySync(), traj.dtype === 'float32' ? 3e-7 : 1e-11, `cuda dcf ${traj.shape}`);
    }
  });
});
