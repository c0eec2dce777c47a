'use strict';
// Error measures and the raw addon-plan factory shared by the NUFFT test files.

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

module.exports = { relErr, rowErrs, makeAddonPlan };
