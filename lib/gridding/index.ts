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
 * Beatty formula); {@link kernel} reports them. Every backend evaluates φ and φ′ from one
 * piecewise polynomial fitted to ≈ 1e-14 of φ(0), so the kernel is never the accuracy limit.
 *
 * Backends: CUDA tensors run on their GPU; host tensors on the native (multi-threaded C++)
 * backend when the addon loaded, else on js (`backend: 'js' | 'native'` forces one). All three
 * evaluate the kernel and accumulate in float64 and round once to the tensors' precision (CUDA
 * spreads with float64 atomics, so its last bits vary run to run; native results are bit-identical
 * across runs and thread counts). Cost: O(ntransf·M·w^d) (×(1+d) work with the gradient).
 */
import { type BackendOptions, callNative, type Dispatch, promiseOf, resolveBackend } from '../backend';
import { type HostArray } from '../dtype';
import { ReconKernelsError } from '../errors';
import { interp as jsInterp, spread as jsSpread } from '../js/nufft-core';
import type { NativeGriddingArgs } from '../native-types';
import { epsLimit, kbBeta, kbKernel, type KernelParams, kernelPolynomial, type UpsampFac, widthForEps } from '../nufft/params';
import { fmtShape, sameShape } from '../shape';
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

/**
 * @internal The normalised kernel polynomial every backend evaluates: `params` for the js
 * gridding, `coeffs` / `dcoeffs` ([degree+1][width], highest power first) for the addon.
 */
export interface GriddingKernelTables {
  params: KernelParams;
  coeffs: Float64Array;
  dcoeffs: Float64Array;
}

const COMPLEX = ['complex64', 'complex128'] as const;
/** Fit tolerance of the kernel polynomial, relative to φ(0) (and to max|φ′| for φ′). */
const KERNEL_FIT_TOL = 1e-14;
const tables = new Map<string, GriddingKernelTables>();

/** @internal The (cached) kernel tables for a width and upsampling factor. */
export function griddingKernelTables(width: number, upsampfac: UpsampFac): GriddingKernelTables {
  const key = `${width}:${upsampfac}`;
  let t = tables.get(key);
  if (!t) {
    const beta = kbBeta(width, upsampfac);
    const poly = kernelPolynomial(width, beta, KERNEL_FIT_TOL);
    const s = 1 / kbKernel(0, beta);
    const coeffs = Float64Array.from(poly.coeffs, (c) => c * s);
    const dcoeffs = Float64Array.from(poly.dcoeffs, (c) => c * s);
    const params: KernelParams = { width, beta, upsampfac, gradientWidthIncrease: 0, poly: { width, degree: poly.degree, coeffs: Array.from(coeffs), dcoeffs: Array.from(dcoeffs) } };
    t = { params, coeffs, dcoeffs };
    tables.set(key, t);
  }
  return t;
}

function kernelTables(op: string, o: Record<string, unknown>): GriddingKernelTables {
  const eps = o.eps === undefined ? 1e-6 : checkNumber(op, 'eps', o.eps, { positive: true });
  const upsampfac = o.upsampfac === undefined ? 2 : o.upsampfac;
  if (upsampfac !== 2 && upsampfac !== 1.25) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: upsampfac must be 2 or 1.25, got ${describe(upsampfac)}`);
  let width: number | undefined;
  if (o.width !== undefined) {
    width = checkNumber(op, 'width', o.width);
    if (!Number.isInteger(width) || width < 2 || width > 16) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: width must be an integer from 2 to 16, got ${width}`);
  }
  // eps only picks the width here; the float64 limit applies whatever the data's precision.
  const limit = epsLimit('float64', upsampfac);
  if (eps < limit) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: eps ${eps} is below the supported limit ${limit.toExponential()} for float64 at upsampfac ${upsampfac}`);
  return griddingKernelTables(width ?? widthForEps(Math.min(eps, 0.1), upsampfac), upsampfac);
}

/**
 * The kernel spread/interp use for these options (width, β, σ and the normalised φ).
 *
 * @param options eps / width / upsampfac (`dtype` is accepted and does not change the choice).
 */
export function kernel(options: GriddingKernelOptions & { dtype?: 'complex64' | 'complex128' } = {}): GriddingKernel {
  const o = checkObject('gridding.kernel', 'options', options);
  const { width, beta, upsampfac } = kernelTables('gridding.kernel', o).params;
  const i0 = kbKernel(0, beta);
  return { width, beta, upsampfac, phi: (z: number) => kbKernel(z, beta) / i0 };
}

function checkPoints(op: string, points: unknown, dtype: string): { p: Tensor; d: number; M: number } {
  const rdt = dtype === 'complex64' ? 'float32' : 'float64';
  const p = checkTensor(op, 'points', points, ['float32', 'float64', 'complex64', 'complex128'], 1);
  if (p.dtype !== rdt) throw new ReconKernelsError('INVALID_DTYPE', `${op}: points have dtype ${p.dtype}; ${dtype} data takes ${rdt} points`);
  const d = p.shape.length === 1 ? 1 : p.shape[0];
  if (p.shape.length > 2 || d < 1 || d > 3) throw new ReconKernelsError('INVALID_SHAPE', `${op}: points have shape ${fmtShape(p.shape)}; expected [d, M] with d = 1, 2 or 3`);
  return { p, d, M: p.shape[p.shape.length - 1] };
}

/** Host coordinates for the js backend (the addon checks its own). */
function finiteHostPoints(op: string, p: Tensor, M: number): HostArray {
  const data = p.hostData('points');
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new ReconKernelsError('NON_FINITE', `${op}: points[${Math.floor(i / M)}, ${i % M}] is ${data[i]}; coordinates must be finite`);
  }
  return data;
}

function sharesMemory(a: Tensor, b: Tensor): boolean {
  const x = a.storage(), y = b.storage();
  return x === y || (ArrayBuffer.isView(x) && ArrayBuffer.isView(y) && x.buffer === y.buffer);
}

function checkOut(op: string, o: Record<string, unknown>): Tensor | undefined {
  return o.out === undefined ? undefined : checkTensor(op, 'out', o.out, COMPLEX);
}

function outTensor(op: string, given: Tensor | undefined, shape: number[], full: number[], dtype: string, device: string, inputs: Tensor[]): Tensor {
  if (given === undefined) return zeros(shape, { dtype: dtype as 'complex64', device: device as 'cpu' });
  if (given.dtype !== dtype) throw new ReconKernelsError('INVALID_DTYPE', `${op}: out has dtype ${given.dtype}; expected ${dtype}`);
  if (!sameShape(given.shape, shape) && !sameShape(given.shape, full)) throw new ReconKernelsError('INVALID_SHAPE', `${op}: out has shape ${fmtShape(given.shape)}; expected ${fmtShape(shape)}`);
  for (const t of inputs) {
    if (sharesMemory(t, given)) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: out shares memory with an input`);
  }
  return given;
}

interface NativeCall {
  kind: 'spread' | 'interp';
  dispatch: Dispatch;
  k: GriddingKernelTables;
  p: Tensor;
  input: Tensor;
  out: Tensor;
  ownsOut: boolean;
  d: number;
  M: number;
  grid: number[];
  ntransf: number;
  gradient: boolean;
}

function runNative(c: NativeCall, sync: boolean): Tensor | Promise<Tensor> {
  const addon = c.dispatch.addon!;
  const release = () => {
    if (c.ownsOut) c.out.dispose();
  };
  try {
    const args: NativeGriddingArgs = {
      op: c.kind,
      dtype: c.p.dtype as 'float32' | 'float64',
      dim: c.d,
      grid: c.grid,
      M: c.M,
      ntransf: c.ntransf,
      gradient: c.gradient,
      width: c.k.params.width,
      degree: c.k.params.poly.degree,
      coeffs: c.k.coeffs,
      dcoeffs: c.k.dcoeffs,
      points: c.p.storage('points'),
      input: c.input.storage(c.kind === 'spread' ? 'strengths' : 'grid'),
      out: c.out.storage('out'),
      threads: 0,
    };
    const r = callNative(sync, (s) => (s ? addon.griddingOp(args, true) : addon.griddingOp(args, false)), () => c.out);
    return r instanceof Promise ? r.catch((e) => { release(); throw e; }) : r;
  } catch (e) {
    release();
    throw e;
  }
}

function runSpread(op: string, points: unknown, strengths: unknown, gridShape: unknown, options: unknown, sync: boolean): Tensor | Promise<Tensor> {
  const o = checkObject(op, 'options', options);
  const c = checkTensor(op, 'strengths', strengths, COMPLEX, 1);
  const { p, d, M } = checkPoints(op, points, c.dtype);
  const given = checkOut(op, o);
  const dispatch = resolveBackend(op, { points: p, strengths: c, out: given }, { backend: o.backend as BackendOptions['backend'] });
  if (!Array.isArray(gridShape) || gridShape.length !== d || !gridShape.every((n) => Number.isSafeInteger(n) && n >= 1)) {
    throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: gridShape must be ${d} positive integers [n1..n${d}] (one per point row), got ${describe(gridShape)}`);
  }
  const grid = [...(gridShape as number[])];
  const gradient = o.gradient === true;
  const per = gradient ? [1 + d, M] : [M];
  let ntransf: number, batched: boolean;
  if (sameShape(c.shape, per)) { ntransf = 1; batched = false; } else if (c.shape.length === per.length + 1 && sameShape(c.shape.slice(1), per)) { ntransf = c.shape[0]; batched = true; } else {
    throw new ReconKernelsError('INVALID_SHAPE', `${op}: strengths have shape ${fmtShape(c.shape)}; with ${d}-D points of M = ${M} expected [ntransf, ${per.join(', ')}] or [${per.join(', ')}]`);
  }
  const k = kernelTables(op, o);
  for (const n of grid) {
    if (n < k.params.width) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: grid size ${n} is smaller than the kernel width ${k.params.width}`);
  }
  const full = [ntransf, ...grid];
  const out = outTensor(op, given, batched ? full : full.slice(1), full, c.dtype, c.device, [c, p]);
  if (dispatch.backend !== 'js') {
    return runNative({ kind: 'spread', dispatch, k, p, input: c, out, ownsOut: out !== given, d, M, grid, ntransf, gradient }, sync);
  }
  const pts = finiteHostPoints(op, p, M);
  const dst = out.hostData('out');
  if (M === 0 || ntransf === 0) dst.fill(0);
  else dst.set(jsSpread({ points: pts, M, gridSize: grid, ntransf, kernel: k.params, gradient, strengths: c.hostData('strengths') }));
  return sync ? out : Promise.resolve(out);
}

function runInterp(op: string, points: unknown, grid: unknown, options: unknown, sync: boolean): Tensor | Promise<Tensor> {
  const o = checkObject(op, 'options', options);
  const g = checkTensor(op, 'grid', grid, COMPLEX, 1);
  const { p, d, M } = checkPoints(op, points, g.dtype);
  const given = checkOut(op, o);
  const dispatch = resolveBackend(op, { points: p, grid: g, out: given }, { backend: o.backend as BackendOptions['backend'] });
  let ntransf: number, gridSize: number[], batched: boolean;
  if (g.shape.length === d) { ntransf = 1; gridSize = [...g.shape]; batched = false; } else if (g.shape.length === d + 1) { ntransf = g.shape[0]; gridSize = g.shape.slice(1); batched = true; } else {
    throw new ReconKernelsError('INVALID_SHAPE', `${op}: grid has shape ${fmtShape(g.shape)}; with ${d}-D points expected [ntransf, n1..n${d}] or [n1..n${d}]`);
  }
  const k = kernelTables(op, o);
  for (const n of gridSize) {
    if (n < k.params.width) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: grid size ${n} is smaller than the kernel width ${k.params.width}`);
  }
  const gradient = o.gradient === true;
  const full = gradient ? [ntransf, 1 + d, M] : [ntransf, M];
  const out = outTensor(op, given, batched ? full : full.slice(1), full, g.dtype, g.device, [g, p]);
  if (dispatch.backend !== 'js') {
    return runNative({ kind: 'interp', dispatch, k, p, input: g, out, ownsOut: out !== given, d, M, grid: gridSize, ntransf, gradient }, sync);
  }
  const pts = finiteHostPoints(op, p, M);
  if (M > 0 && ntransf > 0) jsInterp({ points: pts, M, gridSize, ntransf, kernel: k.params, gradient, grid: g.hostData('grid'), out: out.hostData('out') });
  return sync ? out : Promise.resolve(out);
}

/**
 * Spreads complex strengths onto a periodic grid: grid[t, g] = Σ_j c_{t,j}·W(g, x_j) (see the
 * module docs for W and the `gradient` form).
 *
 * @param points real [d, M] radians (float32 for complex64 strengths, float64 for complex128).
 * @param strengths complex [ntransf, M] or [M] ([ntransf, 1+d, M] / [1+d, M] with gradient).
 * @param gridShape [n1..nd], one size per point row, each ≥ the kernel width.
 * @returns complex [ntransf, n1..nd] ([n1..nd] when strengths have no batch axis), on the
 *   points' device.
 */
export function spread(points: Tensor, strengths: Tensor, gridShape: readonly number[], options?: GriddingOptions): Promise<Tensor> {
  return promiseOf(() => runSpread('gridding.spread', points, strengths, gridShape, options, false));
}

/** Synchronous {@link spread}. */
export function spreadSync(points: Tensor, strengths: Tensor, gridShape: readonly number[], options?: GriddingOptions): Tensor {
  return runSpread('gridding.spreadSync', points, strengths, gridShape, options, true) as Tensor;
}

/**
 * Interpolates a periodic grid at the points (the adjoint of {@link spread}):
 * v[t, j] = Σ_g grid[t, g]·W(g, x_j), plus the derivative rows with `gradient`.
 *
 * @param points real [d, M] radians (float32 for a complex64 grid, float64 for complex128).
 * @param grid complex [ntransf, n1..nd] or [n1..nd].
 * @returns complex [ntransf, M] or [M] ([ntransf, 1+d, M] / [1+d, M] with gradient), on the
 *   points' device.
 */
export function interp(points: Tensor, grid: Tensor, options?: GriddingOptions): Promise<Tensor> {
  return promiseOf(() => runInterp('gridding.interp', points, grid, options, false));
}

/** Synchronous {@link interp}. */
export function interpSync(points: Tensor, grid: Tensor, options?: GriddingOptions): Tensor {
  return runInterp('gridding.interpSync', points, grid, options, true) as Tensor;
}
