/**
 * Backend-independent NUFFT parameter choice: Kaiser–Bessel kernel, widths,
 * fine-grid sizes, deconvolution factors and the piecewise-polynomial
 * coefficients every backend (TS, C++, CUDA) uses to evaluate the kernel.
 *
 * Units: the kernel argument z is distance / (w/2) in fine-grid cells, so the
 * support is |z| ≤ 1 and spans w cells. No Node-specific APIs in this file.
 */

export type NufftPrecision = 'float32' | 'float64';
export type UpsampFac = 2 | 1.25;

/** Smallest eps supported per precision (relative ℓ2 error target). */
export const EPS_LIMIT: Readonly<Record<NufftPrecision, number>> = { float64: 1e-12, float32: 1e-6 };

/** Kernel parameters shared by all backends. */
export interface KernelParams {
  /** Kernel width w in fine-grid cells (number of grid points touched per axis). */
  width: number;
  /** Kaiser–Bessel shape parameter β. */
  beta: number;
  /** Upsampling factor σ (fine grid ≈ σ·N). */
  upsampfac: UpsampFac;
  /** Width added on top of the plain choice so gradient rows meet eps (0 when gradient is off). */
  gradientWidthIncrease: number;
  /** Piecewise-polynomial coefficients for fast evaluation (see {@link kernelPolynomial}). */
  poly: KernelPolynomial;
}

/**
 * Piecewise polynomial approximation of φ and dφ/dz on the w unit-cell pieces
 * of the support. For a point at fine-grid coordinate y, the first grid point
 * touched is i0 = ⌈y − w/2⌉; with u = 2·(i0 − (y − w/2)) − 1 ∈ [−1, 1), the
 * weight of grid point i0 + j (0 ≤ j < w) is Σ_p coeffs[p·w + j]·u^(degree−p)
 * (highest power first, i.e. Horner order), and dφ/dz likewise from dcoeffs.
 */
export interface KernelPolynomial {
  width: number;
  degree: number;
  /** Row-major [degree+1][width], highest power first. */
  coeffs: number[];
  /** Same layout, for dφ/dz (derivative with respect to z, not y). */
  dcoeffs: number[];
}

/**
 * Modified Bessel function I0 by its power series; all terms are positive
 * so there is no cancellation for the arguments used here (x ≲ 60).
 */
export function besselI0(x: number): number {
  const q = (x * x) / 4;
  let term = 1, sum = 1;
  for (let k = 1; k < 500; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return sum;
}

/**
 * Kaiser–Bessel kernel φ(z) = I0(β·√(1 − z²)) for |z| ≤ 1, 0 outside.
 * Not normalised: φ(±1) = 1 and φ(0) = I0(β).
 */
export function kbKernel(z: number, beta: number): number {
  const t = 1 - z * z;
  return t < 0 ? 0 : besselI0(beta * Math.sqrt(t));
}

/**
 * dφ/dz of {@link kbKernel}. Uses φ = Σ_k q^k/(k!)² with q = β²(1 − z²)/4,
 * so dφ/dz = −(β² z/2)·Σ_{k≥1} k·q^(k−1)/(k!)², with no singularity at |z| = 1.
 */
export function kbKernelDerivative(z: number, beta: number): number {
  const t = 1 - z * z;
  if (t < 0) return 0;
  const q = (beta * beta * t) / 4;
  // term_k = k q^(k−1)/(k!)²; term_{k+1}/term_k = q (k+1)/(k (k+1)²) = q/(k (k+1))
  let term = 1, sum = 1;
  for (let k = 1; k < 500; k++) {
    term *= q / (k * (k + 1));
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return (-(beta * beta * z) / 2) * sum;
}

/** Beatty et al. (2005) β for width w and upsampling σ. */
export function kbBeta(width: number, upsampfac: number): number {
  const a = (width / upsampfac) * (upsampfac - 0.5);
  return Math.PI * Math.sqrt(a * a - 0.8);
}

/**
 * Plain kernel width for a relative-ℓ2 target eps, from measurements against
 * the direct NUDFT (d = 1..3, both types): σ = 2 needs ⌈log10(1/eps)⌉ + 1
 * (error ≈ 0.5–1.1·eps); σ = 1.25 gains ≈ 0.615 digits per unit of width
 * (error ≈ 7e-3 at w = 4), so w = ⌈1.63·log10(1/eps) + 0.98⌉ (error ≤ ≈0.5·eps).
 */
export function widthForEps(eps: number, upsampfac: UpsampFac): number {
  const digits = Math.log10(1 / eps);
  const w = upsampfac === 2 ? Math.ceil(digits - 1e-9) + 1 : Math.ceil(1.63 * digits + 0.98 - 1e-9);
  return Math.max(2, Math.min(w, upsampfac === 2 ? 16 : 20));
}

/**
 * Smallest eps supported for a precision and σ. At σ = 2 float32 round-off
 * floors the error at ≈ 2e-7 (measured, d = 1..3, M up to 1e6), so 1e-6 is met
 * with width 7 (error ≤ ≈ 1e-6). With σ = 1.25 the deconvolution factors
 * 1/φ̂(k) near the band edge amplify round-off, more so for wider kernels:
 * float64 floors at ≈ 1e-11 (limit 1e-10); float32 at ≈ 2e-5 in 3-D with
 * width 8 and worse beyond (3e-4 at width 10), so its limit is 1e-4.
 */
export function epsLimit(dtype: NufftPrecision, upsampfac: UpsampFac): number {
  if (upsampfac === 1.25) return dtype === 'float64' ? 1e-10 : 1e-4;
  return EPS_LIMIT[dtype];
}

/**
 * Extra width for fused gradients: derivative rows carry the aliasing error
 * weighted by |k + m·nf| instead of |k|, measured ≈ 4–10× the value error,
 * i.e. about one unit of width at both σ.
 */
export function gradientWidthIncrease(upsampfac: UpsampFac): number {
  void upsampfac;
  return 1;
}

/**
 * Chooses the kernel for a tolerance.
 *
 * @param opts.eps relative ℓ2 error target (float64 ≥ 1e-12, or ≥ 1e-10 at σ = 1.25; float32 ≥ 1e-6, or ≥ 1e-4 at σ = 1.25)
 * @param opts.upsampfac σ ∈ {2, 1.25} (default 2)
 * @param opts.dtype storage precision (default 'float64')
 * @param opts.gradient widen the kernel so derivative rows also meet eps
 * @param opts.dim spatial dimension (1–3); currently does not change the choice
 * @throws Error when eps is below the precision's limit or σ is unsupported
 */
export function chooseKernel(opts: {
  eps: number;
  upsampfac?: number;
  dtype?: NufftPrecision;
  gradient?: boolean;
  dim?: number;
  /** Override the plain width (tuning/experiments); gradient increase still applies. */
  width?: number;
}): KernelParams {
  const dtype = opts.dtype ?? 'float64';
  const upsampfac = (opts.upsampfac ?? 2) as UpsampFac;
  if (upsampfac !== 2 && upsampfac !== 1.25) {
    throw new Error(`upsampfac must be 2 or 1.25, got ${opts.upsampfac}`);
  }
  const eps = opts.eps;
  if (!(eps > 0) || !Number.isFinite(eps)) throw new Error(`eps must be a positive finite number, got ${eps}`);
  const limit = epsLimit(dtype, upsampfac);
  if (eps < limit) {
    throw new Error(`eps ${eps} is below the supported limit ${limit.toExponential()} for ${dtype} at upsampfac ${upsampfac}`);
  }
  const inc = opts.gradient ? gradientWidthIncrease(upsampfac) : 0;
  const width = (opts.width ?? widthForEps(Math.min(eps, 1e-1), upsampfac)) + inc;
  const beta = kbBeta(width, upsampfac);
  const poly = kernelPolynomial(width, beta, kernelFitTolerance(eps, upsampfac));
  return { width, beta, upsampfac, gradientWidthIncrease: inc, poly };
}

/** Smallest even 2,3,5-smooth integer ≥ n. */
export function nextSmooth235Even(n: number): number {
  let m = Math.max(2, Math.ceil(n));
  if (m % 2) m++;
  for (;; m += 2) {
    let r = m;
    while (r % 2 === 0) r /= 2;
    while (r % 3 === 0) r /= 3;
    while (r % 5 === 0) r /= 5;
    if (r === 1) return m;
  }
}

/**
 * Fine-grid size for one axis: smallest even 2,3,5-smooth size ≥ max(σ·N, 2w).
 *
 * @param N number of modes on the axis
 * @param upsampfac σ
 * @param width kernel width w
 */
export function fineGridSize(N: number, upsampfac: number, width: number): number {
  return nextSmooth235Even(Math.max(Math.ceil(upsampfac * N - 1e-9), 2 * width));
}

/** Gauss–Legendre nodes and weights on [−1, 1] (Newton on P_n). */
export function gaussLegendre(n: number): { nodes: number[]; weights: number[] } {
  const nodes = new Array<number>(n), weights = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let x = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let dp = 1;
    for (let it = 0; it < 100; it++) {
      let p0 = 1, p1 = x;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1; p1 = p2;
      }
      dp = (n * (x * p1 - p0)) / (x * x - 1);
      const dx = p1 / dp;
      x -= dx;
      if (Math.abs(dx) < 1e-16) break;
    }
    let p0 = 1, p1 = x;
    for (let k = 2; k <= n; k++) {
      const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
      p0 = p1; p1 = p2;
    }
    dp = (n * (x * p1 - p0)) / (x * x - 1);
    nodes[i] = x;
    weights[i] = 2 / ((1 - x * x) * dp * dp);
  }
  return { nodes, weights };
}

/**
 * Deconvolution factors: the kernel's Fourier transform
 * φ̂(k) = ∫ φ(t/(w/2)) e^{2πi k t/nf} dt (t in fine-grid cells)
 *      = (w/2)·∫_{−1}^{1} φ(z) cos(π k w z / nf) dz,
 * by Gauss–Legendre quadrature (as FINUFFT's onedim_fseries_kernel).
 *
 * @param width kernel width w
 * @param beta KB β
 * @param nf fine-grid size on this axis
 * @param N number of modes; result index i ↔ k = −⌊N/2⌋ + i
 * @returns Float64Array of length N with φ̂(k) (real, positive)
 */
export function kernelFourierSeries(width: number, beta: number, nf: number, N: number): Float64Array {
  // φ is entire; oscillation ≤ π w/(2σ) rad over [−1, 1], so this is ample.
  const q = Math.max(32, 2 * width + 24);
  const { nodes, weights } = gaussLegendre(q);
  const phi = nodes.map((z) => kbKernel(z, beta));
  const out = new Float64Array(N);
  const k0 = -Math.floor(N / 2);
  for (let i = 0; i < N; i++) {
    const k = k0 + i;
    let s = 0;
    for (let j = 0; j < q; j++) s += weights[j] * phi[j] * Math.cos((Math.PI * k * width * nodes[j]) / nf);
    out[i] = (width / 2) * s;
  }
  return out;
}

function chebFitMonomial(f: (u: number) => number, degree: number): number[] {
  const n = degree + 1;
  const vals = new Array<number>(n);
  for (let i = 0; i < n; i++) vals[i] = f(Math.cos((Math.PI * (i + 0.5)) / n));
  const cheb = new Array<number>(n).fill(0);
  for (let k = 0; k < n; k++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += vals[i] * Math.cos((Math.PI * k * (i + 0.5)) / n);
    cheb[k] = ((k === 0 ? 1 : 2) / n) * s;
  }
  // Monomial coefficients (lowest power first) via the T_k recurrence.
  const mono = new Array<number>(n).fill(0);
  let tPrev = [1], tCur = [0, 1];
  mono[0] += cheb[0];
  if (n > 1) mono[1] += cheb[1];
  for (let k = 2; k < n; k++) {
    const tNext = new Array<number>(k + 1).fill(0);
    for (let p = 0; p < tCur.length; p++) tNext[p + 1] += 2 * tCur[p];
    for (let p = 0; p < tPrev.length; p++) tNext[p] -= tPrev[p];
    for (let p = 0; p <= k; p++) mono[p] += cheb[k] * tNext[p];
    tPrev = tCur; tCur = tNext;
  }
  return mono;
}

/**
 * Tolerance for the kernel's polynomial fit (max error of φ and dφ/dz relative to their maxima)
 * for a NUFFT of relative error eps at oversampling σ. The fit error reaches the output divided by
 * φ̂(k), most at the band edge; measured on single modes (band edges included), 1e-2·eps at σ = 2
 * adds at most ≈ 0.1% of eps to values and ≈ 3% to derivatives. Below σ = 2 the band-edge 1/φ̂ is
 * 10-1000× larger, so the fit stays at 1e-3·eps there. A tighter fit would only add Horner steps.
 */
export function kernelFitTolerance(eps: number, sigma: number): number {
  return Math.max((sigma >= 2 ? 1e-2 : 1e-3) * eps, 1e-14);
}

/**
 * Fits the piecewise polynomials of {@link KernelPolynomial}, raising the
 * degree until the max error of φ and dφ/dz (relative to their maxima) is
 * below tol on a dense check grid.
 *
 * @param width kernel width w
 * @param beta KB β
 * @param tol target max relative error (default 1e-15)
 */
export function kernelPolynomial(width: number, beta: number, tol = 1e-15): KernelPolynomial {
  const half = width / 2;
  const zOf = (j: number, u: number) => ((u + 1) / 2 + j - half) / half;
  const phiMax = kbKernel(0, beta);
  let dMax = 0;
  for (let i = 0; i <= 200; i++) dMax = Math.max(dMax, Math.abs(kbKernelDerivative(i / 200, beta)));
  let best: KernelPolynomial | null = null;
  for (let degree = Math.max(4, width - 2); degree <= 30; degree++) {
    const coeffs = new Array<number>((degree + 1) * width);
    const dcoeffs = new Array<number>((degree + 1) * width);
    let err = 0;
    for (let j = 0; j < width; j++) {
      const m = chebFitMonomial((u) => kbKernel(zOf(j, u), beta), degree);
      const dm = chebFitMonomial((u) => kbKernelDerivative(zOf(j, u), beta), degree);
      for (let p = 0; p <= degree; p++) {
        coeffs[p * width + j] = m[degree - p];
        dcoeffs[p * width + j] = dm[degree - p];
      }
      for (let i = 0; i <= 64; i++) {
        const u = -1 + (2 * i) / 64;
        let v = 0, dv = 0;
        for (let p = 0; p <= degree; p++) { v = v * u + m[degree - p]; dv = dv * u + dm[degree - p]; }
        err = Math.max(err,
          Math.abs(v - kbKernel(zOf(j, u), beta)) / phiMax,
          Math.abs(dv - kbKernelDerivative(zOf(j, u), beta)) / dMax);
      }
    }
    best = { width, degree, coeffs, dcoeffs };
    if (err <= tol) break;
  }
  return best!;
}

/** Whether n is 2,3,5-smooth (the sizes every backend's FFT takes). */
export function isSmooth235(n: number): boolean {
  if (!Number.isSafeInteger(n) || n < 1) return false;
  let r = n;
  while (r % 2 === 0) r /= 2;
  while (r % 3 === 0) r /= 3;
  while (r % 5 === 0) r /= 5;
  return r === 1;
}

/**
 * Expected relative ℓ2 error of a Kaiser–Bessel kernel of plain width w (fine-grid cells) on
 * one axis oversampled by σ = nf/N. Calibrated on the measured σ = 2 rule (error ≈ 10^−(w−1),
 * see {@link widthForEps}) and scaled by the digits-per-width ratio √(1 − 1/σ)/√(1/2) of the
 * KB aliasing bound e^(−πw√(1−1/σ)) (matches the σ = 1.25 measurements within ≈ 0.2 digits).
 */
export function axisErrorEstimate(width: number, sigma: number): number {
  const r = Math.sqrt(Math.max(0, 1 - 1 / sigma)) / Math.SQRT1_2;
  return 10 ** (-(width - 1) * r);
}

/** Per-axis kernel layout (widths, fine grid, σ, expected error) without the polynomials. */
export interface AxisLayout {
  /** Plain width per axis (before the gradient increase). */
  plainWidths: number[];
  /** Width per axis including the gradient increase. */
  widths: number[];
  /** β per axis. */
  betas: number[];
  fineGrid: number[];
  /** Effective oversampling per axis (nf/N when the fine grid is given, else σ). */
  sigmas: number[];
  /** Expected relative ℓ2 error of the transform (sum of the per-axis estimates). */
  expectedError: number;
  /** Whether width or fineGrid overrides the eps-driven choice. */
  custom: boolean;
}

/**
 * Resolves widths and fine-grid sizes per axis: `width` (a number or one per axis) overrides the
 * eps-driven plain width, `fineGrid` (one size per axis) overrides σ·N; β then follows the axis's
 * width and its effective σ = nf/N. Without overrides this is exactly {@link chooseKernel} +
 * {@link fineGridSize} on every axis.
 *
 * @throws Error on a width outside 2..16, or a fine-grid size that is not an integer, not
 *   2,3,5-smooth, not above N, below 2w, or too close to N for the kernel (β undefined).
 */
export function axisLayout(opts: {
  eps: number;
  upsampfac?: number;
  dtype?: NufftPrecision;
  gradient?: boolean;
  modes: readonly number[];
  width?: number | readonly number[];
  fineGrid?: readonly number[];
}): AxisLayout {
  const d = opts.modes.length;
  const upsampfac = (opts.upsampfac ?? 2) as UpsampFac;
  const inc = opts.gradient ? gradientWidthIncrease(upsampfac) : 0;
  const wOpt = opts.width;
  if (Array.isArray(wOpt) && wOpt.length !== d) throw new Error(`width must be a number or an array of ${d} widths (one per axis), got [${wOpt.join(', ')}]`);
  if (opts.fineGrid !== undefined && opts.fineGrid.length !== d) throw new Error(`fineGrid must have ${d} entries (one per axis), got [${opts.fineGrid.join(', ')}]`);
  const dflt = widthForEps(Math.min(opts.eps, 1e-1), upsampfac);
  const plainWidths: number[] = [], widths: number[] = [], betas: number[] = [], fineGrid: number[] = [], sigmas: number[] = [];
  let err = 0;
  const pws = opts.modes.map((_, a) => (wOpt === undefined ? dflt : typeof wOpt === 'number' ? wOpt : (wOpt as readonly number[])[a]));
  for (const pw of wOpt === undefined ? [] : pws) {
    if (!Number.isInteger(pw) || pw < 2 || pw + inc > 16) throw new Error(`width must be an integer from 2 to ${16 - inc}${inc ? ' (gradient plans add 1)' : ''}, got ${pw}`);
  }
  const wmax = Math.max(...pws) + inc;
  for (let a = 0; a < d; a++) {
    const pw = pws[a];
    const w = pw + inc, N = opts.modes[a];
    let nf: number, sigma: number, beta: number;
    if (opts.fineGrid === undefined) {
      nf = fineGridSize(N, upsampfac, wmax);
      sigma = upsampfac;
      beta = kbBeta(w, upsampfac);
    } else {
      nf = opts.fineGrid[a];
      if (!Number.isSafeInteger(nf) || nf <= N) throw new Error(`fineGrid[${a}] must be an integer above modes[${a}] = ${N}, got ${nf}`);
      if (!isSmooth235(nf)) throw new Error(`fineGrid[${a}] = ${nf} is not 2,3,5-smooth; use ${nextSmooth235Even(nf)}`);
      if (nf < 2 * wmax) throw new Error(`fineGrid[${a}] = ${nf} is below twice the largest kernel width ${wmax}`);
      sigma = nf / N;
      const q = (w / sigma) * (sigma - 0.5);
      if (q * q <= 0.8) throw new Error(`fineGrid[${a}] = ${nf} oversamples modes ${N} too little (σ = ${sigma.toFixed(3)}) for width ${w}`);
      beta = kbBeta(w, sigma);
    }
    plainWidths.push(pw); widths.push(w); betas.push(beta); fineGrid.push(nf); sigmas.push(sigma);
    err += axisErrorEstimate(pw, sigma);
  }
  const floor = opts.dtype === 'float32' ? 3e-7 : 1e-14;
  return { plainWidths, widths, betas, fineGrid, sigmas, expectedError: Math.max(err, floor), custom: wOpt !== undefined || opts.fineGrid !== undefined };
}

/** Kernel (β, polynomial) for one axis of an {@link AxisLayout}; same as chooseKernel for default axes. */
export function axisKernel(layout: AxisLayout, a: number, eps: number, upsampfac: UpsampFac): KernelParams {
  const w = layout.widths[a], beta = layout.betas[a];
  const tolEps = Math.min(eps, axisErrorEstimate(layout.plainWidths[a], layout.sigmas[a]));
  const poly = kernelPolynomial(w, beta, kernelFitTolerance(tolEps, layout.sigmas[a]));
  return { width: w, beta, upsampfac, gradientWidthIncrease: w - layout.plainWidths[a], poly };
}
