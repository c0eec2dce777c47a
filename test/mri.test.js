'use strict';
// MRI operators on the NUFFT (lib/mri): the building blocks (coil expand / combine, k-space
// weighting, casts, the fused Toeplitz normal operator and its kernel transform) against float64
// references written out here, then the operators: Toeplitz normal vs adjoint(forward), the
// coil-combined adjoint, batched trajectories, async vs sync, density compensation (PSF) and CG.
// Every backend: js, native (when the addon loaded), cuda (skipped without a GPU).
const assert = require('assert');
const { rk, randomArray, backends, needCuda, assertClose, assertCode } = require('./helpers');
const { mri } = require('..');
const kernels = require('../dist/lib/mri/kernels');
const { toeplitzApplyJs } = require('../dist/lib/mri/js');
const { addon } = require('../dist/lib/loader');
const { fromNativeError } = require('../dist/lib/errors');

const ALL = ['js', 'native', 'cuda'];
const dev = (backend) => (backend === 'cuda' ? 'cuda' : 'cpu');
/** Skips a test whose backend is not here (cuda through needCuda, so RECON_KERNELS_REQUIRE_CUDA=1 fails it). */
function need(ctx, backend) {
  if (backend === 'cuda') needCuda(ctx);
  else if (!backends().includes(backend)) ctx.skip();
}
/** Encoding options pinning a host backend (CUDA operators take none). */
const pin = (backend) => (backend === 'cuda' ? {} : { backend });
const on = (backend, t) => (backend === 'cuda' ? t.toSync('cuda') : t);
const ctxFor = (backend) => kernels.mriContext('test', rk.zeros([1], { dtype: 'float32', device: dev(backend) }), backend === 'cuda' ? undefined : backend);
const rdt = (dtype) => (dtype === 'complex64' ? 'float32' : 'float64');
const tolOf = (dtype) => (dtype === 'complex64' ? 2e-5 : 1e-12);

const relErr = (a, b) => {
  let e = 0, n = 0;
  for (let i = 0; i < b.length; i++) { e += (a[i] - b[i]) ** 2; n += b[i] ** 2; }
  return Math.sqrt(e / n);
};
/** Σ conj(a)·b of interleaved complex arrays. */
function cdot(a, b) {
  let re = 0, im = 0;
  for (let i = 0; i < a.length; i += 2) {
    re += a[i] * b[i] + a[i + 1] * b[i + 1];
    im += a[i] * b[i + 1] - a[i + 1] * b[i];
  }
  return { re, im };
}
function sheppComplex(N, dtype, device) {
  const h = rk.phantom.sheppLogan([N, N], { dtype: 'float64' }).hostData();
  const c = new Float64Array(2 * N * N);
  for (let i = 0; i < N * N; i++) c[2 * i] = h[i];
  return { x: rk.tensor(c, { shape: [N, N], dtype, device }), ref: h };
}
const imgErr = (a, ref) => {
  let e = 0, n = 0;
  for (let i = 0; i < ref.length; i++) { e += (a[2 * i] - ref[i]) ** 2 + a[2 * i + 1] ** 2; n += ref[i] ** 2; }
  return Math.sqrt(e / n);
};

// ---- float64 references ------------------------------------------------------------------------

/** Rounds like the tensor: float32 data for complex64 / float32. */
const stored = (a, dtype) => (rdt(dtype) === 'float32' ? Float64Array.from(Float32Array.from(a)) : a);
/** Complex interleaved from real (re) data. */
const complexOf = (r) => {
  const c = new Float64Array(2 * r.length);
  for (let i = 0; i < r.length; i++) c[2 * i] = r[i];
  return c;
};
function refExpand(B, C, N, scale, S, x) {
  const out = new Float64Array(2 * B * C * N);
  for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) for (let n = 0; n < N; n++) {
    const xr = x[2 * (b * N + n)], xi = x[2 * (b * N + n) + 1];
    const sr = S ? S[2 * (c * N + n)] : 1, si = S ? S[2 * (c * N + n) + 1] : 0, o = 2 * ((b * C + c) * N + n);
    out[o] = scale * (sr * xr - si * xi);
    out[o + 1] = scale * (sr * xi + si * xr);
  }
  return out;
}
function refCombine(B, C, N, scale, S, z, acc) {
  const out = acc ? Float64Array.from(acc) : new Float64Array(2 * B * N);
  for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
    const q = 2 * ((b * C + c) * N + n), sr = S ? S[2 * (c * N + n)] : 1, si = S ? S[2 * (c * N + n) + 1] : 0;
    out[2 * (b * N + n)] += scale * (sr * z[q] + si * z[q + 1]);
    out[2 * (b * N + n) + 1] += scale * (sr * z[q + 1] - si * z[q]);
  }
  return out;
}
/** The circulant column kc[t] = Σ_k K̂[k]·exp(+2πi k·t/G) of one point set (direct inverse DFT, unnormalised). */
function circulant(khat, G, off) {
  const ng = G.reduce((a, b) => a * b, 1), out = new Float64Array(2 * ng);
  const idx = (i) => { const r = []; for (let a = G.length - 1; a >= 0; a--) { r[a] = i % G[a]; i = Math.floor(i / G[a]); } return r; };
  const I = Array.from({ length: ng }, (_, i) => idx(i));
  for (let t = 0; t < ng; t++) {
    let re = 0, im = 0;
    for (let k = 0; k < ng; k++) {
      let ph = 0;
      for (let a = 0; a < G.length; a++) ph += (I[k][a] * I[t][a]) / G[a];
      const c = Math.cos(2 * Math.PI * ph), s = Math.sin(2 * Math.PI * ph), kr = khat[off + 2 * k], ki = khat[off + 2 * k + 1];
      re += kr * c - ki * s;
      im += kr * s + ki * c;
    }
    out[2 * t] = re;
    out[2 * t + 1] = im;
  }
  return out;
}
/** out[p, b, n] = Σ_c conj(S_c[n])·Σ_m kc_p[(n − m) mod G]·S_c[m]·x[p, b, m], the circular convolution written out. */
function refToeplitz(N, G, P, B, C, x, S, khat) {
  const d = N.length, nimg = N.reduce((a, b) => a * b, 1), ng = G.reduce((a, b) => a * b, 1);
  const pix = Array.from({ length: nimg }, (_, i) => { const r = []; for (let a = d - 1; a >= 0; a--) { r[a] = i % N[a]; i = Math.floor(i / N[a]); } return r; });
  const diff = (n, m) => { let t = 0; for (let a = 0; a < d; a++) t = t * G[a] + ((pix[n][a] - pix[m][a] + G[a]) % G[a]); return t; };
  const out = new Float64Array(2 * P * B * nimg);
  for (let p = 0; p < P; p++) {
    const kc = circulant(khat, G, 2 * p * ng);
    for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) {
      const xo = 2 * (p * B + b) * nimg;
      for (let n = 0; n < nimg; n++) {
        let re = 0, im = 0;
        for (let m = 0; m < nimg; m++) {
          const sr = S ? S[2 * (c * nimg + m)] : 1, si = S ? S[2 * (c * nimg + m) + 1] : 0;
          const vr = sr * x[xo + 2 * m] - si * x[xo + 2 * m + 1], vi = sr * x[xo + 2 * m + 1] + si * x[xo + 2 * m];
          const t = diff(n, m), kr = kc[2 * t], ki = kc[2 * t + 1];
          re += kr * vr - ki * vi;
          im += kr * vi + ki * vr;
        }
        const sr = S ? S[2 * (c * nimg + n)] : 1, si = S ? S[2 * (c * nimg + n) + 1] : 0;
        out[xo + 2 * n] += sr * re + si * im;
        out[xo + 2 * n + 1] += sr * im - si * re;
      }
    }
  }
  return out;
}
/** scale·DFT(k) (sign −1) per point set, written out. */
function refKhat(G, P, scale, k) {
  const ng = G.reduce((a, b) => a * b, 1), out = new Float64Array(2 * P * ng);
  const conj = new Float64Array(k.length);
  for (let i = 0; i < k.length; i += 2) { conj[i] = k[i]; conj[i + 1] = -k[i + 1]; }
  // DFT with sign −1 = conj(inverse DFT of conj(k))
  for (let p = 0; p < P; p++) {
    const c = circulant(conj, G, 2 * p * ng);
    for (let i = 0; i < ng; i++) {
      out[2 * (p * ng + i)] = scale * c[2 * i];
      out[2 * (p * ng + i) + 1] = -scale * c[2 * i + 1];
    }
  }
  return out;
}

describe('mri building blocks', function () {
  this.timeout(120000);
  for (const backend of ALL) {
    for (const dtype of ['complex64', 'complex128']) {
      it(`${backend} ${dtype}: coil expand, combine (and accumulate), weighting, cast against float64 sums`, function () {
        need(this, backend);
        const ctx = ctxFor(backend), device = dev(backend), tol = tolOf(dtype), r = rdt(dtype);
        const B = 3, C = 4, N = 37, P = 2, T = 3, M = 29;
        const S = stored(randomArray(2 * C * N), dtype), x = stored(randomArray(2 * B * N), dtype), xr = stored(randomArray(B * N), dtype);
        const St = rk.tensor(S, { shape: [C, N], dtype, device }), xt = rk.tensor(x, { shape: [B, N], dtype, device });
        const out = rk.zeros([B, C, N], { dtype, device });
        kernels.expand(ctx, true, { x: xt, xReal: false, smaps: St, out, B, C, N, scale: 0.7 });
        assertClose(out.toArraySync(), refExpand(B, C, N, 0.7, S, x), tol, 'expand');
        const xrt = rk.tensor(xr, { shape: [B, N], dtype: r, device }), out1 = rk.zeros([B, N], { dtype, device });
        kernels.expand(ctx, true, { x: xrt, xReal: true, smaps: null, out: out1, B, C: 1, N, scale: -1.5 });
        assertClose(out1.toArraySync(), refExpand(B, 1, N, -1.5, null, complexOf(xr)), tol, 'expand, real input, no maps');

        const z = stored(randomArray(2 * B * C * N), dtype), acc = stored(randomArray(2 * B * N), dtype);
        const zt = rk.tensor(z, { shape: [B, C, N], dtype, device }), ct = rk.zeros([B, N], { dtype, device });
        kernels.combine(ctx, true, { z: zt, smaps: St, out: ct, B, C, N, scale: 1.3 });
        assertClose(ct.toArraySync(), refCombine(B, C, N, 1.3, S, z), tol, 'combine');
        const at = rk.tensor(acc, { shape: [B, N], dtype, device });
        kernels.combine(ctx, true, { z: zt, smaps: St, out: at, B, C, N, scale: 0.5, accumulate: true });
        assertClose(at.toArraySync(), refCombine(B, C, N, 0.5, S, z, acc), tol, 'combine, accumulate');

        const y = stored(randomArray(2 * P * T * M), dtype), w = stored(randomArray(P * M, 0, 2), dtype);
        const yt = rk.tensor(y, { shape: [P, T, M], dtype, device }), wt = rk.tensor(w, { shape: [P, M], dtype: r, device });
        const ot = rk.zeros([P, T, M], { dtype, device });
        kernels.weight(ctx, true, { y: yt, yReal: false, w: wt, out: ot, P, T, M, scale: 0.25 });
        const wref = new Float64Array(2 * P * T * M);
        for (let p = 0; p < P; p++) for (let t = 0; t < T; t++) for (let m = 0; m < M; m++) {
          const q = (p * T + t) * M + m;
          wref[2 * q] = 0.25 * w[p * M + m] * y[2 * q];
          wref[2 * q + 1] = 0.25 * w[p * M + m] * y[2 * q + 1];
        }
        assertClose(ot.toArraySync(), wref, tol, 'weight');
        // in place (out is y): allowed, each element reads only itself
        kernels.weight(ctx, true, { y: yt, yReal: false, w: wt, out: yt, P, T, M, scale: 0.25 });
        assertClose(yt.toArraySync(), wref, tol, 'weight in place');

        const other = dtype === 'complex64' ? 'complex128' : 'complex64', src = randomArray(2 * 50);
        const dst = rk.zeros([50], { dtype: other, device });
        kernels.cast(ctx, true, { src: rk.tensor(src, { shape: [50], dtype, device }), dst, scale: 3 });
        assertClose(dst.toArraySync(), Float64Array.from(stored(src, dtype), (v) => 3 * v), 1e-6, 'cast');
        for (const t of [St, xt, out, xrt, out1, zt, ct, at, yt, wt, ot, dst]) t.dispose();
      });

      it(`${backend} ${dtype}: the fused Toeplitz operator equals the circular convolution it stands for (1-D, 2-D, 3-D; with and without maps, real input)`, function () {
        need(this, backend);
        const a = addon(), device = dev(backend), tol = dtype === 'complex64' ? 1e-5 : 1e-12;
        const cases = [
          { N: [7], G: [15], P: 2, B: 2, C: 3 },
          { N: [6, 5], G: [12, 10], P: 1, B: 3, C: 4 },
          { N: [5, 4], G: [10, 9], P: 2, B: 1, C: 1, maps: false },
          { N: [3, 4, 5], G: [6, 8, 10], P: 2, B: 1, C: 2, real: true },
        ];
        for (const c of cases) {
          const nimg = c.N.reduce((p, q) => p * q, 1), ng = c.G.reduce((p, q) => p * q, 1);
          const maps = c.maps !== false, C = maps ? c.C : 1, what = `N [${c.N}] P ${c.P} B ${c.B} C ${C}${c.real ? ' real x' : ''}`;
          const x = stored(c.real ? randomArray(c.P * c.B * nimg) : randomArray(2 * c.P * c.B * nimg), dtype);
          const S = maps ? stored(randomArray(2 * C * nimg), dtype) : null;
          const kh = stored(randomArray(2 * c.P * ng).map((v) => v / ng), dtype);
          const ref = refToeplitz(c.N, c.G, c.P, c.B, C, c.real ? complexOf(x) : x, S, kh);
          const xt = rk.tensor(x, { shape: [c.P * c.B * nimg], dtype: c.real ? rdt(dtype) : dtype, device });
          const St = S ? rk.tensor(S, { shape: [C, nimg], dtype, device }) : null;
          const kt = rk.tensor(kh, { shape: [c.P, ng], dtype, device });
          if (backend === 'js') {
            const out = new Float64Array(ref.length);
            toeplitzApplyJs({ N: c.N, G: c.G, P: c.P, B: c.B, C, x, xReal: !!c.real, smaps: S, khat: kh, out });
            assertClose(out, ref, tol, `js ${what}`);
            continue;
          }
          const op = new a.MriToeplitz({ shape: c.N, grid: c.G, dtype, device: device === 'cpu' ? -1 : 0 });
          const work = device === 'cpu' ? undefined : rk.zeros([2, ...c.G], { dtype, device });
          const run = (threads) => {
            const out = rk.zeros([c.P * c.B * nimg], { dtype, device });
            op.apply({ P: c.P, B: c.B, C, xReal: !!c.real, x: xt.storage(), smaps: St?.storage(), khat: kt.storage(), out: out.storage(), work: work?.storage(), threads }, true);
            return out.toArraySync();
          };
          const r1 = run(1);
          assertClose(r1, ref, tol, `${backend} ${what}`);
          if (backend === 'native') {
            // few threads split whole (image, coil) pairs, more threads than pairs split each FFT pass: same numbers
            for (const threads of [3, 4, 13]) assert.deepStrictEqual(run(threads), r1, `${what}: ${threads} threads differ from 1`);
          }
          op.dispose();
          for (const t of [xt, St, kt, work]) t?.dispose();
        }
      });

      it(`${backend} ${dtype}: the Toeplitz kernel transform (K̂ = scale·FFT(k), stored in ${dtype})`, function () {
        need(this, backend);
        if (backend === 'js') this.skip();  // js: toeplitzKernelJs is lib/js/fft's fftn, tested in nufft-core
        const a = addon(), device = dev(backend), G = [6, 10], P = 2, ng = 60;
        const k = randomArray(2 * P * ng), ref = refKhat(G, P, 0.125, k);
        const kt = rk.tensor(k, { shape: [P, ng], dtype: 'complex128', device }), kh = rk.zeros([P, ng], { dtype, device });
        const op = new a.MriToeplitz({ shape: [3, 5], grid: G, dtype, device: device === 'cpu' ? -1 : 0 });
        op.setKernel({ P, scale: 0.125, k: kt.storage(), khat: kh.storage(), threads: 0 }, true);
        assertClose(kh.toArraySync(), ref, dtype === 'complex64' ? 1e-6 : 1e-13, 'khat');
        op.dispose();
        kt.dispose();
        kh.dispose();
      });
    }
  }

  it('native: bad buffers and a disposed operator are errors with codes, not crashes', async function () {
    need(this, 'native');
    const a = addon();
    const op = new a.MriToeplitz({ shape: [4, 4], grid: [8, 8], dtype: 'complex64', device: -1 });
    const x = new Float32Array(32), kh = new Float32Array(128), out = new Float32Array(32);
    const args = { P: 1, B: 1, C: 1, xReal: false, x, khat: kh, out, threads: 0 };
    const call = (o) => () => {
      try {
        op.apply({ ...args, ...o }, true);
      } catch (e) {
        throw fromNativeError(e);
      }
    };
    await assertCode(call({ out: new Float32Array(8) }), 'INVALID_SHAPE', 'short out');
    await assertCode(call({ out: x }), 'INVALID_ARGUMENT', 'out is x');
    await assertCode(call({ C: 2 }), 'INVALID_ARGUMENT', 'coils without maps');
    await assertCode(call({ x: new Float64Array(32) }), 'INVALID_DTYPE', 'x of the other precision');
    op.dispose();
    await assertCode(call({}), 'DISPOSED', 'after dispose');
    const bad = () => {
      try {
        new a.MriToeplitz({ shape: [7], grid: [14], dtype: 'complex64', device: -1 });
      } catch (e) {
        throw fromNativeError(e);
      }
    };
    await assertCode(bad, 'INVALID_ARGUMENT', 'grid 14 is not 2,3,5-smooth');
  });
});

describe('mri', function () {
  this.timeout(120000);
  for (const backend of ALL) {
    for (const [dtype, tol] of [['complex64', 1e-5], ['complex128', 1e-10]]) {
      it(`${backend} ${dtype}: Toeplitz normal equals adjoint(forward) within ${tol}`, function () {
        need(this, backend);
        const N = 32, C = 3;
        const traj = on(backend, mri.radial({ spokes: 40, samples: 64, dtype: rdt(dtype) }));
        const smaps = rk.tensor(randomArray(2 * C * N * N), { shape: [C, N, N], dtype, device: dev(backend) });
        // complex64: width 7 keeps the direct EᴴE itself well inside 1e-5 (the default 6 is ≈ 1e-5)
        const extra = dtype === 'complex64' ? { width: 7 } : { eps: 1e-12 };
        const Et = mri.encoding({ imageShape: [N, N], trajectory: traj, smaps, toeplitz: true, norm: 'ortho', ...pin(backend), ...extra });
        const Ed = mri.encoding({ imageShape: [N, N], trajectory: traj, smaps, norm: 'ortho', ...pin(backend), ...extra });
        assert.strictEqual(Et.backend, backend);
        const x = rk.tensor(randomArray(2 * 2 * N * N), { shape: [2, N, N], dtype, device: dev(backend) });
        const n = Et.normalSync(x);
        assert.strictEqual(n.dtype, dtype);
        assert.strictEqual(n.device, dev(backend));
        const a = n.toArraySync(), b = Ed.adjointSync(Ed.forwardSync(x)).toArraySync();
        const e = relErr(a, b);
        assert.ok(e < tol, `relative difference ${e.toExponential(2)} ≥ ${tol}`);
        Et.dispose();
        Ed.dispose();
      });
    }

    it(`${backend}: the coil-combined adjoint is the adjoint of forward (⟨Ex, y⟩ = ⟨x, Eᴴy⟩)`, function () {
      need(this, backend);
      const N = 24, C = 4, device = dev(backend);
      const traj = on(backend, mri.spiral({ interleaves: 8, samples: 200, dtype: 'float64' }));
      const smaps = rk.tensor(randomArray(2 * C * N * N), { shape: [C, N, N], dtype: 'complex128', device });
      const E = mri.encoding({ imageShape: [N, N], trajectory: traj, smaps, eps: 1e-12, ...pin(backend) });
      const x = rk.tensor(randomArray(2 * N * N), { shape: [N, N], dtype: 'complex128', device });
      const y = rk.tensor(randomArray(2 * C * traj.shape[1]), { shape: [C, traj.shape[1]], dtype: 'complex128', device });
      const Ex = E.forwardSync(x);
      assert.deepStrictEqual(Ex.shape, [C, traj.shape[1]]);
      const l = cdot(Ex.toArraySync(), y.toArraySync()), r = cdot(x.toArraySync(), E.adjointSync(y).toArraySync());
      const s = Math.hypot(l.re, l.im);
      assert.ok(Math.abs(l.re - r.re) < 1e-10 * s && Math.abs(l.im - r.im) < 1e-10 * s, `${JSON.stringify(l)} vs ${JSON.stringify(r)}`);
      E.dispose();
    });

    it(`${backend}: a batched trajectory [P, d, M] equals one operator per frame (3-D stack of stars too)`, function () {
      need(this, backend);
      const N = 16, P = 3, C = 2, device = dev(backend);
      const trajH = mri.radial({ spokes: 12, samples: 32, golden: true, frames: P, dtype: 'float64' });
      const traj = on(backend, trajH);
      const smaps = rk.tensor(randomArray(2 * C * N * N), { shape: [C, N, N], dtype: 'complex128', device });
      const E = mri.encoding({ imageShape: [N, N], trajectory: traj, smaps, ...pin(backend), eps: 1e-10, toeplitz: true });
      const x = rk.tensor(randomArray(2 * P * N * N), { shape: [P, N, N], dtype: 'complex128', device });
      const y = E.forwardSync(x), n = E.normalSync(x);
      assert.deepStrictEqual(y.shape, [P, C, 12 * 32]);
      const M = 12 * 32, th = trajH.toArraySync(), xh = x.toArraySync();
      for (let p = 0; p < P; p++) {
        const tp = rk.tensor(th.slice(p * 2 * M, (p + 1) * 2 * M), { shape: [2, M], dtype: 'float64', device });
        const Ep = mri.encoding({ imageShape: [N, N], trajectory: tp, smaps, ...pin(backend), eps: 1e-10 });
        const xp = rk.tensor(xh.slice(p * 2 * N * N, (p + 1) * 2 * N * N), { shape: [N, N], dtype: 'complex128', device });
        const yp = Ep.forwardSync(xp).toArraySync();
        assert.ok(relErr(y.toArraySync().subarray(p * yp.length, (p + 1) * yp.length), yp) < 1e-12, `frame ${p} forward`);
        const np = Ep.adjointSync(Ep.forwardSync(xp)).toArraySync();
        assert.ok(relErr(n.toArraySync().subarray(p * np.length, (p + 1) * np.length), np) < 1e-8, `frame ${p} normal`);
        Ep.dispose();
      }
      E.dispose();
      const sos = on(backend, mri.stackOfStars({ spokes: 10, samples: 16, partitions: 8, dtype: 'float64' }));
      const E3 = mri.encoding({ imageShape: [8, 8, 8], trajectory: sos, ...pin(backend), toeplitz: true, eps: 1e-10 });
      const x3 = rk.tensor(randomArray(2 * 512), { shape: [8, 8, 8], dtype: 'complex128', device });
      assert.ok(relErr(E3.normalSync(x3).toArraySync(), E3.adjointSync(E3.forwardSync(x3)).toArraySync()) < 1e-8, '3-D Toeplitz');
      E3.dispose();
    });

    it(`${backend}: async forward / adjoint / dcfAdjoint / normal equal the sync ones; inputs of other dtypes are converted on the device`, async function () {
      need(this, backend);
      const N = 20, C = 3, device = dev(backend);
      const traj = on(backend, mri.radial({ spokes: 30, samples: 40 }));
      const smaps = rk.tensor(randomArray(2 * C * N * N), { shape: [C, N, N], dtype: 'complex64', device });
      const dcf = rk.tensor(randomArray(traj.shape[1], 0, 1e-3), { dtype: 'float64', device });
      const E = mri.encoding({ imageShape: [N, N], trajectory: traj, smaps, dcf, toeplitz: true, norm: 'ortho', ...pin(backend) });
      const xr = randomArray(2 * N * N);
      const img = rk.tensor(xr, { shape: [N, N], dtype: 'complex64', device });
      const y = rk.tensor(randomArray(2 * C * traj.shape[1]), { shape: [C, traj.shape[1]], dtype: 'complex64', device });
      const pairs = [
        [await E.forward(img), E.forwardSync(img)],
        [await E.adjoint(y), E.adjointSync(y)],
        [await E.dcfAdjoint(y), E.dcfAdjointSync(y)],
        [await E.normal(img), E.normalSync(img)],
      ];
      for (const [a, b] of pairs) {
        assert.strictEqual(a.dtype, 'complex64');
        assert.strictEqual(a.device, device);
        // Host backends are deterministic; CUDA type-1 spreading adds with atomics (last bits vary).
        if (backend === 'cuda') assert.ok(relErr(a.toArraySync(), b.toArraySync()) < 1e-6);
        else assert.deepStrictEqual(Array.from(a.toArraySync()), Array.from(b.toArraySync()));
      }
      // complex128 and real images, real k-space: the same as their complex64 versions
      const same = (a, b, what) => assert.ok(relErr(a.toArraySync(), b.toArraySync()) < 1e-6, what);
      same(E.forwardSync(rk.tensor(xr, { shape: [N, N], dtype: 'complex128', device })), pairs[0][1], 'complex128 image');
      const re = randomArray(N * N), reC = new Float64Array(2 * N * N);
      for (let i = 0; i < N * N; i++) reC[2 * i] = re[i];
      const reT = rk.tensor(re, { shape: [N, N], dtype: 'float32', device }), reCT = rk.tensor(reC, { shape: [N, N], dtype: 'complex64', device });
      same(E.forwardSync(reT), E.forwardSync(reCT), 'real image, forward');
      same(await E.normal(reT), E.normalSync(reCT), 'real image, Toeplitz normal');
      const yre = randomArray(C * traj.shape[1]), yreC = new Float64Array(2 * yre.length);
      for (let i = 0; i < yre.length; i++) yreC[2 * i] = yre[i];
      same(E.adjointSync(rk.tensor(yre, { shape: [C, traj.shape[1]], dtype: 'float64', device })), E.adjointSync(rk.tensor(yreC, { shape: [C, traj.shape[1]], dtype: 'complex64', device })), 'real k-space');
      // dispose while a call is in flight: the call still resolves, later calls are DISPOSED
      const pending = E.normal(img);
      E.dispose();
      assert.strictEqual((await pending).dtype, 'complex64');
      await assertCode(() => E.forward(img), 'DISPOSED', 'forward after dispose');
      assert.throws(() => E.adjointSync(y), (e) => e.code === 'DISPOSED');
    });

    it(`${backend}: CG (async and sync) keeps its vectors on the device and beats the density-compensated adjoint`, async function () {
      need(this, backend);
      const N = 96, device = dev(backend);
      const trajH = mri.radial({ spokes: 96, samples: 192 });
      const dcf = on(backend, mri.densityCompensation(trajH, { imageShape: [N, N] }));
      const traj = on(backend, trajH);
      const { x, ref } = sheppComplex(N, 'complex64', device);
      const E = mri.encoding({ imageShape: [N, N], trajectory: traj, dcf, toeplitz: true, norm: 'ortho', ...pin(backend) });
      const y = E.forwardSync(x);
      const eDcf = imgErr(E.dcfAdjointSync(y).toArraySync(), ref);
      const seen = [];
      const xa = await mri.cg(E, y, { iterations: 20, callback: (it, rel, xi) => seen.push([it, rel, xi.device]) });
      const xs = mri.cgSync(E, y, { iterations: 20 });
      assert.strictEqual(xa.device, device);
      assert.strictEqual(xa.dtype, 'complex64');
      assert.strictEqual(seen.length, 20);
      assert.ok(seen.every(([, , d]) => d === device));
      assert.ok(seen[19][1] < seen[0][1], 'the residual falls');
      assert.ok(relErr(xa.toArraySync(), xs.toArraySync()) < 1e-6, 'async and sync CG agree');
      const eCg = imgErr(xa.toArraySync(), ref);
      assert.ok(eDcf < 0.3, `gridding recon error ${eDcf}`);
      assert.ok(eCg < eDcf, `CG ${eCg} should beat the dcf adjoint ${eDcf}`);
      // λ > 0 solves (EᴴE + λI)x = Eᴴy: check the residual of the normal equations
      const xl = mri.cgSync(E, y, { iterations: 60, lambda: 0.5 });
      const lhs = E.normalSync(xl).toArraySync(), rhs = E.adjointSync(y).toArraySync(), xv = xl.toArraySync();
      for (let i = 0; i < lhs.length; i++) lhs[i] += 0.5 * xv[i];
      assert.ok(relErr(lhs, rhs) < 1e-3, `Tikhonov residual ${relErr(lhs, rhs)}`);
      E.dispose();
    });
  }

  it('density compensation makes the radial PSF close to a delta', () => {
    const N = 64, traj = mri.radial({ spokes: 100, samples: 128 });
    const dcf = mri.densityCompensation(traj, { imageShape: [N, N], iterations: 10 });
    const E = mri.encoding({ imageShape: [N, N], trajectory: traj, dcf });
    const d = new Float64Array(2 * N * N), c = (N / 2) * N + N / 2;
    d[2 * c] = 1;
    const psf = E.dcfAdjointSync(E.forwardSync(rk.tensor(d, { shape: [N, N], dtype: 'complex64' }))).toArraySync();
    const peak = Math.hypot(psf[2 * c], psf[2 * c + 1]);
    let side = 0;
    for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) {
      if (Math.hypot(i - N / 2, j - N / 2) < 3) continue;
      side = Math.max(side, Math.hypot(psf[2 * (i * N + j)], psf[2 * (i * N + j) + 1]));
    }
    // the disc covered by radial spokes has area π/4 of the square: peak ≈ 0.785
    assert.ok(peak > 0.6 && peak < 0.95, `peak ${peak}`);
    assert.ok(side < 0.05 * peak, `sidelobe ${side} vs peak ${peak}`);
    // without compensation the PSF is dominated by the oversampled centre
    const E1 = mri.encoding({ imageShape: [N, N], trajectory: traj, dcf: rk.tensor(new Float32Array(traj.shape[1]).fill(1 / traj.shape[1])) });
    const psf1 = E1.dcfAdjointSync(E1.forwardSync(rk.tensor(d, { shape: [N, N], dtype: 'complex64' }))).toArraySync();
    const p1 = Math.hypot(psf1[2 * c], psf1[2 * c + 1]), n1 = Math.hypot(psf1[2 * (c + 3)], psf1[2 * (c + 3) + 1]);
    assert.ok(n1 > 0.1 * p1, 'uncompensated PSF should be broad');
    E.dispose();
    E1.dispose();
  });

  it('image sizes whose doubled grid is not 2,3,5-smooth use the next smooth grid (N = 7 → G = 16)', function () {
    for (const backend of backends().filter((b) => b !== 'cuda')) {
      const traj = mri.radial({ spokes: 9, samples: 14, dtype: 'float64' });
      const E = mri.encoding({ imageShape: [7, 7], trajectory: traj, toeplitz: true, eps: 1e-12, backend });
      const x = rk.tensor(randomArray(2 * 49), { shape: [7, 7], dtype: 'complex128' });
      assert.ok(relErr(E.normalSync(x).toArraySync(), E.adjointSync(E.forwardSync(x)).toArraySync()) < 1e-10, backend);
      E.dispose();
    }
  });

  it('operator inputs on another device or of a bad shape are errors with codes', async () => {
    const traj = mri.radial({ spokes: 4, samples: 8 });
    const E = mri.encoding({ imageShape: [8, 8], trajectory: traj });
    await assertCode(() => E.forward(rk.zeros([8, 9], { dtype: 'complex64' })), 'INVALID_SHAPE', 'bad image');
    await assertCode(() => E.adjointSync(rk.zeros([5], { dtype: 'complex64' })), 'INVALID_SHAPE', 'bad kspace');
    await assertCode(() => E.dcfAdjoint(rk.zeros([32], { dtype: 'complex64' })), 'INVALID_ARGUMENT', 'no dcf');
    await assertCode(() => mri.encoding({ imageShape: [8, 8], trajectory: traj, dcf: rk.zeros([32], { dtype: 'complex64' }) }), 'INVALID_DTYPE', 'complex dcf');
    E.dispose();
  });

  it('trajectory helpers: shapes and ranges', () => {
    const r = mri.radial({ spokes: 4, samples: 8 });
    assert.deepStrictEqual(r.shape, [2, 32]);
    assert.deepStrictEqual(mri.radial({ spokes: 4, samples: 8, golden: true, frames: 5 }).shape, [5, 2, 32]);
    assert.deepStrictEqual(mri.spiral({ interleaves: 3, samples: 10 }).shape, [2, 30]);
    assert.deepStrictEqual(mri.stackOfStars({ spokes: 3, samples: 4, partitions: 5 }).shape, [3, 60]);
    const k = mri.kooshball({ spokes: 7, samples: 6, dtype: 'float64' });
    assert.deepStrictEqual(k.shape, [3, 42]);
    for (const v of k.toArraySync()) assert.ok(Math.abs(v) <= Math.PI + 1e-12);
  });
});
