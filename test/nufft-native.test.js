'use strict';
// Native NUFFT plan (addon.NufftPlan) vs the exact direct sums and vs the pure-TS core.
// Skips when the loaded addon has no NufftPlan, unless RECON_KERNELS_REQUIRE_NATIVE=1.
const assert = require('assert');
const { addon: loadAddon, loadAddon: loadResult } = require('../dist/lib/loader');
const { JsNufftCore } = require('../dist/lib/js/nufft-core.js');
const { directNudft1, directNudft2 } = require('../dist/lib/js/nudft.js');

const addon = loadAddon();
const { relErr, rowErrs, makeAddonPlan } = require('./nufft-test-utils');
const makePlan = (o) => makeAddonPlan(addon, o, -1);
const required = process.env.RECON_KERNELS_REQUIRE_NATIVE === '1';

const prod = (a) => a.reduce((x, y) => x * y, 1);
const rnd = (n, T = Float64Array) => T.from({ length: n }, () => Math.random() * 2 - 1 || 0.5);
const randomPoints = (d, M, T = Float64Array) => T.from({ length: d * M }, () => (Math.random() * 2 - 1) * 3 * Math.PI);




function expectCode(fn, code, re) {
  let threw = false;
  try { fn(); } catch (e) {
    threw = true;
    assert.strictEqual(e.code, code, `expected code ${code}, got ${e.code}: ${e.message}`);
    if (re) assert.match(e.message, re);
  }
  assert.ok(threw, `expected a ${code} error`);
}

/** One native transform vs the direct sum; returns per-row errors. */
function runCase(o) {
  const { type, modes, M, ntransf = 1, gradient = false, modeord = 0 } = o;
  const d = modes.length, rows = gradient ? 1 + d : 1, nm = prod(modes);
  const T = o.dtype === 'complex64' ? Float32Array : Float64Array;
  const isign = o.isign ?? (type === 1 ? 1 : -1);
  const plan = makePlan({ ...o, isign });
  const pts = randomPoints(d, M, T);
  plan.setPoints(pts, M, true);
  const common = { points: pts, M, modes, ntransf, isign, modeord, gradient };
  if (type === 1) {
    const c = rnd(2 * ntransf * rows * M, T), out = new T(2 * ntransf * nm);
    plan.execute(c, out, true);
    return { errs: [relErr(out, directNudft1({ ...common, strengths: c }))], plan };
  }
  const f = rnd(2 * ntransf * nm, T), out = new T(2 * ntransf * rows * M);
  plan.execute(f, out, true);
  return { errs: rowErrs(out, directNudft2({ ...common, coefs: f }), ntransf, rows, M), plan };
}

const SIZES = { 1: [[50], 400], 2: [[20, 17], 300], 3: [[8, 9, 7], 200] };

(addon && addon.NufftPlan ? describe : required ? describe : describe.skip)('native NUFFT plan', function () {
  this.timeout(40000);
  before(() => {
    if (!addon || !addon.NufftPlan) throw new Error('addon.NufftPlan is missing but RECON_KERNELS_REQUIRE_NATIVE=1');
    // With an explicit RECON_KERNELS_NATIVE, make sure that build (not a fallback) is under test.
    const from = loadResult().loadedFrom;
    if (required && process.env.RECON_KERNELS_NATIVE) assert.strictEqual(from && from.source, 'env', `addon loaded from ${JSON.stringify(from)}; attempts ${JSON.stringify(loadResult().attempts)}`);
  });

  for (const d of [1, 2, 3]) {
    const [modes, M] = SIZES[d];
    for (const type of [1, 2]) {
      for (const gradient of [false, true]) {
        it(`${d}-D type ${type}${gradient ? ' gradient' : ''}: f64 / f32 / ntransf 2-3 + modeord 1 + flipped isign vs direct sums`, () => {
          const cases = [
            { dtype: 'complex128', eps: 1e-9 },
            { dtype: 'complex64', eps: 1e-5 },
            { dtype: 'complex64', eps: 1e-4, ntransf: 3 },
            { dtype: 'complex128', eps: 1e-6, ntransf: 2, modeord: 1, isign: type === 1 ? -1 : 1 },
            { dtype: 'complex128', eps: 1e-8, upsampfac: 1.25 },
          ];
          for (const c of cases) {
            const { errs, plan } = runCase({ type, modes, M, gradient, ...c });
            for (const e of errs) assert.ok(e < 10 * c.eps, `${JSON.stringify(c)} w=${plan.info.width}: errors ${errs.map((x) => x.toExponential(2))}`);
            plan.dispose();
          }
        });
      }
    }
  }

  it('agrees with the js core to ~1e-12 in float64 (identical kernel parameters), incl. wide kernels', () => {
    const cfgs = [
      { modes: [40], M: 300, eps: 1e-6 },
      { modes: [16, 13], M: 300, eps: 1e-9, modeord: 1 },
      { modes: [6, 7, 5], M: 200, eps: 1e-4, ntransf: 2 },
      { modes: [24, 10], M: 200, eps: 1e-10, upsampfac: 1.25 }, // w = 18 (generic-width path)
      { modes: [9, 8, 6], M: 150, eps: 1e-10, upsampfac: 1.25, gradient: true }, // w = 19
    ];
    for (const cfg of cfgs) {
      for (const type of [1, 2]) {
        for (const gradient of cfg.gradient ? [true] : [false, true]) {
          const { modes, M, eps, modeord = 0, ntransf = 1, upsampfac = 2 } = cfg;
          const d = modes.length, rows = gradient ? 1 + d : 1, nm = prod(modes);
          const isign = type === 1 ? 1 : -1;
          const js = new JsNufftCore({ type, modes, eps, precision: 'float64', ntransf, isign, modeord, upsampfac, gradient });
          const plan = makePlan({ type, modes, eps, ntransf, isign, modeord, upsampfac, gradient });
          assert.strictEqual(plan.info.width, js.info.width);
          assert.ok(Math.abs(plan.info.beta - js.info.beta) <= 1e-14 * js.info.beta);
          assert.deepStrictEqual(plan.info.fineGrid, js.info.fineGrid);
          assert.strictEqual(plan.info.upsampfac, upsampfac);
          assert.strictEqual(plan.info.gradientWidthIncrease, gradient ? 1 : 0);
          const pts = randomPoints(d, M);
          js.setPoints(pts, M);
          plan.setPoints(pts, M, true);
          const inLen = type === 1 ? 2 * ntransf * rows * M : 2 * ntransf * nm;
          const outLen = type === 2 ? 2 * ntransf * rows * M : 2 * ntransf * nm;
          const input = rnd(inLen), a = new Float64Array(outLen), b = new Float64Array(outLen);
          js.execute(input, a);
          plan.execute(input, b, true);
          const e = relErr(b, a);
          assert.ok(e < 1e-12, `${JSON.stringify(cfg)} type ${type} grad ${gradient} w=${plan.info.width}: native vs js ${e}`);
          plan.dispose();
        }
      }
    }
  });

  it('async setPoints/execute resolve to the sync result; concurrent executes on one plan serialise', async () => {
    const modes = [32, 24], M = 2000;
    const plan = makePlan({ type: 2, modes, eps: 1e-7, ntransf: 2 });
    const pts = randomPoints(2, M);
    const p = plan.setPoints(pts, M, false);
    assert.ok(p instanceof Promise);
    await p;
    const f = rnd(2 * 2 * prod(modes));
    const ref = new Float64Array(2 * 2 * M);
    plan.execute(f, ref, true);
    const outs = [0, 1, 2, 3].map(() => new Float64Array(2 * 2 * M));
    await Promise.all(outs.map((o) => plan.execute(f, o, false)));
    for (const o of outs) assert.deepStrictEqual(o, ref);
    const t = plan.timings();
    for (const k of ['sortMs', 'spreadMs', 'fftMs', 'deconvolveMs', 'totalMs']) assert.ok(t[k] >= 0, k);
    // dispose while an op is in flight: the op still completes
    const late = new Float64Array(2 * 2 * M);
    const q = plan.execute(f, late, false);
    plan.dispose();
    await q;
    assert.deepStrictEqual(late, ref);
    expectCode(() => plan.execute(f, late, true), 'DISPOSED');
    expectCode(() => plan.info, 'DISPOSED');
  });

  it('deterministic: repeated type-1 executes are bit-identical; thread counts agree to rounding', () => {
    const modes = [30, 20, 10], M = 5000, pts = randomPoints(3, M), c = rnd(2 * M);
    const outs = [1, 2, 3].map((threads) => {
      const plan = makePlan({ type: 1, modes, eps: 1e-8, threads });
      plan.setPoints(pts, M, true);
      const a = new Float64Array(2 * prod(modes)), b = new Float64Array(2 * prod(modes));
      plan.execute(c, a, true);
      plan.execute(c, b, true);
      assert.deepStrictEqual(a, b);
      return a;
    });
    assert.ok(relErr(outs[1], outs[0]) < 1e-14 && relErr(outs[2], outs[0]) < 1e-14);
  });

  it('type 2 at points in the first and last fine-grid cells, on period edges and on support edges', () => {
    // Interpolation reads a periodically extended copy of the fine grid; points whose kernel
    // starts at its first or last rows (the first and last cells, ±π) must read the right wrapped
    // values, for even and odd widths. 'edges' are points where a kernel tap sits exactly on the
    // support edge |z| = 1 (fine-grid nodes for even widths, cell centres for odd ones), where the
    // truncated kernel jumps: there derivative rows measured 1.4·eps (width 4) to 5·eps (width
    // 14) in 1-D and up to 4.2·eps here, values up to 2.05·eps in 2-D (0.3-0.9·eps a twentieth of
    // a cell or more away), so edge points get 3·eps on values and 6·eps on derivatives.
    const sets = {
      cells: (n) => {
        const h = (2 * Math.PI) / n, out = [];
        for (let j = 0; j < 3; j++) for (const f of [0.3, 0.7, 0.15, 0.85]) out.push(-Math.PI + (j + f) * h, Math.PI - (j + f) * h);
        return out;
      },
      edges: (n, w) => {
        const h = (2 * Math.PI) / n, f = w % 2 === 0 ? 0 : 0.5, out = [-Math.PI + f * h, Math.PI - f * h, 0];
        if (f === 0) out.push(Math.PI - 1e-9, -Math.PI + 1e-9);
        for (let j = 1; j < 4; j++) out.push(-Math.PI + (j + f) * h, Math.PI - (j + f) * h);
        return out;
      },
    };
    for (const dtype of ['complex128', 'complex64']) {
      for (const [modes, eps0] of [[[24], 1e-6], [[20, 17], 1e-4], [[8, 9, 7], 1e-5]]) {
        for (const gradient of [false, true]) {
          for (const [set, edges] of Object.entries(sets)) {
            const d = modes.length, T = dtype === 'complex64' ? Float32Array : Float64Array;
            const eps = dtype === 'complex64' ? Math.max(eps0, 1e-5) : eps0;
            const plan = makePlan({ type: 2, modes, eps, dtype, gradient });
            const M = 60, pts = new T(d * M);
            for (let a = 0; a < d; a++) {
              const e = edges(plan.info.fineGrid[a], plan.info.widths[a]);
              for (let j = 0; j < M; j++) pts[a * M + j] = e[(j * (a + 1) + a) % e.length] + 2 * Math.PI * ((j % 3) - 1);
            }
            plan.setPoints(pts, M, true);
            const rows = gradient ? 1 + d : 1, f = rnd(2 * prod(modes), T), out = new T(2 * rows * M);
            plan.execute(f, out, true);
            const ref = directNudft2({ points: pts, M, modes, ntransf: 1, isign: -1, modeord: 0, gradient, coefs: f });
            const errs = rowErrs(out, ref, 1, rows, M);
            errs.forEach((e, r) => {
              const tol = (set === 'edges' ? (r > 0 ? 6 : 3) : 2) * eps;
              assert.ok(e <= tol, `${dtype} ${JSON.stringify(modes)} gradient=${gradient} ${set} (widths ${plan.info.widths}): row ${r} error ${e.toExponential(2)} > ${tol}`);
            });
            plan.dispose();
          }
        }
      }
    }
  });

  it('M = 0 gives zeros; points far outside [-π, π) fold correctly', () => {
    const plan = makePlan({ type: 1, modes: [10], eps: 1e-6 });
    plan.setPoints(new Float64Array(0), 0, true);
    const out = new Float64Array(20).fill(7);
    plan.execute(new Float64Array(0), out, true);
    assert.ok(out.every((v) => v === 0));
    const M = 50, pts = randomPoints(1, M).map((x) => x * 1e3), c = rnd(2 * M);
    plan.setPoints(pts, M, true);
    plan.execute(c, out, true);
    assert.ok(relErr(out, directNudft1({ points: pts, M, modes: [10], strengths: c })) < 1e-5);
  });

  it('errors carry codes', () => {
    expectCode(() => makePlan({ type: 1, modes: [8], eps: 1e-13 }), 'INVALID_ARGUMENT', /1e-12/);
    expectCode(() => makePlan({ type: 1, modes: [8], eps: 5e-7, dtype: 'complex64' }), 'INVALID_ARGUMENT', /1e-6/);
    expectCode(() => makePlan({ type: 1, modes: [8], eps: 5e-5, dtype: 'complex64', upsampfac: 1.25 }), 'INVALID_ARGUMENT', /1e-4/);
    expectCode(() => makePlan({ type: 1, modes: [8], eps: 1e-11, upsampfac: 1.25 }), 'INVALID_ARGUMENT', /1e-10/);
    expectCode(() => makePlan({ type: 1, modes: [8], eps: 1e-6, upsampfac: 1.5 }), 'INVALID_ARGUMENT', /upsampfac/);
    expectCode(() => makePlan({ type: 3, modes: [8], eps: 1e-6 }), 'INVALID_ARGUMENT');
    expectCode(() => makePlan({ type: 1, modes: [8, 8, 8, 8], eps: 1e-6 }), 'INVALID_ARGUMENT');
    expectCode(() => makePlan({ type: 1, modes: [0], eps: 1e-6 }), 'INVALID_ARGUMENT');
    expectCode(() => new addon.NufftPlan({
      type: 1, modes: [8], ntransf: 1, isign: 1, modeord: 0, eps: 1e-6, upsampfac: 2, gradient: false,
      dtype: 'complex128', width: 0, threads: 0, device: 0,
    }), 'CUDA_UNAVAILABLE');
    const plan = makePlan({ type: 1, modes: [8, 8], eps: 1e-6 });
    expectCode(() => plan.execute(new Float64Array(20), new Float64Array(128), true), 'INVALID_ARGUMENT', /setPoints/);
    expectCode(() => plan.setPoints(Float64Array.of(0.1, NaN, 0.2, 0.3), 2, true), 'NON_FINITE');
    expectCode(() => plan.setPoints(Float64Array.of(0.1, Infinity, 0.2, 0.3), 2, true), 'NON_FINITE');
    expectCode(() => plan.setPoints(new Float32Array(4), 2, true), 'INVALID_DTYPE');
    expectCode(() => plan.setPoints(new Float64Array(3), 2, true), 'INVALID_SHAPE');
    plan.setPoints(Float64Array.of(0.1, 0.2, 0.3, 0.4), 2, true);
    expectCode(() => plan.execute(new Float64Array(3), new Float64Array(128), true), 'INVALID_SHAPE');
    expectCode(() => plan.execute(new Float64Array(4), new Float64Array(100), true), 'INVALID_SHAPE');
    expectCode(() => plan.execute(new Float32Array(4), new Float32Array(128), true), 'INVALID_DTYPE');
    plan.dispose();
    plan.dispose();
    expectCode(() => plan.setPoints(Float64Array.of(0.1, 0.2), 1, true), 'DISPOSED');
    expectCode(() => plan.timings(), 'DISPOSED');
  });

  it('async errors reject with codes', async () => {
    const plan = makePlan({ type: 2, modes: [8], eps: 1e-6 });
    await assert.rejects(plan.setPoints(Float64Array.of(0.1, NaN), 2, false), (e) => e.code === 'NON_FINITE');
    plan.dispose();
  });
});
