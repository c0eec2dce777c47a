'use strict';
// MRI operators on the NUFFT (lib/mri): Toeplitz normal vs adjoint(forward), the coil-combined
// adjoint, batched trajectories, density compensation (PSF), and CG vs the gridding recon.
const assert = require('assert');
const { rk, randomArray, backends } = require('./helpers');
const { mri } = require('..');

const host = backends().filter((b) => b !== 'cuda');
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
function sheppComplex(N, dtype) {
  const h = rk.phantom.sheppLogan([N, N], { dtype: 'float64' }).hostData();
  const c = new Float64Array(2 * N * N);
  for (let i = 0; i < N * N; i++) c[2 * i] = h[i];
  return { x: rk.tensor(c, { shape: [N, N], dtype }), ref: h };
}
const imgErr = (a, ref) => {
  let e = 0, n = 0;
  for (let i = 0; i < ref.length; i++) { e += (a[2 * i] - ref[i]) ** 2 + a[2 * i + 1] ** 2; n += ref[i] ** 2; }
  return Math.sqrt(e / n);
};

describe('mri', function () {
  this.timeout(120000);
  for (const backend of host) {
    for (const [dtype, tol] of [['complex64', 1e-5], ['complex128', 1e-10]]) {
      it(`${backend} ${dtype}: Toeplitz normal equals adjoint(forward) within ${tol}`, () => {
        const N = 32, C = 3, rdt = dtype === 'complex64' ? 'float32' : 'float64';
        const traj = mri.radial({ spokes: 40, samples: 64, dtype: rdt });
        const smaps = rk.tensor(randomArray(2 * C * N * N), { shape: [C, N, N], dtype });
        // complex64: width 7 keeps the direct EᴴE itself well inside 1e-5 (the default 6 is ≈ 1e-5)
        const extra = dtype === 'complex64' ? { width: 7 } : { eps: 1e-12 };
        const Et = mri.encoding({ imageShape: [N, N], trajectory: traj, smaps, toeplitz: true, norm: 'ortho', backend, ...extra });
        const Ed = mri.encoding({ imageShape: [N, N], trajectory: traj, smaps, norm: 'ortho', backend, ...extra });
        const x = rk.tensor(randomArray(2 * 2 * N * N), { shape: [2, N, N], dtype });
        const a = Et.normalSync(x).toArraySync(), b = Ed.adjointSync(Ed.forwardSync(x)).toArraySync();
        const e = relErr(a, b);
        assert.ok(e < tol, `relative difference ${e.toExponential(2)} ≥ ${tol}`);
        Et.dispose();
        Ed.dispose();
      });
    }

    it(`${backend}: the coil-combined adjoint is the adjoint of forward (⟨Ex, y⟩ = ⟨x, Eᴴy⟩)`, () => {
      const N = 24, C = 4;
      const traj = mri.spiral({ interleaves: 8, samples: 200, dtype: 'float64' });
      const smaps = rk.tensor(randomArray(2 * C * N * N), { shape: [C, N, N], dtype: 'complex128' });
      const E = mri.encoding({ imageShape: [N, N], trajectory: traj, smaps, eps: 1e-12, backend });
      const x = rk.tensor(randomArray(2 * N * N), { shape: [N, N], dtype: 'complex128' });
      const y = rk.tensor(randomArray(2 * C * traj.shape[1]), { shape: [C, traj.shape[1]], dtype: 'complex128' });
      const Ex = E.forwardSync(x);
      assert.deepStrictEqual(Ex.shape, [C, traj.shape[1]]);
      const l = cdot(Ex.toArraySync(), y.toArraySync()), r = cdot(x.toArraySync(), E.adjointSync(y).toArraySync());
      const s = Math.hypot(l.re, l.im);
      assert.ok(Math.abs(l.re - r.re) < 1e-10 * s && Math.abs(l.im - r.im) < 1e-10 * s, `${JSON.stringify(l)} vs ${JSON.stringify(r)}`);
      E.dispose();
    });

    it(`${backend}: a batched trajectory [P, d, M] equals one operator per frame (3-D stack of stars too)`, () => {
      const N = 16, P = 3, C = 2;
      const traj = mri.radial({ spokes: 12, samples: 32, golden: true, frames: P, dtype: 'float64' });
      const smaps = rk.tensor(randomArray(2 * C * N * N), { shape: [C, N, N], dtype: 'complex128' });
      const E = mri.encoding({ imageShape: [N, N], trajectory: traj, smaps, backend, eps: 1e-10, toeplitz: true });
      const x = rk.tensor(randomArray(2 * P * N * N), { shape: [P, N, N], dtype: 'complex128' });
      const y = E.forwardSync(x), n = E.normalSync(x);
      assert.deepStrictEqual(y.shape, [P, C, 12 * 32]);
      const M = 12 * 32, th = traj.toArraySync(), xh = x.toArraySync();
      for (let p = 0; p < P; p++) {
        const tp = rk.tensor(th.slice(p * 2 * M, (p + 1) * 2 * M), { shape: [2, M], dtype: 'float64' });
        const Ep = mri.encoding({ imageShape: [N, N], trajectory: tp, smaps, backend, eps: 1e-10 });
        const xp = rk.tensor(xh.slice(p * 2 * N * N, (p + 1) * 2 * N * N), { shape: [N, N], dtype: 'complex128' });
        const yp = Ep.forwardSync(xp).toArraySync();
        assert.ok(relErr(y.toArraySync().subarray(p * yp.length, (p + 1) * yp.length), yp) < 1e-12, `frame ${p} forward`);
        const np = Ep.adjointSync(Ep.forwardSync(xp)).toArraySync();
        assert.ok(relErr(n.toArraySync().subarray(p * np.length, (p + 1) * np.length), np) < 1e-8, `frame ${p} normal`);
        Ep.dispose();
      }
      E.dispose();
      const sos = mri.stackOfStars({ spokes: 10, samples: 16, partitions: 8, dtype: 'float64' });
      const E3 = mri.encoding({ imageShape: [8, 8, 8], trajectory: sos, backend, toeplitz: true, eps: 1e-10 });
      const x3 = rk.tensor(randomArray(2 * 512), { shape: [8, 8, 8], dtype: 'complex128' });
      assert.ok(relErr(E3.normalSync(x3).toArraySync(), E3.adjointSync(E3.forwardSync(x3)).toArraySync()) < 1e-8, '3-D Toeplitz');
      E3.dispose();
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

  it('CG on the normal equations beats the density-compensated adjoint on a Shepp-Logan', async () => {
    const N = 96, traj = mri.radial({ spokes: 96, samples: 192 });
    const dcf = mri.densityCompensation(traj, { imageShape: [N, N] });
    const { x, ref } = sheppComplex(N, 'complex64');
    const E = mri.encoding({ imageShape: [N, N], trajectory: traj, dcf, toeplitz: true, norm: 'ortho' });
    const y = E.forwardSync(x);
    const eDcf = imgErr(E.dcfAdjointSync(y).toArraySync(), ref);
    const eCg = imgErr((await mri.cg(E, y, { iterations: 20 })).toArraySync(), ref);
    assert.ok(eDcf < 0.3, `gridding recon error ${eDcf}`);
    assert.ok(eCg < eDcf, `CG ${eCg} should beat the dcf adjoint ${eDcf}`);
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
