/**
 * Gridding alone: Kaiser–Bessel spreading of complex strengths at nonuniform points onto a
 * periodic uniform grid, and its adjoint, interpolation from the grid to the points — the two
 * halves of a NUFFT without the FFT and the deconvolution, with an optional fused gradient.
 *
 * Geometry: on an axis of n grid points, grid index g sits at 2π·g/n radians; a point x (radians,
 * any finite value, period 2π) has grid coordinate y = (x mod 2π)·n/(2π). The weight of grid
 * point g for point x is the separable product over axes
 *
 *   W(g, x) = Π_a φ((g_a − y_a)/(w/2)),   φ(z) = I0(β·√(1 − z²)) / I0(β) for |z| ≤ 1, else 0,
 *
 * taken periodically (g_a − y_a modulo n_a), so each point touches w^d grid points. φ is
 * normalised to φ(0) = 1 (the raw Kaiser–Bessel I0(β·√(1 − z²)) divided by I0(β); the NUFFT's
 * internal kernel is un-normalised, which only changes its deconvolution factors). Width w and β
 * are those the NUFFT would use for `eps` at `upsampfac` (or w given directly, β from the
 * Beatty formula); {@link kernel} reports them.
 *
 * Runs on the js backend for host tensors (the native and CUDA gridding kernels are not exposed
 * yet; `backend: 'native'` is BACKEND_UNAVAILABLE). Computed in float64, stored in the tensors'
 * precision. Cost: O(ntransf·M·w^d) (×(1+d) work with the gradient).
 */
import { type BackendOptions, promiseOf } from '../backend';
import { cudaUnavailableError } from '../cuda';
import { type HostArray } from '../dtype';
import { ReconKernelsError } from '../errors';
import { interp as jsInterp, spread as jsSpread } from '../js/nufft-core';
import { loadAddon } from '../loader';
import { chooseKernel, kbKernel, type KernelParams } from '../nufft/params';
import { fmtShape, numel, sameShape } from '../shape';
import { type Tensor, zeros } from '../tensor';
import { checkNumber, checkObject, checkTensor, describe } from '../validate';

/** Kernel choice shared by {@link spread}, {@link interp} and {@link kernel}. */
export interface GriddingKernelOptions {
  /** Tolerance the width is chosen for, as the NUFFT chooses it (default 1e-6). */
  eps?: number;
  /** Kernel width in grid cells, 2–16 (overrides eps). */
  width?: number;
  /** Upsampling factor the kernel is tuned for: 2 (default) or 1.25 (sets β). */
  upsampfac?: 2 | 1.25;
}

/** Options of {@link spread} and {@link interp}. */
export interface GriddingOptions extends GriddingKernelOptions, BackendOptions {
  /**
   * spread: strengths are [ntransf, 1+d, M] = (c_j, d_{j,1..d}) and the grid receives
   * Σ_j c_j·W(g, x_j) + Σ_a d_{j,a}·∂W(g, x_j)/∂x_{j,a} (the first-order change of spreading c_j
   * at a moved point). interp: the output is [ntransf, 1+d, M], row 0 the value Σ_g grid·W and
   * row 1+a its derivative with respect to x_{j,a} (per radian). Default false.
   */
  gradient?: boolean;
  /** Write the result here (same dtype, device and shape as the result); it is overwritten. */
  out?: Tensor;
}

/** The kernel a gridding call uses. */
export interface GriddingKernel {
  width: number;
  beta: number;
  upsampfac: number;
  /** φ(z) for z = distance/(w/2) in grid cells; φ(0) = 1, zero for |z| > 1. */
  phi(z: number): number;
}

const COMPLEX = ['complex64', 'complex128'] as const;

function kernelParams(op: string, o: Record<string, unknown>, dtype: 'float32' | 'float64'): KernelParams {
  const eps = o.eps === undefined ? 1e-6 : checkNumber(op, 'eps', o.eps, { positive: true });
  const upsampfac = o.upsampfac === undefined ? 2 : o.upsampfac;
  if (upsampfac !== 2 && upsampfac !== 1.25) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: upsampfac must be 2 or 1.25, got ${describe(upsampfac)}`);
  let width: number | undefined;
  if (o.width !== undefined) {
    width = checkNumber(op, 'width', o.width);
    if (!Number.isInteger(width) || width < 2 || width > 16) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: width must be an integer from 2 to 16, got ${width}`);
  }
  try {
    // eps only picks the width here; the float64 limit applies whatever the data's precision.
    void dtype;
    return chooseKernel({ eps: Math.min(eps, 0.5), upsampfac, dtype: 'float64', width });
  } catch (e) {
    throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: ${(e as Error).message}`);
  }
}

/**
 * The kernel spread/interp use for these options (width, β, σ and the normalised φ).
 *
 * @param options eps / width / upsampfac, and the precision the data will have (limits eps).
 */
export function kernel(options: GriddingKernelOptions & { dtype?: 'complex64' | 'complex128' } = {}): GriddingKernel {
  const o = checkObject('gridding.kernel', 'options', options);
  const kp = kernelParams('gridding.kernel', o, o.dtype === 'complex64' ? 'float32' : 'float64');
  const beta = kp.beta, i0 = kbKernel(0, beta);
  return { width: kp.width, beta, upsampfac: kp.upsampfac, phi: (z: number) => kbKernel(z, beta) / i0 };
}

function checkHost(op: string, tensors: Tensor[], o: Record<string, unknown>): void {
  const device = tensors[0].device;
  for (const t of tensors) {
    if (t.device !== device) throw new ReconKernelsError('DEVICE_MISMATCH', `${op}: tensors are on ${device} and ${t.device}; move them to one device`);
  }
  if (device !== 'cpu') {
    const addon = loadAddon().addon;
    if (!addon || !addon.cudaInfo().available) throw cudaUnavailableError();
    throw new ReconKernelsError('BACKEND_UNAVAILABLE', `${op}: CUDA gridding is not built yet; use host tensors`);
  }
  if (o.backend !== undefined && o.backend !== 'js') {
    throw new ReconKernelsError(o.backend === 'native' ? 'BACKEND_UNAVAILABLE' : 'INVALID_ARGUMENT', `${op}: gridding runs on the js backend only (got backend ${describe(o.backend)})`);
  }
}

function checkPoints(op: string, points: unknown, dtype: string): { data: HostArray; d: number; M: number } {
  const rdt = dtype === 'complex64' ? 'float32' : 'float64';
  const p = checkTensor(op, 'points', points, ['float32', 'float64', 'complex64', 'complex128'], 1);
  if (p.dtype !== rdt) throw new ReconKernelsError('INVALID_DTYPE', `${op}: points have dtype ${p.dtype}; ${dtype} data takes ${rdt} points`);
  const d = p.shape.length === 1 ? 1 : p.shape[0];
  if (p.shape.length > 2 || d < 1 || d > 3) throw new ReconKernelsError('INVALID_SHAPE', `${op}: points have shape ${fmtShape(p.shape)}; expected [d, M] with d = 1, 2 or 3`);
  const M = p.shape[p.shape.length - 1];
  const data = p.hostData('points');
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new ReconKernelsError('NON_FINITE', `${op}: points[${Math.floor(i / M)}, ${i % M}] is ${data[i]}; coordinates must be finite`);
  }
  return { data, d, M };
}

function outTensor(op: string, o: Record<string, unknown>, shape: number[], full: number[], dtype: string, device: string, inputs: Tensor[]): Tensor {
  if (o.out === undefined) return zeros(shape, { dtype: dtype as 'complex64', device: device as 'cpu' });
  const out = checkTensor(op, 'out', o.out, COMPLEX);
  if (out.dtype !== dtype) throw new ReconKernelsError('INVALID_DTYPE', `${op}: out has dtype ${out.dtype}; expected ${dtype}`);
  if (out.device !== device) throw new ReconKernelsError('DEVICE_MISMATCH', `${op}: out is on ${out.device}; expected ${device}`);
  if (!sameShape(out.shape, shape) && !sameShape(out.shape, full)) throw new ReconKernelsError('INVALID_SHAPE', `${op}: out has shape ${fmtShape(out.shape)}; expected ${fmtShape(shape)}`);
  for (const t of inputs) {
    if (t.hostData().buffer === out.hostData('out').buffer) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: out shares memory with an input`);
  }
  return out;
}

function copyScaled(dst: HostArray, src: Float64Array, s: number): void {
  for (let i = 0; i < dst.length; i++) dst[i] = src[i] * s;
}

function runSpread(op: string, points: unknown, strengths: unknown, gridShape: unknown, options: unknown): Tensor {
  const o = checkObject(op, 'options', options);
  const c = checkTensor(op, 'strengths', strengths, COMPLEX, 1);
  const { data: pts, d, M } = checkPoints(op, points, c.dtype);
  checkHost(op, [points as Tensor, c], o);
  if (!Array.isArray(gridShape) || gridShape.length !== d || !gridShape.every((n) => Number.isSafeInteger(n) && n >= 1)) {
    throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: gridShape must be ${d} positive integers [n1..n${d}] (one per point row), got ${describe(gridShape)}`);
  }
  const gradient = o.gradient === true;
  const per = gradient ? [1 + d, M] : [M];
  let ntransf: number, batched: boolean;
  if (sameShape(c.shape, per)) { ntransf = 1; batched = false; } else if (c.shape.length === per.length + 1 && sameShape(c.shape.slice(1), per)) { ntransf = c.shape[0]; batched = true; } else {
    throw new ReconKernelsError('INVALID_SHAPE', `${op}: strengths have shape ${fmtShape(c.shape)}; with ${d}-D points of M = ${M} expected [ntransf, ${per.join(', ')}] or [${per.join(', ')}]`);
  }
  const kp = kernelParams(op, o, c.dtype === 'complex64' ? 'float32' : 'float64');
  for (const n of gridShape as number[]) {
    if (n < kp.width) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: grid size ${n} is smaller than the kernel width ${kp.width}`);
  }
  const full = [ntransf, ...(gridShape as number[])];
  const out = outTensor(op, o, batched ? full : full.slice(1), full, c.dtype, c.device, [c]);
  if (M === 0 || ntransf === 0) {
    out.hostData('out').fill(0);
    return out;
  }
  const grid = jsSpread({ points: pts, M, gridSize: gridShape as number[], ntransf, kernel: kp, gradient, strengths: c.hostData('strengths') });
  copyScaled(out.hostData('out'), grid, kbKernel(0, kp.beta) ** -d);
  return out;
}

function runInterp(op: string, points: unknown, grid: unknown, options: unknown): Tensor {
  const o = checkObject(op, 'options', options);
  const g = checkTensor(op, 'grid', grid, COMPLEX, 1);
  const { data: pts, d, M } = checkPoints(op, points, g.dtype);
  checkHost(op, [points as Tensor, g], o);
  let ntransf: number, gridSize: number[], batched: boolean;
  if (g.shape.length === d) { ntransf = 1; gridSize = [...g.shape]; batched = false; } else if (g.shape.length === d + 1) { ntransf = g.shape[0]; gridSize = g.shape.slice(1); batched = true; } else {
    throw new ReconKernelsError('INVALID_SHAPE', `${op}: grid has shape ${fmtShape(g.shape)}; with ${d}-D points expected [ntransf, n1..n${d}] or [n1..n${d}]`);
  }
  const kp = kernelParams(op, o, g.dtype === 'complex64' ? 'float32' : 'float64');
  for (const n of gridSize) {
    if (n < kp.width) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: grid size ${n} is smaller than the kernel width ${kp.width}`);
  }
  const gradient = o.gradient === true;
  const full = gradient ? [ntransf, 1 + d, M] : [ntransf, M];
  const out = outTensor(op, o, batched ? full : full.slice(1), full, g.dtype, g.device, [g]);
  if (M === 0 || ntransf === 0 || numel(gridSize) === 0) {
    out.hostData('out').fill(0);
    return out;
  }
  const vals = jsInterp({ points: pts, M, gridSize, ntransf, kernel: kp, gradient, grid: g.hostData('grid') }) as Float64Array;
  copyScaled(out.hostData('out'), vals, kbKernel(0, kp.beta) ** -d);
  return out;
}


/**
 * Spreads complex strengths onto a periodic grid: grid[t, g] = Σ_j c_{t,j}·W(g, x_j) (see the
 * module docs for W and the `gradient` form).
 *
 * @param points real [d, M] radians (float32 for complex64 strengths, float64 for complex128).
 * @param strengths complex [ntransf, M] or [M] ([ntransf, 1+d, M] / [1+d, M] with gradient).
 * @param gridShape [n1..nd], one size per point row, each ≥ the kernel width.
 * @returns complex [ntransf, n1..nd] ([n1..nd] when strengths have no batch axis).
 */
export function spread(points: Tensor, strengths: Tensor, gridShape: readonly number[], options?: GriddingOptions): Promise<Tensor> {
  return promiseOf(() => runSpread('gridding.spread', points, strengths, gridShape, options));
}

/** Synchronous {@link spread}. */
export function spreadSync(points: Tensor, strengths: Tensor, gridShape: readonly number[], options?: GriddingOptions): Tensor {
  return runSpread('gridding.spreadSync', points, strengths, gridShape, options);
}

/**
 * Interpolates a periodic grid at the points (the adjoint of {@link spread}):
 * v[t, j] = Σ_g grid[t, g]·W(g, x_j), plus the derivative rows with `gradient`.
 *
 * @param points real [d, M] radians (float32 for a complex64 grid, float64 for complex128).
 * @param grid complex [ntransf, n1..nd] or [n1..nd].
 * @returns complex [ntransf, M] or [M] ([ntransf, 1+d, M] / [1+d, M] with gradient).
 */
export function interp(points: Tensor, grid: Tensor, options?: GriddingOptions): Promise<Tensor> {
  return promiseOf(() => runInterp('gridding.interp', points, grid, options));
}

/** Synchronous {@link interp}. */
export function interpSync(points: Tensor, grid: Tensor, options?: GriddingOptions): Tensor {
  return runInterp('gridding.interpSync', points, grid, options);
}
