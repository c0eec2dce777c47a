'use strict';
// Error measures, random inputs and the raw addon-plan factory shared by the NUFFT and gridding
// test files.
const { random } = require('./helpers');

/** Relative ℓ2 error of a[off..off+len) against ref. */
function relErr(a, ref, off = 0, len = ref.length - off) {
  let e = 0, n = 0;
  for (let i = off; i < off + len; i++) { e += (a[i] - ref[i]) ** 2; n += ref[i] ** 2; }
  return Math.sqrt(e / n);
}

/** Per-row relative errors over all transforms for [ntransf, rows, M] complex arrays. */
function rowErrs(out, ref, ntransf, rows, M) {
  const errs = [];
  for (let r = 0; r < rows; r++) {
    let e = 0, n = 0;
    for (let t = 0; t < ntransf; t++) {
      const off = 2 * (t * rows + r) * M;
      for (let i = off; i < off + 2 * M; i++) { e += (out[i] - ref[i]) ** 2; n += ref[i] ** 2; }
    }
    errs.push(Math.sqrt(e / n));
  }
  return errs;
}

/** The addon's NufftPlan with FINUFFT's defaults filled in; device −1 is the CPU. */
function makeAddonPlan(addon, o, device) {
  return new addon.NufftPlan({
    type: o.type, modes: o.modes, ntransf: o.ntransf ?? 1, isign: o.isign ?? (o.type === 1 ? 1 : -1),
    modeord: o.modeord ?? 0, eps: o.eps, upsampfac: o.upsampfac ?? 2, gradient: !!o.gradient,
    dtype: o.dtype ?? 'complex128', width: o.width ?? 0, threads: o.threads ?? 0, device,
  });
}

/** n uniform values in [lo, hi) of type T (from the suite's seeded generator). */
function rnd(n, T = Float64Array, lo = -1, hi = 1) {
  const a = new T(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * random();
  return a;
}

/** Points [d, M] spread over ±`periods`·π (exercises folding, negative coordinates included). */
function randomPoints(d, M, T = Float64Array, periods = 3) {
  return rnd(d * M, T, -periods * Math.PI, periods * Math.PI);
}

/** Σ conj(a)·b over interleaved complex arrays, as [re, im]. */
function cdot(a, b) {
  let re = 0, im = 0;
  for (let i = 0; i < a.length; i += 2) {
    re += a[i] * b[i] + a[i + 1] * b[i + 1];
    im += a[i] * b[i + 1] - a[i + 1] * b[i];
  }
  return [re, im];
}

module.exports = { relErr, rowErrs, makeAddonPlan, rnd, randomPoints, cdot };
