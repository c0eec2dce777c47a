'use strict';
// Public NUFFT API (nufft.plan / type1 / type2 / VJPs) and gridding, on every host backend that
// can serve it: js always, native when the addon loaded and has NufftPlan. References are the
// exact direct sums of lib/js/nudft in float64; inputs are fresh random each run (seeded by
// helpers, printed once). Sizes are small so the file runs in seconds.
const assert = require('assert');
const { relErr, rnd, randomPoints, cdot } = require('./nufft-test-utils');
const { rk, caps, assertCode } = require('./helpers');
const { directNudft1, directNudft2 } = require('../dist/lib/js/nudft.js');

const { nufft, gridding, tensor } = rk;
const BACKENDS = ['js'];
if (caps.addon.loaded && nufft.nativeNufftAvailable()) BACKENDS.push('native');

const prod = (a) => a.reduce((x, y) => x * y, 1);
const REAL = { complex64: 'float32', complex128: 'float64' };
const ARR = { complex64: Float32Array, complex128: Float64Array };

/** Row r of [ntransf, rows, M] complex data, over all transforms, as one Float64Array. */
function rowOf(data, ntransf, rows, M, r) {
  const out = new Float64Array(2 * ntransf * M);
  for (let t = 0; t < ntransf; t++) out.set(data.subarray(2 * (t * rows + r) * M, 2 * (t * rows + r + 1) * M), 2 * t * M);
  return out;
}

function makePlan(backend, o) {
  return nufft.plan({ ...o, backend });
}

/** Runs one transform through the public API and the direct sum; returns per-row errors. */
function runCase(backend, o) {
  const { type, modes, M, dtype = 'complex128', ntransf = 1, isign, modeord = 0, gradient = false, eps = 1e-6, upsampfac } = o;
  const d = modes.length, T = ARR[dtype], rows = gradient ? 1 + d : 1;
  const pts = randomPoints(d, M, T);
  const plan = makePlan(backend, { type, modes, eps, dtype, ntransf, isign, modeord, gradient, upsampfac });
  try {
    plan.setPointsSync(tensor(pts, { shape: [d, M], dtype: REAL[dtype] }));
    const batch = ntransf > 1 ? [ntransf] : [];
    const common = { points: pts, M, modes, ntransf, isign: plan.info.isign, modeord, gradient };
    if (type === 1) {
      const c = rnd(2 * ntransf * rows * M, T);
      const out = plan.executeSync(tensor(c, { shape: [...batch, ...(gradient ? [1 + d] : []), M], dtype }));
      assert.deepStrictEqual(out.shape, [...batch, ...modes]);
      assert.strictEqual(out.dtype, dtype);
      return { errs: [relErr(out.toArraySync(), directNudft1({ ...common, strengths: c }))], plan: plan.info };
    }
    const f = rnd(2 * ntransf * prod(modes), T);
    const out = plan.executeSync(tensor(f, { shape: [...batch, ...modes], dtype }));
    assert.deepStrictEqual(out.shape, [...batch, ...(gradient ? [1 + d] : []), M]);
    const got = out.toArraySync(), ref = directNudft2({ ...common, coefs: f });
    const errs = [];
    for (let r = 0; r < rows; r++) errs.push(relErr(rowOf(got, ntransf, rows, M, r), rowOf(ref, ntransf, rows, M, r)));
    return { errs, plan: plan.info };
  } finally {
    plan.dispose();
  }
}

const SIZES = { 1: [[33], 120], 2: [[12, 9], 150], 3: [[6, 5, 8], 120] };
const EVEN = { 1: [32], 2: [10, 8], 3: [4, 6, 4] };

for (const backend of BACKENDS) {
  describe(`nufft public API (${backend})`, function () {
    this.timeout(30000);

    it('matches the direct sums: d = 1, 2, 3; types 1, 2; modeord 0, 1; both isigns; odd and even N; ntransf 1 and 3; both dtypes', () => {
      for (const d of [1, 2, 3]) {
        for (const dtype of ['complex128', 'complex64']) {
          const eps = dtype === 'complex128' ? 1e-9 : 1e-5;
          for (const type of [1, 2]) {
            for (const modeord of [0, 1]) {
              for (const flip of [false, true]) {
                for (const ntransf of [1, 3]) {
                  const [oddModes, M] = SIZES[d];
                  const modes = (modeord + ntransf + (flip ? 1 : 0)) % 2 ? EVEN[d] : oddModes;
                  const isign = flip ? (type === 1 ? -1 : 1) : undefined;
                  const { errs, plan } = runCase(backend, { type, modes, M, dtype, ntransf, isign, modeord, eps });
                  assert.strictEqual(plan.isign, isign ?? (type === 1 ? 1 : -1));
                  assert.ok(errs[0] <= 2 * eps, `d=${d} ${dtype} type ${type} modeord ${modeord} isign ${plan.isign} ntransf ${ntransf} modes [${modes}]: error ${errs[0].toExponential(2)} > 2·eps ${eps}`);
                }
              }
            }
          }
        }
      }
    });

    it('error stays within 2·eps and falls as eps falls, from 1e-2 to the limit (both dtypes, σ = 2 and 1.25)', () => {
      const sweeps = [
        { dtype: 'complex128', upsampfac: 2, eps: [1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12] },
        { dtype: 'complex128', upsampfac: 1.25, eps: [1e-2, 1e-4, 1e-6, 1e-8, 1e-10] },
        { dtype: 'complex64', upsampfac: 2, eps: [1e-2, 1e-3, 1e-4, 1e-5, 1e-6] },
        { dtype: 'complex64', upsampfac: 1.25, eps: [1e-2, 1e-3, 1e-4] },
      ];
      for (const s of sweeps) {
        for (const type of [1, 2]) {
          for (const d of [1, 2]) {
            let prev = Infinity, prevEps = 0;
            for (const eps of s.eps) {
              const [modes, M] = SIZES[d];
              const { errs } = runCase(backend, { type, modes, M, dtype: s.dtype, eps, upsampfac: s.upsampfac });
              const tag = `${s.dtype} σ=${s.upsampfac} type ${type} d=${d} eps ${eps}`;
              assert.ok(errs[0] <= 2 * eps, `${tag}: error ${errs[0].toExponential(2)} > 2·eps`);
              assert.ok(errs[0] < prev, `${tag}: error ${errs[0].toExponential(2)} did not fall below ${prev.toExponential(2)} (eps ${prevEps})`);
              prev = errs[0];
              prevEps = eps;
            }
          }
        }
      }
    });

    it('type 1 and type 2 (opposite signs) are adjoint: ⟨type1(c), f⟩ = ⟨c, type2(f)⟩', () => {
      for (const d of [1, 2, 3]) {
        for (const ntransf of [1, 2]) {
          const [modes, M] = SIZES[d];
          const pts = tensor(randomPoints(d, M), { shape: [d, M] });
          const c = rnd(2 * ntransf * M), f = rnd(2 * ntransf * prod(modes));
          const o = { backend, eps: 1e-12, dtype: 'complex128' };
          const p1 = nufft.plan({ ...o, type: 1, modes, ntransf, isign: 1 });
          const p2 = nufft.plan({ ...o, type: 2, modes, ntransf, isign: -1 });
          p1.setPointsSync(pts);
          p2.setPointsSync(pts);
          const Ac = p1.executeSync(tensor(c, { shape: [ntransf, M], dtype: 'complex128' })).toArraySync();
          const Bf = p2.executeSync(tensor(f, { shape: [ntransf, ...modes], dtype: 'complex128' })).toArraySync();
          const lhs = cdot(Ac, f), rhs = cdot(c, Bf);
          const scale = Math.hypot(...lhs);
          assert.ok(Math.hypot(lhs[0] - rhs[0], lhs[1] - rhs[1]) <= 1e-10 * scale, `d=${d}: ${lhs} vs ${rhs}`);
          p1.dispose();
          p2.dispose();
        }
      }
    });

    it('fused gradient rows match the exact derivative sums (types 1 and 2, d = 1, 2, 3, both dtypes)', () => {
      for (const d of [1, 2, 3]) {
        for (const [dtype, eps] of [['complex128', 1e-8], ['complex64', 1e-5]]) {
          for (const type of [1, 2]) {
            for (const [isign, ntransf, modeord] of [[undefined, 1, 0], [type === 1 ? -1 : 1, 2, 1]]) {
              const [modes, M] = SIZES[d];
              const { errs, plan } = runCase(backend, { type, modes, M, dtype, eps, gradient: true, isign, ntransf, modeord });
              assert.strictEqual(errs.length, type === 2 ? 1 + d : 1);
              assert.ok(plan.gradient && plan.gradientWidthIncrease >= 0);
              errs.forEach((e, r) => assert.ok(e <= 2 * eps, `d=${d} ${dtype} type ${type} row ${r}: error ${e.toExponential(2)} > 2·eps ${eps}`));
            }
          }
        }
      }
    });

    it('plans run many times, take new points (another M), write into out, and agree sync/async', async () => {
      const modes = [10, 7], d = 2;
      const plan = makePlan(backend, { type: 2, modes, eps: 1e-10, dtype: 'complex128', ntransf: 2 });
      assert.strictEqual(plan.info.backend, backend);
      assert.strictEqual(plan.info.M, 0);
      for (const M of [50, 80]) {
        const pts = randomPoints(d, M);
        await plan.setPoints(tensor(pts, { shape: [d, M] }));
        assert.strictEqual(plan.info.M, M);
        for (let rep = 0; rep < 2; rep++) {
          const f = rnd(2 * 2 * prod(modes));
          const ft = tensor(f, { shape: [2, ...modes], dtype: 'complex128' });
          const a = await plan.execute(ft);
          const b = plan.executeSync(ft);
          const out = rk.zeros([2, M], { dtype: 'complex128' });
          out.hostData().fill(7); // overwritten, not accumulated
          const c = plan.executeSync(ft, { out });
          assert.strictEqual(c, out);
          const ref = directNudft2({ points: pts, M, modes, ntransf: 2, coefs: f });
          for (const t of [a, b, c]) assert.ok(relErr(t.toArraySync(), ref) < 2e-10);
          assert.deepStrictEqual(a.toArraySync(), b.toArraySync());
        }
      }
      // Queued async calls run in order: setPoints then execute, without awaiting in between.
      const M = 30, pts = randomPoints(d, M), f = rnd(2 * 2 * prod(modes));
      const pSet = plan.setPoints(tensor(pts, { shape: [d, M] }));
      const pExe = plan.execute(tensor(f, { shape: [2, ...modes], dtype: 'complex128' }));
      await pSet;
      assert.ok(relErr((await pExe).toArraySync(), directNudft2({ points: pts, M, modes, ntransf: 2, coefs: f })) < 2e-10);
      const tm = plan.timings();
      assert.ok(tm.totalMs >= 0 && tm.sortMs >= 0, JSON.stringify(tm));
      plan[Symbol.dispose]();
      assert.ok(plan.disposed);
      plan.dispose(); // idempotent
    });

    it('one-call helpers type1 / type2 (sync and async) match plans; no batch axis in, none out', async () => {
      const modes = [9, 8], M = 60, d = 2;
      const pts = randomPoints(d, M, Float32Array), ptsT = tensor(pts, { shape: [d, M] });
      const c = rnd(2 * M, Float32Array), f = rnd(2 * prod(modes), Float32Array);
      const o = { backend, eps: 1e-5 };
      const F = await nufft.type1(ptsT, tensor(c, { dtype: 'complex64' }), modes, o);
      assert.deepStrictEqual(F.shape, modes);
      assert.strictEqual(F.dtype, 'complex64');
      assert.ok(relErr(F.toArraySync(), directNudft1({ points: pts, M, modes, strengths: c })) < 2e-5);
      const C = nufft.type2Sync(ptsT, tensor(f, { shape: modes, dtype: 'complex64' }), { ...o, isign: 1, modeord: 1 });
      assert.deepStrictEqual(C.shape, [M]);
      assert.ok(relErr(C.toArraySync(), directNudft2({ points: pts, M, modes, coefs: f, isign: 1, modeord: 1 })) < 2e-5);
      const F2 = nufft.type1Sync(ptsT, tensor(c, { shape: [1, M], dtype: 'complex64' }), modes, o);
      assert.deepStrictEqual(F2.shape, [1, ...modes]);
      const G = await nufft.type2(ptsT, tensor(f, { shape: [1, ...modes], dtype: 'complex64' }), { ...o, gradient: true });
      assert.deepStrictEqual(G.shape, [1, 1 + d, M]);
    });

    describe('VJPs (float64, against central differences of L = Re⟨w, output⟩)', () => {
      /** L(c, x) of a type-1 or type-2 forward by the direct sum. */
      function loss(type, o, data, pts, w) {
        const out = type === 1 ? directNudft1({ ...o, points: pts, strengths: data }) : directNudft2({ ...o, points: pts, coefs: data });
        return cdot(w, out)[0];
      }

      /** Central differences of L over every real coordinate of `v` (data or points). */
      function fdGrad(f, v, h) {
        const g = new Float64Array(v.length);
        for (let i = 0; i < v.length; i++) {
          const p = v.slice(), m = v.slice();
          p[i] += h; m[i] -= h;
          g[i] = (f(p) - f(m)) / (2 * h);
        }
        return g;
      }

      function checkVjp(type, d, ntransf, isign, withRows) {
        const modes = { 1: [11], 2: [6, 5], 3: [4, 3, 4] }[d], M = 12;
        const pts = randomPoints(d, M);
        const nIn = type === 1 ? ntransf * M : ntransf * prod(modes), nOut = type === 1 ? ntransf * prod(modes) : ntransf * M;
        const data = rnd(2 * nIn), w = rnd(2 * nOut);
        const inShape = type === 1 ? [ntransf, M] : [ntransf, ...modes], outShape = type === 1 ? [ntransf, ...modes] : [ntransf, M];
        const plan = makePlan(backend, { type, modes, ntransf, isign, eps: 1e-12, dtype: 'complex128' });
        plan.setPointsSync(tensor(pts, { shape: [d, M] }));
        const dataT = tensor(data, { shape: inShape, dtype: 'complex128' }), wT = tensor(w, { shape: outShape, dtype: 'complex128' });
        let g;
        if (type === 1) {
          g = nufft.type1VjpSync(plan, dataT, wT);
        } else {
          const opts = {};
          if (withRows) {
            const gp = makePlan(backend, { type: 2, modes, ntransf, isign, eps: 1e-12, dtype: 'complex128', gradient: true });
            gp.setPointsSync(tensor(pts, { shape: [d, M] }));
            opts.forwardRows = gp.executeSync(dataT);
            gp.dispose();
          }
          g = nufft.type2VjpSync(plan, dataT, wT, opts);
        }
        assert.deepStrictEqual(g.data.shape, inShape);
        assert.strictEqual(g.data.dtype, 'complex128');
        assert.deepStrictEqual(g.points.shape, [d, M]);
        assert.strictEqual(g.points.dtype, 'float64');
        const o = { M, modes, ntransf, isign: plan.info.isign };
        const fdData = fdGrad((v) => loss(type, o, v, pts, w), data, 1e-3); // linear in the data
        const fdPts = fdGrad((v) => loss(type, o, data, v, w), pts, 1e-5);
        const tag = `type ${type} d=${d} ntransf ${ntransf} isign ${plan.info.isign}${withRows ? ' forwardRows' : ''}`;
        assert.ok(relErr(g.data.toArraySync(), fdData) < 1e-8, `${tag}: data gradient error ${relErr(g.data.toArraySync(), fdData)}`);
        assert.ok(relErr(g.points.toArraySync(), fdPts) < 1e-6, `${tag}: points gradient error ${relErr(g.points.toArraySync(), fdPts)}`);
        return { plan, dataT, wT, g };
      }

      it('type1Vjp: ∂L/∂c and ∂L/∂x for d = 1, 2, 3, ntransf 1 and 2, both isigns', () => {
        for (const d of [1, 2, 3]) {
          for (const [ntransf, isign] of [[1, undefined], [2, -1]]) checkVjp(1, d, ntransf, isign, false).plan.dispose();
        }
      });

      it('type2Vjp: ∂L/∂f and ∂L/∂x for d = 1, 2, 3, ntransf 1 and 2, both isigns, with and without forwardRows', () => {
        for (const d of [1, 2, 3]) {
          for (const [ntransf, isign, rows] of [[1, undefined, false], [2, 1, true], [1, 1, false]]) checkVjp(2, d, ntransf, isign, rows).plan.dispose();
        }
      });

      it('async VJPs equal the sync ones; helper plans follow new points; complex64 VJPs are close', async () => {
        for (const type of [1, 2]) {
          const { plan, dataT, wT, g } = checkVjp(type, 2, 1, undefined, false);
          const fn = type === 1 ? nufft.type1Vjp : nufft.type2Vjp;
          const a = await fn(plan, dataT, wT);
          assert.deepStrictEqual(a.data.toArraySync(), g.data.toArraySync());
          assert.deepStrictEqual(a.points.toArraySync(), g.points.toArraySync());
          // New points: the cached helper plans must be re-pointed.
          const M = plan.info.M, pts2 = randomPoints(2, M);
          await plan.setPoints(tensor(pts2, { shape: [2, M] }));
          const b = await fn(plan, dataT, wT);
          const o = { M, modes: plan.info.modes, ntransf: 1, isign: plan.info.isign };
          const w = wT.toArraySync(), data = dataT.toArraySync();
          const fdPts = fdGrad((v) => loss(type, o, data, v, w), pts2, 1e-5);
          assert.ok(relErr(b.points.toArraySync(), fdPts) < 1e-6, `type ${type} after setPoints`);
          // complex64: same problem in single precision.
          const p32 = makePlan(backend, { type, modes: plan.info.modes, eps: 1e-5 });
          p32.setPointsSync(tensor(Float32Array.from(pts2), { shape: [2, M] }));
          const s = fn === nufft.type1Vjp ? nufft.type1VjpSync : nufft.type2VjpSync;
          const r32 = s(p32, tensor(Float32Array.from(data), { shape: dataT.shape, dtype: 'complex64' }), tensor(Float32Array.from(w), { shape: wT.shape, dtype: 'complex64' }));
          assert.strictEqual(r32.points.dtype, 'float32');
          assert.ok(relErr(r32.points.toArraySync(), fdPts) < 1e-4);
          assert.ok(relErr(r32.data.toArraySync(), b.data.toArraySync()) < 1e-4);
          p32.dispose();
          plan.dispose();
          await assertCode(() => fn(plan, dataT, wT), 'DISPOSED', 'VJP after dispose');
        }
      });
    });

    it('rejects bad inputs with ReconKernelsError codes', async () => {
      const P = (o) => makePlan(backend, { type: 1, modes: [8, 8], ...o });
      await assertCode(() => P({ eps: 5e-7 }), 'INVALID_ARGUMENT', 'complex64 eps below 1e-6');
      const e125 = await assertCode(() => P({ eps: 5e-5, upsampfac: 1.25 }), 'INVALID_ARGUMENT', 'complex64 eps below 1e-4 at σ = 1.25');
      assert.match(e125.message, /1e-4|0\.0001/);
      const e64 = await assertCode(() => P({ eps: 1e-13, dtype: 'complex128' }), 'INVALID_ARGUMENT', 'complex128 eps below 1e-12');
      assert.match(e64.message, /1e-12/);
      const e32 = await assertCode(() => P({ eps: 5e-7, dtype: 'complex64' }), 'INVALID_ARGUMENT', 'complex64 eps');
      assert.match(e32.message, /1e-6|0\.000001/);
      await assertCode(() => P({ eps: 0 }), 'INVALID_ARGUMENT', 'eps 0');
      await assertCode(() => P({ eps: NaN }), 'NON_FINITE', 'eps NaN');
      await assertCode(() => P({ modes: [8, 8, 8, 8] }), 'INVALID_ARGUMENT', '4-D modes');
      await assertCode(() => P({ modes: [8, 0] }), 'INVALID_ARGUMENT', 'zero modes');
      await assertCode(() => P({ type: 3 }), 'INVALID_ARGUMENT', 'type 3');
      await assertCode(() => P({ isign: 2 }), 'INVALID_ARGUMENT', 'isign 2');
      await assertCode(() => P({ upsampfac: 1.5 }), 'INVALID_ARGUMENT', 'upsampfac 1.5');
      await assertCode(() => P({ ntransf: 1.5 }), 'INVALID_ARGUMENT', 'ntransf 1.5');
      await assertCode(() => P({ dtype: 'float32' }), 'INVALID_ARGUMENT', 'real dtype');
      await assertCode(() => P({ device: 'gpu' }), 'INVALID_DEVICE', 'unknown device');
      await assertCode(() => nufft.plan(), 'INVALID_ARGUMENT', 'no options');
      if (!caps.cuda.available) await assertCode(() => nufft.plan({ type: 1, modes: [8], device: 'cuda' }), 'CUDA_UNAVAILABLE', 'cuda plan without CUDA');
      else await assertCode(() => nufft.plan({ type: 1, modes: [8], device: 'cuda' }), 'BACKEND_UNAVAILABLE', 'CUDA NUFFT not built yet');

      const plan = P({ eps: 1e-5 });
      const M = 20, c = tensor(rnd(2 * M, Float32Array), { dtype: 'complex64' });
      await assertCode(() => plan.executeSync(c), 'INVALID_ARGUMENT', 'execute before setPoints');
      await assertCode(() => plan.setPointsSync(tensor(rnd(2 * M), { shape: [2, M] })), 'INVALID_DTYPE', 'float64 points for complex64');
      await assertCode(() => plan.setPointsSync(tensor(rnd(3 * M, Float32Array), { shape: [3, M] })), 'INVALID_SHAPE', '3-D points for a 2-D plan');
      await assertCode(() => plan.setPointsSync(tensor(rnd(2 * M, Float32Array), { shape: [M, 2] })), 'INVALID_SHAPE', 'points [M, d]');
      await assertCode(() => plan.setPointsSync(new Float32Array(2 * M)), 'INVALID_ARGUMENT', 'points not a tensor');
      for (const bad of [NaN, Infinity, -Infinity]) {
        const p = rnd(2 * M, Float32Array);
        p[M + 3] = bad;
        const err = await assertCode(() => plan.setPoints(tensor(p, { shape: [2, M] })), 'NON_FINITE', `points with ${bad}`);
        assert.match(err.message, /points\[1, 3\]/);
      }
      assert.strictEqual(plan.info.M, 0, 'a rejected setPoints leaves no points');
      plan.setPointsSync(tensor(rnd(2 * M, Float32Array), { shape: [2, M] }));
      await assertCode(() => plan.executeSync(tensor(rnd(2 * M), { dtype: 'complex128' })), 'INVALID_DTYPE', 'complex128 input to complex64 plan');
      await assertCode(() => plan.executeSync(tensor(rnd(2 * M, Float32Array), { shape: [M, 2] })), 'INVALID_DTYPE', 'real input');
      await assertCode(() => plan.execute(tensor(rnd(2 * (M + 1), Float32Array), { dtype: 'complex64' })), 'INVALID_SHAPE', 'wrong M');
      await assertCode(() => plan.executeSync(tensor(rnd(4 * M, Float32Array), { shape: [2, M], dtype: 'complex64' })), 'INVALID_SHAPE', 'ntransf 2 into a 1-transform plan');
      await assertCode(() => plan.executeSync(c, { out: rk.zeros([8, 9], { dtype: 'complex64' }) }), 'INVALID_SHAPE', 'out shape');
      await assertCode(() => plan.executeSync(c, { out: rk.zeros([8, 8], { dtype: 'complex128' }) }), 'INVALID_DTYPE', 'out dtype');
      const disposedC = tensor(rnd(2 * M, Float32Array), { dtype: 'complex64' });
      disposedC.dispose();
      await assertCode(() => plan.executeSync(disposedC), 'DISPOSED', 'disposed input');
      // A synchronous call while an async one is queued is refused, not raced.
      const pending = plan.execute(c);
      await assertCode(() => plan.executeSync(c), 'INVALID_ARGUMENT', 'sync call during async');
      await pending;
      await assertCode(() => nufft.type1VjpSync(plan, c, rk.zeros([8, 9], { dtype: 'complex64' })), 'INVALID_SHAPE', 'VJP gradOut shape');
      await assertCode(() => nufft.type2VjpSync(plan, c, c), 'INVALID_ARGUMENT', 'type2Vjp on a type-1 plan');
      await assertCode(() => nufft.type1VjpSync({}, c, c), 'INVALID_ARGUMENT', 'VJP without a plan');
      const gp = P({ eps: 1e-5, gradient: true });
      gp.setPointsSync(tensor(rnd(2 * M, Float32Array), { shape: [2, M] }));
      await assertCode(() => nufft.type1VjpSync(gp, c, rk.zeros([8, 8], { dtype: 'complex64' })), 'INVALID_ARGUMENT', 'VJP of a gradient plan');
      gp.dispose();
      plan.dispose();
      await assertCode(() => plan.executeSync(c), 'DISPOSED', 'execute after dispose');
      await assertCode(() => plan.execute(c), 'DISPOSED', 'async execute after dispose');
      await assertCode(() => plan.setPoints(tensor(rnd(2 * M, Float32Array), { shape: [2, M] })), 'DISPOSED', 'setPoints after dispose');
      await assertCode(() => plan.timings(), 'DISPOSED', 'timings after dispose');
      await assertCode(() => nufft.type2(tensor(rnd(2 * M), { shape: [2, M] }), tensor(rnd(2 * 2 * 8 * 8 * 8), { shape: [2, 8, 8, 8], dtype: 'complex128' }), { backend }), 'INVALID_SHAPE', 'type2 f of the wrong rank');
      await assertCode(() => nufft.type1(tensor(rnd(2 * M), { shape: [2, M] }), c, [8, 8], { backend }), 'INVALID_DTYPE', 'one-call dtype mismatch');
      await assertCode(() => nufft.type1(tensor(rnd(2 * M), { shape: [2, M] }), c, [8, 8], { backend, dtype: 'complex128' }), 'INVALID_ARGUMENT', 'one-call with dtype option');
    });
  });
}

describe('nufft backend selection', () => {
  it('backend native without a NufftPlan-capable addon is BACKEND_UNAVAILABLE; default falls back to js', async function () {
    const p = nufft.plan({ type: 1, modes: [8] });
    assert.strictEqual(p.info.backend, nufft.nativeNufftAvailable() && process.env.RECON_KERNELS_BACKEND !== 'js' ? 'native' : 'js');
    p.dispose();
    if (nufft.nativeNufftAvailable()) this.skip();
    const err = await assertCode(() => nufft.plan({ type: 1, modes: [8], backend: 'native' }), 'BACKEND_UNAVAILABLE', 'native NUFFT missing');
    assert.match(err.message, /addon|NufftPlan/);
  });

  if (BACKENDS.includes('native')) {
    it('native and js agree to eps', () => {
      const modes = [16, 12], M = 300, d = 2;
      const pts = tensor(randomPoints(d, M), { shape: [d, M] });
      const f = tensor(rnd(2 * prod(modes)), { shape: modes, dtype: 'complex128' });
      const [a, b] = ['js', 'native'].map((backend) => nufft.type2Sync(pts, f, { backend, eps: 1e-10, gradient: true }).toArraySync());
      assert.ok(relErr(b, a) < 4e-10, `native vs js ${relErr(b, a)}`);
    });
  }
});

describe('nufft native adapter (against a stand-in addon with the NufftPlan interface)', () => {
  // The real native NUFFT may not be built here; this checks the wiring of lib/nufft/backends.ts
  // (options passed, sync/async calls, info, timings, error codes, dispose) with a fake addon
  // whose NufftPlan runs the js core. A child process, because the addon loads once per process.
  it('passes the documented options and runs sync and async through the native adapter', function () {
    this.timeout(30000);
    const fs = require('fs'), os = require('os'), path = require('path'), { execFileSync } = require('child_process');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rk-nufft-fake-'));
    const root = path.resolve(__dirname, '..');
    const fake = path.join(dir, 'fake-addon.js');
    fs.writeFileSync(fake, `
      const { JsNufftCore } = require(${JSON.stringify(path.join(root, 'dist/lib/js/nufft-core.js'))});
      const log = [];
      class NufftPlan {
        constructor(o) {
          log.push(['new', o]);
          if (o.eps > 0.5) { const e = new Error('fake: eps too large'); e.code = 'INVALID_ARGUMENT'; throw e; }
          this.core = new JsNufftCore({ type: o.type, modes: o.modes, eps: o.eps, precision: o.dtype === 'complex64' ? 'float32' : 'float64', ntransf: o.ntransf, isign: o.isign, modeord: o.modeord, upsampfac: o.upsampfac, gradient: o.gradient });
          const i = this.core.info;
          this.info = { width: i.width, beta: i.beta, upsampfac: i.upsampfac, fineGrid: i.fineGrid, gradientWidthIncrease: i.gradientWidthIncrease || 0 };
        }
        setPoints(p, M, sync) { log.push(['setPoints', M, sync]); const run = () => this.core.setPoints(p, M); if (sync) return run(); return new Promise((res) => setImmediate(() => { run(); res(); })); }
        execute(i, o, sync) { log.push(['execute', i.constructor.name, o.length, sync]); const run = () => this.core.execute(i, o); if (sync) return run(); return new Promise((res) => setImmediate(() => { run(); res(); })); }
        timings() { return { sortMs: 1, spreadMs: 2, fftMs: 3, deconvolveMs: 4, totalMs: 10 }; }
        dispose() { log.push(['dispose']); }
      }
      module.exports = {
        log, NufftPlan,
        buildInfo: () => ({ cuda: false, cudaVersion: '', cudaArchitectures: '', compiler: 'fake', builder: 'fake', buildType: 'fake', addonVersion: '0' }),
        cudaInfo: () => ({ compiled: false, available: false, reason: 'fake addon', runtimeVersion: 0, driverVersion: 0, devices: [] }),
        cufftInfo: () => ({ loaded: false, version: 0, path: '', error: 'fake', searched: [] }),
        hardwareThreads: () => 1,
      };`);
    const script = `
      (async () => {
        const rk = require(${JSON.stringify(root)});
        const { directNudft2 } = require(${JSON.stringify(path.join(root, 'dist/lib/js/nudft.js'))});
        const fake = require(${JSON.stringify(fake)});
        const out = {};
        const M = 40, modes = [7, 6];
        const pts = Float64Array.from({ length: 2 * M }, (_, i) => Math.sin(i * 1.7) * 4);
        const f = Float64Array.from({ length: 2 * 42 }, (_, i) => Math.cos(i * 0.9));
        const plan = rk.nufft.plan({ type: 2, modes, eps: 1e-9, dtype: 'complex128' });
        out.backend = plan.info.backend;
        out.width = plan.info.width;
        plan.setPointsSync(rk.tensor(pts, { shape: [2, M] }));
        const a = plan.executeSync(rk.tensor(f, { shape: modes, dtype: 'complex128' })).toArraySync();
        await plan.setPoints(rk.tensor(pts, { shape: [2, M] }));
        const b = (await plan.execute(rk.tensor(f, { shape: modes, dtype: 'complex128' }))).toArraySync();
        const ref = directNudft2({ points: pts, M, modes, coefs: f });
        const err = (x) => Math.sqrt(x.reduce((s, v, i) => s + (v - ref[i]) ** 2, 0) / ref.reduce((s, v) => s + v * v, 0));
        out.errs = [err(a), err(b)];
        out.timings = plan.timings();
        const g = rk.nufft.type2VjpSync(plan, rk.tensor(f, { shape: modes, dtype: 'complex128' }), rk.tensor(ref, { dtype: 'complex128' }));
        out.vjpShapes = [g.data.shape, g.points.shape];
        plan.dispose();
        try { rk.nufft.plan({ type: 1, modes, eps: 0.9, backend: 'native' }); } catch (e) { out.ctorError = e.code; }
        out.log = fake.log.map((l) => l[0] === 'new' ? ['new', Object.keys(l[1]).sort().join(','), l[1].isign, l[1].gradient, l[1].width, l[1].device] : l);
        console.log(JSON.stringify(out));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const env = { ...process.env, RECON_KERNELS_NATIVE: fake, RECON_KERNELS_BACKEND: '' };
    const res = JSON.parse(execFileSync(process.execPath, ['-e', script], { env, encoding: 'utf8' }).trim().split('\n').pop());
    fs.rmSync(dir, { recursive: true, force: true });
    assert.strictEqual(res.backend, 'native');
    assert.ok(res.width >= 2);
    res.errs.forEach((e) => assert.ok(e < 2e-9, `error ${e}`));
    assert.deepStrictEqual(res.timings, { sortMs: 1, spreadMs: 2, fftMs: 3, deconvolveMs: 4, totalMs: 10 });
    assert.deepStrictEqual(res.vjpShapes, [[7, 6], [2, 40]]);
    assert.strictEqual(res.ctorError, 'INVALID_ARGUMENT');
    const keys = 'device,dtype,eps,gradient,isign,modeord,modes,ntransf,threads,type,upsampfac,width';
    const news = res.log.filter((l) => l[0] === 'new');
    // the plan, then the VJP's type 1 (−isign) and fused type 2 (same isign) helpers, then the failing one
    assert.deepStrictEqual(news.map((l) => l.slice(1)), [[keys, -1, false, 0, -1], [keys, 1, false, 0, -1], [keys, -1, true, 0, -1], [keys, 1, false, 0, -1]]);
    assert.ok(res.log.some((l) => l[0] === 'setPoints' && l[2] === false) && res.log.some((l) => l[0] === 'execute' && l[3] === false), 'async calls reach the addon with sync = false');
    assert.strictEqual(res.log.filter((l) => l[0] === 'dispose').length, 3, 'the plan and its two helpers are disposed');
  });
});

describe('gridding spread / interp', () => {
  it('spreading one point gives the normalised separable KB kernel (φ(0) = 1) on the periodic grid', () => {
    const n = [16, 14], x = [0.3, 2 * Math.PI - 0.05];
    const k = gridding.kernel({ eps: 1e-10 });
    assert.strictEqual(k.phi(0), 1);
    assert.strictEqual(k.phi(1.01), 0);
    const g = gridding.spreadSync(tensor(Float64Array.from(x), { shape: [2, 1] }), tensor([2, -1], { dtype: 'complex128' }), n, { eps: 1e-10 }).toArraySync();
    const half = k.width / 2;
    for (let a = 0; a < n[0]; a++) {
      for (let b = 0; b < n[1]; b++) {
        const wrap = (g0, y, nn) => { let t = g0 - y; t -= nn * Math.round(t / nn); return t; };
        const wgt = k.phi(wrap(a, (x[0] * n[0]) / (2 * Math.PI), n[0]) / half) * k.phi(wrap(b, (x[1] * n[1]) / (2 * Math.PI), n[1]) / half);
        const i = 2 * (a * n[1] + b);
        assert.ok(Math.abs(g[i] - 2 * wgt) < 1e-11 && Math.abs(g[i + 1] + wgt) < 1e-11, `grid (${a}, ${b}): ${g[i]}, ${g[i + 1]} vs weight ${wgt}`);
      }
    }
  });

  it('interp is the adjoint of spread (with and without gradient rows), batch axis and complex64 included', async () => {
    for (const d of [1, 2, 3]) {
      const n = { 1: [20], 2: [12, 16], 3: [8, 10, 9] }[d], M = 40, nt = 2;
      const pts = randomPoints(d, M);
      for (const gradient of [false, true]) {
        const rows = gradient ? 1 + d : 1;
        const c = rnd(2 * nt * rows * M), g = rnd(2 * nt * prod(n));
        const P = tensor(pts, { shape: [d, M] });
        const S = (await gridding.spread(P, tensor(c, { shape: [nt, ...(gradient ? [rows] : []), M], dtype: 'complex128' }), n, { gradient, width: 6 })).toArraySync();
        const I = gridding.interpSync(P, tensor(g, { shape: [nt, ...n], dtype: 'complex128' }), { gradient, width: 6 });
        assert.deepStrictEqual(I.shape, [nt, ...(gradient ? [rows] : []), M]);
        const lhs = cdot(S, g), rhs = cdot(c, I.toArraySync());
        assert.ok(Math.hypot(lhs[0] - rhs[0], lhs[1] - rhs[1]) < 1e-12 * Math.hypot(...lhs), `d=${d} gradient ${gradient}`);
      }
    }
    const P32 = tensor(randomPoints(1, 10, Float32Array), { shape: [1, 10] });
    const s32 = gridding.spreadSync(P32, tensor(rnd(20, Float32Array), { dtype: 'complex64' }), [16]);
    assert.strictEqual(s32.dtype, 'complex64');
    assert.deepStrictEqual(s32.shape, [16]);
  });

  it('interp gradient rows match central differences in the point coordinates', () => {
    const d = 2, n = [14, 12], M = 8;
    const pts = randomPoints(d, M), g = tensor(rnd(2 * prod(n)), { shape: n, dtype: 'complex128' });
    const I = gridding.interpSync(tensor(pts, { shape: [d, M] }), g, { gradient: true, eps: 1e-10 }).toArraySync();
    const h = 1e-6;
    for (let a = 0; a < d; a++) {
      const pp = pts.slice(), pm = pts.slice();
      for (let j = 0; j < M; j++) { pp[a * M + j] += h; pm[a * M + j] -= h; }
      const vp = gridding.interpSync(tensor(pp, { shape: [d, M] }), g, { eps: 1e-10 }).toArraySync();
      const vm = gridding.interpSync(tensor(pm, { shape: [d, M] }), g, { eps: 1e-10 }).toArraySync();
      const fd = vp.map((v, i) => (v - vm[i]) / (2 * h));
      assert.ok(relErr(I.subarray(2 * (1 + a) * M, 2 * (2 + a) * M), fd) < 1e-6, `axis ${a}`);
    }
  });

  it('rejects bad inputs', async () => {
    const P = tensor(rnd(20), { shape: [2, 10] });
    const c = tensor(rnd(20), { dtype: 'complex128' });
    await assertCode(() => gridding.spreadSync(P, c, [16]), 'INVALID_ARGUMENT', 'gridShape rank');
    await assertCode(() => gridding.spreadSync(P, c, [4, 16], { width: 6 }), 'INVALID_ARGUMENT', 'grid smaller than the kernel');
    await assertCode(() => gridding.spreadSync(P, tensor(rnd(22), { dtype: 'complex128' }), [16, 16]), 'INVALID_SHAPE', 'strengths M');
    await assertCode(() => gridding.spreadSync(P, tensor(rnd(20, Float32Array), { dtype: 'complex64' }), [16, 16]), 'INVALID_DTYPE', 'points dtype');
    await assertCode(() => gridding.spreadSync(P, c, [16, 16], { backend: 'gpu' }), 'INVALID_ARGUMENT', 'unknown backend');
    await assertCode(() => gridding.spreadSync(P, c, [16, 16], { width: 40 }), 'INVALID_ARGUMENT', 'width 40');
    const bad = rnd(20);
    bad[4] = NaN;
    await assertCode(() => gridding.interp(tensor(bad, { shape: [2, 10] }), tensor(rnd(2 * 256), { shape: [16, 16], dtype: 'complex128' })), 'NON_FINITE', 'NaN points');
    await assertCode(() => gridding.interpSync(P, tensor(rnd(2 * 16), { shape: [16], dtype: 'complex128' })), 'INVALID_SHAPE', 'grid rank');
  });
});
