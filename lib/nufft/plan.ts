/**
 * The NUFFT plan: validated options, a backend (see backends.ts), the current points, and the
 * helper plans the VJPs use. Conventions are FINUFFT's, row-major:
 *
 *   type 1: f[k] = Σ_j c_j·exp(isign·i·k·x_j)      (default isign +1)
 *   type 2: c_j = Σ_k f[k]·exp(isign·i·k·x_j)      (default isign −1)
 *
 * with k·x = Σ_a k_a·x_{j,a}, no normalisation, points in radians (period 2π).
 */
import type { Backend, BackendOptions } from '../backend';
import { type Device, type DeviceSpec, parseDevice } from '../device';
import { type HostArray, realDType } from '../dtype';
import { ReconKernelsError } from '../errors';
import { fmtShape, numel, sameShape } from '../shape';
import { Tensor, zeros } from '../tensor';
import { checkNumber, checkObject, checkTensor, describe } from '../validate';
import { fillSync } from '../array/ops';
import type { NativeStorage } from '../native-types';
import { createImpl, type NufftImpl, type NufftImplOptions, type NufftTimings } from './backends';
import { type AxisLayout, axisLayout, epsLimit } from './params';

const disposeSymbol: typeof Symbol.dispose = (Symbol as { dispose?: typeof Symbol.dispose }).dispose ?? (Symbol.for('nodejs.dispose') as typeof Symbol.dispose);

/** Complex dtypes a plan runs in; points use the matching real dtype (float32 / float64). */
export type NufftDType = 'complex64' | 'complex128';

/** Options of {@link createPlan} (public as `nufft.plan`). */
export interface NufftPlanOptions extends BackendOptions {
  /** 1: nonuniform points → uniform modes; 2: modes → points. */
  type: 1 | 2;
  /** Modes per axis [N1, ..., Nd], d ∈ {1, 2, 3}; axis a pairs with point row a. */
  modes: readonly number[];
  /**
   * Relative ℓ2 error target, in [limit, 1): limit 1e-12 for complex128 (1e-10 at
   * upsampfac 1.25), 1e-6 for complex64 (1e-4 at upsampfac 1.25, where float32 round-off
   * amplified by the deconvolution dominates). Default 1e-6, or the limit when it is larger.
   */
  eps?: number;
  /** 'complex64' (default) or 'complex128'. */
  dtype?: NufftDType;
  /** Where the tensors live: 'cpu' (default), 'cuda' or 'cuda:N'. */
  device?: DeviceSpec;
  /** Number of transforms run together on the same points (default 1). */
  ntransf?: number;
  /** Sign of the exponent: default +1 for type 1, −1 for type 2. */
  isign?: 1 | -1;
  /** 0 (default): k = −⌊N/2⌋ … ⌈N/2⌉−1 per axis; 1: FFT order 0 … ⌈N/2⌉−1, −⌊N/2⌋ … −1. */
  modeord?: 0 | 1;
  /** Upsampling factor σ: 2 (default) or 1.25 (smaller grid, wider kernel). */
  upsampfac?: 2 | 1.25;
  /**
   * Fused value + gradient. Type 1 takes strengths [ntransf, 1+d, M] = (c_j, d_{j,1..d}) and
   * computes f[k] = Σ_j (c_j + isign·i·(k·d_j))·exp(isign·i·k·x_j). Type 2 returns
   * [ntransf, 1+d, M]: row 0 the value, row 1+a the derivative ∂c_j/∂x_{j,a}. One FFT either way;
   * the kernel is widened by `info.gradientWidthIncrease` so the derivative rows meet eps.
   * That holds for points in general position; where a kernel tap falls exactly on the kernel's
   * support edge (fine-grid nodes `2π·j/n` for even widths, cell centres for odd ones, as with
   * points on a Cartesian lattice) the truncated kernel jumps, and the derivative rows measured
   * 1.4·eps (width 4) to 5·eps (width 14) there.
   */
  gradient?: boolean;
  /**
   * Number of independent point sets (default 1): setPoints takes [P, d, M] and execute runs all
   * sets in one call, on data [P, ntransf, M] / [P, ntransf, N1..Nd] (the ntransf axis may be
   * left out when ntransf = 1). Equal to P separate plans, to rounding.
   */
  P?: number;
  /**
   * Plain kernel width in fine-grid cells, a number or one per axis (e.g. [4, 6, 6]), 2..16;
   * overrides the width eps would choose (`info.expectedError` tells the resulting accuracy).
   */
  width?: number | readonly number[];
  /**
   * Fine-grid size per axis (2,3,5-smooth, above N), overriding σ·N (torchkbnufft's grid_size);
   * β follows the effective σ = nf/N.
   */
  fineGrid?: readonly number[];
}

/** What a plan is, as {@link NufftPlan.info} reports it. */
export interface NufftPlanInfo {
  type: 1 | 2;
  /** Dimension d. */
  dim: number;
  modes: number[];
  ntransf: number;
  isign: 1 | -1;
  modeord: 0 | 1;
  eps: number;
  dtype: NufftDType;
  gradient: boolean;
  device: Device;
  backend: Backend;
  /** Kernel width w in fine-grid cells (including the gradient increase). */
  width: number;
  /** Kaiser–Bessel β. */
  beta: number;
  upsampfac: number;
  /** Oversampled grid size per axis. */
  fineGrid: number[];
  /** Width added for the gradient rows (0 when gradient is off). */
  gradientWidthIncrease: number;
  /** Number of points currently set (0 before setPoints), per point set. */
  M: number;
  /** Number of point sets. */
  P: number;
  /** Kernel width per axis (including the gradient increase); `width` is their maximum. */
  widths: number[];
  /**
   * Expected relative ℓ2 error of the kernel and fine-grid choice (sum of per-axis estimates): a
   * typical value, not a bound (random inputs measured up to about 1.1× of it).
   */
  expectedError: number;
}

/** Options of {@link NufftPlan.execute}. */
export interface NufftExecuteOptions {
  /**
   * Write the result here instead of a new tensor: same dtype and device as the plan, shape the
   * output's (with or without the batch axis when ntransf = 1). It is overwritten, not added to.
   */
  out?: Tensor;
}

const TYPES = [1, 2] as const;

function oneOf<T>(op: string, name: string, v: unknown, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (!allowed.includes(v as T)) {
    throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: ${name} must be ${allowed.map((a) => JSON.stringify(a)).join(' or ')}, got ${describe(v)}`);
  }
  return v as T;
}

/** Validated, defaulted plan options. */
export interface ResolvedPlanOptions extends NufftImplOptions {
  device: Device;
  backend?: 'js' | 'native';
  /** Per-axis widths, fine grid and expected error (backend-independent). */
  layout: AxisLayout;
}

/** @internal Validates and fills in defaults. */
export function resolvePlanOptions(op: string, options: unknown): ResolvedPlanOptions {
  const o = checkObject(op, 'options', options);
  if (options === undefined) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: options { type, modes } are required`);
  const type = oneOf(op, 'type', o.type, TYPES, undefined as unknown as 1);
  if (type === undefined) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: type is required (1 or 2)`);
  const m = o.modes;
  if (!Array.isArray(m) || m.length < 1 || m.length > 3) {
    throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: modes must be an array of 1 to 3 positive integers [N1, ..., Nd], got ${describe(m)}`);
  }
  for (const N of m) {
    if (!Number.isSafeInteger(N) || N < 1) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: modes must hold positive integers, got [${m.join(', ')}]`);
  }
  const modes = [...(m as number[])];
  const dtype = oneOf(op, 'dtype', o.dtype, ['complex64', 'complex128'] as const, 'complex64');
  const ntransf = o.ntransf === undefined ? 1 : checkNumber(op, 'ntransf', o.ntransf, { positive: true });
  if (!Number.isSafeInteger(ntransf)) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: ntransf must be a positive integer, got ${ntransf}`);
  if (numel(modes) * ntransf > 2 ** 32 - 1) {
    throw new ReconKernelsError('SIZE_TOO_LARGE', `${op}: ${ntransf} × modes [${modes.join(', ')}] is more than ${2 ** 32 - 1} elements; split into smaller plans`);
  }
  const isign = oneOf(op, 'isign', o.isign, [1, -1] as const, type === 1 ? 1 : -1);
  const modeord = oneOf(op, 'modeord', o.modeord, [0, 1] as const, 0);
  const upsampfac = oneOf(op, 'upsampfac', o.upsampfac, [2, 1.25] as const, 2);
  const gradient = oneOf(op, 'gradient', o.gradient, [false, true] as const, false);
  const limit = epsLimit(dtype === 'complex64' ? 'float32' : 'float64', upsampfac);
  const eps = o.eps === undefined ? Math.max(1e-6, limit) : checkNumber(op, 'eps', o.eps, { positive: true });
  if (eps < limit) {
    throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: eps ${eps} is below the limit ${limit} for ${dtype}${upsampfac === 1.25 ? ' at upsampfac 1.25' : ''}; use eps ≥ ${limit}${dtype === 'complex64' ? " or dtype 'complex128'" : ''}`);
  }
  if (eps >= 1) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: eps must be below 1 (a relative error), got ${eps}`);
  const device = parseDevice(o.device, `${op}: device`);
  const backend = oneOf(op, 'backend', o.backend, ['js', 'native'] as const, undefined as unknown as 'js');
  const P = o.P === undefined ? 1 : checkNumber(op, 'P', o.P, { positive: true });
  if (!Number.isSafeInteger(P)) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: P (number of point sets) must be a positive integer, got ${P}`);
  if (P > 1 && gradient) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: gradient plans take one point set; leave P out or make one plan per set`);
  let width: number[] | undefined;
  if (o.width !== undefined) {
    if (typeof o.width === 'number') width = new Array<number>(modes.length).fill(o.width);
    else if (Array.isArray(o.width)) width = [...(o.width as number[])];
    else throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: width must be a number or an array of ${modes.length} numbers, got ${describe(o.width)}`);
  }
  let fineGrid: number[] | undefined;
  if (o.fineGrid !== undefined) {
    if (!Array.isArray(o.fineGrid)) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: fineGrid must be an array of ${modes.length} sizes, got ${describe(o.fineGrid)}`);
    fineGrid = [...(o.fineGrid as number[])];
  }
  let layout: AxisLayout;
  try {
    layout = axisLayout({ eps, upsampfac, dtype: dtype === 'complex64' ? 'float32' : 'float64', gradient, modes, width, fineGrid });
  } catch (e) {
    throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: ${(e as Error).message}`);
  }
  if (P * numel(layout.fineGrid) * ntransf > 2 ** 31 && device === 'cpu' && backend === 'js') {
    throw new ReconKernelsError('SIZE_TOO_LARGE', `${op}: ${P} point sets × ${ntransf} transforms is too large for the js backend`);
  }
  return { type, modes, ntransf, isign, modeord, eps, upsampfac, gradient, dtype, device, backend, P, width, fineGrid, layout };
}

/**
 * A NUFFT plan: fixed type, modes, precision and kernel; points set (and reset) with
 * {@link NufftPlan.setPoints}; executed any number of times on new data. Make one with
 * `nufft.plan(...)`. Async calls on one plan run in the order they were made; a synchronous
 * call while an async one is in flight is refused (INVALID_ARGUMENT). Dispose it when done
 * (or use `using`): that frees the backend's grids and the helper plans made for the VJPs.
 */
/** The memory an engine reads or writes: host data on the CPU, the device buffer on CUDA. */
function memoryOf(t: Tensor, what: string): HostArray | NativeStorage {
  return t.device === 'cpu' ? t.hostData(what) : t.storage(what);
}

/**
 * A NUFFT plan (FINUFFT's plan / set points / execute): made by {@link plan}, its points set
 * with setPoints (sorted once), then executed many times with new data. It runs where its
 * device says (cuda, or the host backend chosen at creation) and owns native or device memory
 * until dispose() (also [Symbol.dispose]). Calls on one plan run in the order made.
 */
export class NufftPlan {
  readonly #opts: ResolvedPlanOptions;
  #impl: NufftImpl | null;
  #disposed = false;
  #M = -1;
  /** Private copy of the current points [d, M] (for helper plans), replaced on setPoints. */
  #points: HostArray | null = null;
  #pointsVersion = 0;
  #busy = 0;
  #tail: Promise<unknown> = Promise.resolve();
  #helpers = new Map<string, { plan: NufftPlan; version: number }>();

  /** @internal Use `nufft.plan(options)`. */
  constructor(options: NufftPlanOptions, op = 'nufft.plan') {
    this.#opts = resolvePlanOptions(op, options);
    const { device, backend, layout: _layout, ...implOpts } = this.#opts;
    void _layout;
    this.#impl = createImpl(op, device, backend, implOpts);
  }

  /** Type, sizes, conventions, kernel (width, β, σ, fine grid), backend and device. */
  get info(): NufftPlanInfo {
    const o = this.#opts;
    const k = this.#impl?.kernel ?? { width: 0, beta: 0, upsampfac: o.upsampfac, fineGrid: [], gradientWidthIncrease: 0 };
    return {
      type: o.type, dim: o.modes.length, modes: [...o.modes], ntransf: o.ntransf, isign: o.isign, modeord: o.modeord,
      eps: o.eps, dtype: o.dtype, gradient: o.gradient, device: o.device, backend: this.#impl?.backend ?? 'js',
      width: k.width, beta: k.beta, upsampfac: k.upsampfac, fineGrid: [...k.fineGrid], gradientWidthIncrease: k.gradientWidthIncrease,
      M: Math.max(this.#M, 0), P: o.P, widths: [...o.layout.widths], expectedError: o.layout.expectedError,
    };
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Shape of the input {@link NufftPlan.execute} takes (with the batch axis). */
  get inputShape(): number[] {
    const s = this.#opts.type === 1 ? this.#pointShape() : [this.#opts.ntransf, ...this.#opts.modes];
    return this.#opts.P > 1 ? [this.#opts.P, ...s] : s;
  }

  /** Shape of the output {@link NufftPlan.execute} returns (with the batch axis). */
  get outputShape(): number[] {
    const s = this.#opts.type === 2 ? this.#pointShape() : [this.#opts.ntransf, ...this.#opts.modes];
    return this.#opts.P > 1 ? [this.#opts.P, ...s] : s;
  }

  /** The shape without the ntransf axis (allowed when ntransf = 1). */
  #short(full: number[]): number[] {
    return this.#opts.P > 1 ? [full[0], ...full.slice(2)] : full.slice(1);
  }

  #pointShape(): number[] {
    const o = this.#opts, M = Math.max(this.#M, 0);
    return o.gradient ? [o.ntransf, 1 + o.modes.length, M] : [o.ntransf, M];
  }

  #live(op: string): NufftImpl {
    if (this.#disposed || !this.#impl) throw new ReconKernelsError('DISPOSED', `${op}: the plan was disposed; it can no longer be used`);
    return this.#impl;
  }

  #notBusy(op: string): void {
    if (this.#busy > 0) {
      throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: an asynchronous call on this plan is still running; await it before a synchronous call`);
    }
  }

  #enqueue<T>(run: () => T | Promise<T>): Promise<T> {
    this.#busy++;
    const p = this.#tail.then(run);
    this.#tail = p.then(() => undefined, () => undefined);
    return p.finally(() => {
      this.#busy--;
    });
  }

  /**
   * Sets the nonuniform points (copied; the tensor may be changed or disposed afterwards).
   *
   * @param points real tensor [d, M] (or [M] when d = 1) in radians, any finite values (folded
   *   with period 2π); float32 for complex64 plans, float64 for complex128; on the plan's device.
   *   NaN or ±Infinity is a NON_FINITE error.
   * Cost: O(d·M) (fold and sort by grid cell); may be called again with other points, also of
   * another M.
   */
  setPoints(points: Tensor): Promise<void> {
    try {
      const { host, M } = this.#checkPoints('nufft.setPoints', points);
      return this.#setPointsHost(host, M, false) as Promise<void>;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Synchronous {@link NufftPlan.setPoints}: blocks the event loop while sorting. */
  setPointsSync(points: Tensor): void {
    this.#notBusy('nufft.setPointsSync');
    const { host, M } = this.#checkPoints('nufft.setPointsSync', points);
    this.#setPointsHost(host, M, true);
  }

  #checkPoints(op: string, points: unknown): { host: HostArray; M: number } {
    this.#live(op);
    const o = this.#opts, d = o.modes.length, rdt = realDType(o.dtype);
    const p = checkTensor(op, 'points', points, ['float32', 'float64', 'complex64', 'complex128']);
    if (p.dtype !== rdt) {
      throw new ReconKernelsError('INVALID_DTYPE', `${op}: points have dtype ${p.dtype}, but a ${o.dtype} plan takes ${rdt} points`);
    }
    if (p.device !== o.device) throw new ReconKernelsError('DEVICE_MISMATCH', `${op}: points are on ${p.device} but the plan is for ${o.device}`);
    const P = o.P;
    const okShape = P > 1
      ? p.shape.length === 3 && p.shape[0] === P && p.shape[1] === d
      : (p.shape.length === 2 && p.shape[0] === d) || (d === 1 && p.shape.length === 1) || (p.shape.length === 3 && p.shape[0] === 1 && p.shape[1] === d);
    if (!okShape) {
      throw new ReconKernelsError('INVALID_SHAPE', `${op}: points have shape ${fmtShape(p.shape)}; a ${d}-D plan${P > 1 ? ` with P = ${P}` : ''} takes ${P > 1 ? `[${P}, ${d}, M]` : `[${d}, M]${d === 1 ? ' or [M]' : ''}`}`);
    }
    const M = p.shape[p.shape.length - 1];
    // The plan keeps a host copy of its points for the helper plans of the VJPs; a CUDA plan
    // uploads it once and sorts on the device.
    const data = p.device === 'cpu' ? p.hostData('points') : p.toArraySync();
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        throw new ReconKernelsError('NON_FINITE', `${op}: points[${Math.floor(i / M)}, ${i % M}] is ${data[i]}; point coordinates must be finite (radians, any range)`);
      }
    }
    return { host: data.slice(), M };
  }

  /** @internal Takes ownership of `host` (a private array, never mutated afterwards). */
  #setPointsHost(host: HostArray, M: number, sync: boolean): void | Promise<void> {
    const impl = this.#live('nufft.setPoints');
    // The plan's state changes now, so that calls queued behind this one validate against it.
    this.#M = M;
    this.#points = host;
    this.#pointsVersion++;
    const run = (s: boolean) => (M === 0 ? (s ? undefined : Promise.resolve()) : impl.setPoints(host, M, s));
    const fail = (e: unknown) => {
      if (this.#points === host) {
        this.#M = -1;
        this.#points = null;
      }
      throw e;
    };
    if (sync) {
      try {
        run(true);
      } catch (e) {
        fail(e);
      }
      return;
    }
    return this.#enqueue(() => {
      if (this.#disposed) throw new ReconKernelsError('DISPOSED', 'nufft.setPoints: the plan was disposed before the call ran');
      return (run(false) as Promise<void>).catch(fail);
    });
  }

  /**
   * Runs the transform on `input` and returns the result in a new tensor (or in `opts.out`).
   *
   * Type 1: input strengths [ntransf, M] ([M] when ntransf = 1), or [ntransf, 1+d, M] with
   * gradient; output modes [ntransf, N1, ..., Nd]. Type 2: input modes [ntransf, N1, ..., Nd]
   * ([N1, ..., Nd] when ntransf = 1); output values [ntransf, M], or [ntransf, 1+d, M] with
   * gradient. The output has the batch axis exactly when the input has it. Dtype and device are
   * the plan's. Cost: O(M·w^d) spreading/interpolation plus one FFT of the fine grid per transform.
   */
  execute(input: Tensor, opts?: NufftExecuteOptions): Promise<Tensor> {
    try {
      const req = this.#checkExecute('nufft.execute', input, opts);
      return this.#enqueue(() => {
        const impl = this.#live('nufft.execute');
        if (this.#M === 0) return req.out;
        return (impl.execute(memoryOf(req.input, 'input'), memoryOf(req.out, 'out'), false) as Promise<void>).then(() => req.out);
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Synchronous {@link NufftPlan.execute}: blocks the event loop for the transform. */
  executeSync(input: Tensor, opts?: NufftExecuteOptions): Tensor {
    this.#notBusy('nufft.executeSync');
    const req = this.#checkExecute('nufft.executeSync', input, opts);
    if (this.#M !== 0) this.#impl!.execute(memoryOf(req.input, 'input'), memoryOf(req.out, 'out'), true);
    return req.out;
  }

  #checkExecute(op: string, input: unknown, opts: unknown): { input: Tensor; out: Tensor } {
    this.#live(op);
    const o = this.#opts;
    if (this.#M < 0) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: no points are set; call setPoints(points) first`);
    const x = checkTensor(op, 'input', input, ['float32', 'float64', 'complex64', 'complex128']);
    if (x.dtype !== o.dtype) throw new ReconKernelsError('INVALID_DTYPE', `${op}: input has dtype ${x.dtype}, but the plan is ${o.dtype}`);
    if (x.device !== o.device) throw new ReconKernelsError('DEVICE_MISMATCH', `${op}: input is on ${x.device} but the plan is for ${o.device}`);
    const inFull = this.inputShape, outFull = this.outputShape;
    const batched = sameShape(x.shape, inFull);
    if (!batched && !(o.ntransf === 1 && sameShape(x.shape, this.#short(inFull)))) {
      const what = o.type === 1 ? (o.gradient ? 'strengths (c, d)' : 'strengths') : 'modes';
      throw new ReconKernelsError('INVALID_SHAPE', `${op}: input has shape ${fmtShape(x.shape)}; this type-${o.type} plan takes ${what} ${fmtShape(inFull)}${o.ntransf === 1 ? ` or ${fmtShape(this.#short(inFull))}` : ''}`);
    }
    const outShape = batched ? outFull : this.#short(outFull);
    const oo = checkObject(op, 'options', opts);
    let out: Tensor;
    if (oo.out !== undefined) {
      out = checkTensor(op, 'out', oo.out, ['float32', 'float64', 'complex64', 'complex128']);
      if (out.dtype !== o.dtype) throw new ReconKernelsError('INVALID_DTYPE', `${op}: out has dtype ${out.dtype}, but the plan is ${o.dtype}`);
      if (out.device !== o.device) throw new ReconKernelsError('DEVICE_MISMATCH', `${op}: out is on ${out.device} but the plan is for ${o.device}`);
      if (!sameShape(out.shape, outFull) && !(o.ntransf === 1 && sameShape(out.shape, this.#short(outFull)))) {
        throw new ReconKernelsError('INVALID_SHAPE', `${op}: out has shape ${fmtShape(out.shape)}; expected ${fmtShape(outShape)}`);
      }
      const shared = out.device === 'cpu' ? out.hostData('out').buffer === x.hostData('input').buffer : out.storage('out') === x.storage('input');
      if (shared) {
        throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: out shares memory with input; the transform cannot run in place`);
      }
      if (this.#M === 0) fillSync(out, { re: 0, im: 0 });
    } else {
      out = zeros(outShape, { dtype: o.dtype, device: o.device });
    }
    return { input: x, out };
  }

  /**
   * Phase timings of the latest setPoints / execute in milliseconds (see {@link NufftTimings}):
   * measured per phase by the native backend; the js backend reports sortMs and totalMs only.
   */
  timings(): NufftTimings {
    return this.#live('nufft.timings').timings();
  }

  /** Frees the plan, its grids and its helper plans. Idempotent; later calls throw DISPOSED. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    const impl = this.#impl;
    this.#impl = null;
    this.#points = null;
    const helpers = [...this.#helpers.values()];
    this.#helpers.clear();
    const free = () => {
      impl?.dispose();
      for (const h of helpers) h.plan.dispose();
    };
    // Never free native memory under a running call: wait for the queue to drain.
    if (this.#busy > 0) void this.#tail.then(free);
    else free();
  }

  [disposeSymbol](): void {
    this.dispose();
  }

  toString(): string {
    const o = this.#opts;
    return `NufftPlan(type ${o.type}, modes [${o.modes.join(', ')}], ${o.dtype}, ${o.device}${this.#disposed ? ', disposed' : ''})`;
  }

  /** @internal The validated options (copy). */
  get options(): ResolvedPlanOptions {
    return { ...this.#opts, modes: [...this.#opts.modes], layout: { ...this.#opts.layout } };
  }

  /** @internal The current points [d, M] (private copy; do not modify) or null. */
  get pointsData(): HostArray | null {
    return this.#points;
  }

  /**
   * @internal A helper plan with the same modes, dtype, eps, σ, modeord, ntransf, device and
   * backend plus `overrides`, cached under `key`, with this plan's current points set.
   */
  helper(key: string, overrides: Partial<NufftImplOptions>, sync: boolean): NufftPlan | Promise<NufftPlan> {
    this.#live('nufft.vjp');
    if (this.#opts.P > 1) throw new ReconKernelsError('INVALID_ARGUMENT', 'nufft.vjp: batched plans (P > 1) have no VJP yet; use one plan per point set');
    if (!this.#points) throw new ReconKernelsError('INVALID_ARGUMENT', 'nufft.vjp: the plan has no points; call setPoints(points) first');
    let h = this.#helpers.get(key);
    if (!h) {
      const o = this.#opts;
      const plan = new NufftPlan({ ...o, backend: this.#impl!.backend === 'native' ? 'native' : o.device === 'cpu' ? 'js' : undefined, ...overrides }, 'nufft.vjp');
      h = { plan, version: -1 };
      this.#helpers.set(key, h);
    }
    const entry = h;
    if (entry.version === this.#pointsVersion) return sync ? entry.plan : Promise.resolve(entry.plan);
    const version = this.#pointsVersion;
    const r = entry.plan.#setPointsHost(this.#points, this.#M, sync);
    if (sync) {
      entry.version = version;
      return entry.plan;
    }
    return (r as Promise<void>).then(() => {
      entry.version = version;
      return entry.plan;
    });
  }
}

/** Checks that `v` is a live plan. */
export function checkPlan(op: string, v: unknown): NufftPlan {
  if (!(v instanceof NufftPlan)) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: plan must be a NufftPlan from nufft.plan(), got ${describe(v)}`);
  if (v.disposed) throw new ReconKernelsError('DISPOSED', `${op}: the plan was disposed; it can no longer be used`);
  return v;
}

export { Tensor };
