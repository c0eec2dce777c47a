/**
 * Toeplitz embedding of the NUFFT normal operator AᴴA (as torchkbnufft's ToepNufft): for
 * A = type 2 (sign −1) on an image of N1..Nd pixels, (AᴴA x)[n] = Σ_m K[n − m]·x[m] with
 * K[t] = Σ_j w_j·exp(i·t·x_j), t ∈ (−N, N). K is computed once, in complex128, by one type 1
 * onto a grid G ≥ 2N per axis (modes in FFT order, so it is already the circulant's first
 * column; G = 2N unless that is not 2,3,5-smooth), Fourier transformed once and stored in the
 * operator's dtype. Each application is then pad → FFT → ×K̂ → inverse FFT → crop, fused with
 * the coil maps (cuda/mri.h): O(C·2^d·N^d·log N) per image with no gridding.
 */
import { fillSync } from '../array/ops';
import { callNative } from '../backend';
import { cudaIndex } from '../device';
import { ReconKernelsError, fromNativeError } from '../errors';
import type { NativeMriToeplitz } from '../native-types';
import { plan as nufftPlan } from '../nufft/index';
import { nextSmooth235Even } from '../nufft/params';
import { realDType } from '../dtype';
import { fmtShape, numel } from '../shape';
import { type Tensor, tensor, zeros } from '../tensor';
import { checkObject, checkTensor } from '../validate';
import { cast, type MriContext, mriContext } from './kernels';
import { toeplitzApplyJs, toeplitzKernelJs } from './js';

const disposeSymbol: typeof Symbol.dispose = (Symbol as { dispose?: typeof Symbol.dispose }).dispose ?? (Symbol.for('nodejs.dispose') as typeof Symbol.dispose);

/** Bytes of whole grids a CUDA operator keeps for its coil batches (at most MAX_GRIDS grids). */
const WORK_BYTES = 64 * 2 ** 20;
const MAX_GRIDS = 8;

/** One application of {@link ToeplitzKernel.apply}. */
export interface ToeplitzApply {
  /** Images [P, B, N1..Nd], complex in the kernel's dtype, or real of its precision (xReal). */
  x: Tensor;
  xReal: boolean;
  /** Coil maps [C, N1..Nd] in the kernel's dtype, or null (one coil, map 1). */
  smaps: Tensor | null;
  /** [P, B, N1..Nd] in the kernel's dtype, overwritten. */
  out: Tensor;
  /** Images per point set. */
  B: number;
  /** Coils (1 without smaps). */
  C: number;
}

/**
 * The precomputed Fourier transform of the circulant embedding, one per point set, and the FFT
 * plans applying it (native or CUDA), owned until {@link ToeplitzKernel.dispose}.
 */
export class ToeplitzKernel {
  readonly imageShape: number[];
  /** The circulant's grid G per axis (2N unless not 2,3,5-smooth). */
  readonly grid: number[];
  readonly P: number;
  readonly dtype: 'complex64' | 'complex128';
  /** [P, G1..Gd] in the operator's dtype, on its device: FFT of K (sign −1), times scale/ΠG. */
  readonly khat: Tensor;
  readonly #ctx: MriContext;
  #native: NativeMriToeplitz | null;
  #work: Tensor | null = null;
  #disposed = false;

  /** @internal Use {@link toeplitzKernel}. */
  constructor(ctx: MriContext, imageShape: number[], grid: number[], P: number, khat: Tensor, native: NativeMriToeplitz | null) {
    this.#ctx = ctx;
    this.imageShape = imageShape;
    this.grid = grid;
    this.P = P;
    this.dtype = khat.dtype as 'complex64' | 'complex128';
    this.khat = khat;
    this.#native = native;
  }

  /**
   * out[p, b] = Σ_c conj(S_c)·(AᴴA)_p(S_c·x[p, b]) (with the kernel's weights and scale), on the
   * tensors' device; the coils go through the FFTs one by one (CPU) or in batches (CUDA), never
   * all at once. Returns void when sync, else a Promise.
   */
  apply(sync: boolean, a: ToeplitzApply): void | Promise<void> {
    if (this.#disposed) throw new ReconKernelsError('DISPOSED', 'mri.toeplitz: the kernel was disposed');
    this.#check(a);
    if (!this.#native) {
      toeplitzApplyJs({
        N: this.imageShape, G: this.grid, P: this.P, B: a.B, C: a.smaps ? a.C : 1, x: a.x.hostData('x'), xReal: a.xReal,
        smaps: a.smaps?.hostData('smaps') ?? null, khat: this.khat.hostData('khat'), out: a.out.hostData('out'),
      });
      return sync ? undefined : Promise.resolve();
    }
    const native = this.#native;
    const args = {
      P: this.P, B: a.B, C: a.smaps ? a.C : 1, xReal: a.xReal, x: a.x.storage('x'), smaps: a.smaps?.storage('smaps'),
      khat: this.khat.storage('khat'), out: a.out.storage('out'), work: this.#ctx.engine === 'cuda' ? this.#workFor(this.P * a.B * (a.smaps ? a.C : 1)).storage('work') : undefined,
      threads: 0,
    };
    return callNative(sync, (s) => (s ? native.apply(args, true) : native.apply(args, false)), () => undefined);
  }

  #check(a: ToeplitzApply): void {
    const op = 'mri.toeplitz.apply', nimg = numel(this.imageShape), C = a.smaps ? a.C : 1;
    const want: [string, Tensor | null, readonly string[], number][] = [
      ['x', a.x, a.xReal ? [realDType(this.dtype)] : [this.dtype], this.P * a.B * nimg],
      ['out', a.out, [this.dtype], this.P * a.B * nimg],
      ['smaps', a.smaps, [this.dtype], C * nimg],
    ];
    if (!Number.isSafeInteger(a.B) || a.B < 0 || !Number.isSafeInteger(C) || C < 1) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: B must be ≥ 0 and C ≥ 1`);
    for (const [name, t, dtypes, n] of want) {
      if (!t) continue;
      if (t.disposed) throw new ReconKernelsError('DISPOSED', `${op}: ${name} was disposed`);
      if (!dtypes.includes(t.dtype)) throw new ReconKernelsError('INVALID_DTYPE', `${op}: ${name} has dtype ${t.dtype}; expected ${dtypes.join(' or ')}`);
      if (t.numel !== n) throw new ReconKernelsError('INVALID_SHAPE', `${op}: ${name} has ${t.numel} elements; expected ${n}`);
      if (t.device !== this.khat.device) throw new ReconKernelsError('DEVICE_MISMATCH', `${op}: ${name} is on ${t.device} but the kernel on ${this.khat.device}`);
    }
  }

  /** CUDA scratch: whole grids for a batch of coils, grown (up to the cap) when more pairs come. */
  #workFor(pairs: number): Tensor {
    const gridBytes = numel(this.grid) * (this.dtype === 'complex64' ? 8 : 16);
    const want = Math.max(1, Math.min(pairs, MAX_GRIDS, Math.floor(WORK_BYTES / gridBytes)));
    if (!this.#work || this.#work.shape[0] < want) {
      this.#work?.dispose();  // an op still using it holds the memory until it settles
      this.#work = null;
      this.#work = zeros([want, ...this.grid], { dtype: this.dtype, device: this.#ctx.device });
    }
    return this.#work;
  }

  /** Frees K̂, the plans and the scratch. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.khat.dispose();
    this.#work?.dispose();
    this.#work = null;
    try {
      this.#native?.dispose();
    } catch {
      // already disposed
    }
    this.#native = null;
  }

  [disposeSymbol](): void {
    this.dispose();
  }
}

/** Options of {@link toeplitzKernel}. */
export interface ToeplitzKernelOptions {
  /** Multiplies K (e.g. 1/ΠN for 'ortho'); default 1. */
  scale?: number;
  /** Host backend (host trajectories only); default automatic. */
  backend?: 'js' | 'native';
  /** Real weights w_j [P·M] (default 1). */
  weights?: Float64Array;
  /** dtype K̂ is stored and applied in; default complex64 for float32 trajectories, else complex128. */
  dtype?: 'complex64' | 'complex128';
}

/**
 * Builds the Toeplitz kernel for trajectory [d, M] or [P, d, M] (radians), on its device: one
 * batched complex128 type 1 (eps 1e-11) of the weights onto the grid G in FFT order, one FFT
 * in double, then K̂ = scale/ΠG · FFT(K) in `dtype`.
 */
export function toeplitzKernel(trajectory: Tensor, imageShape: readonly number[], options: ToeplitzKernelOptions = {}): ToeplitzKernel {
  const op = 'mri.toeplitzKernel';
  checkObject(op, 'options', options);
  const t = checkTensor(op, 'trajectory', trajectory, ['float32', 'float64'], 2);
  const d = imageShape.length;
  if (!((t.shape.length === 2 && t.shape[0] === d) || (t.shape.length === 3 && t.shape[1] === d)) || !imageShape.every((n) => Number.isSafeInteger(n) && n > 0)) {
    throw new ReconKernelsError('INVALID_SHAPE', `${op}: trajectory ${fmtShape(t.shape)} does not fit an image of [${imageShape.join(', ')}]; expected [d, M] or [P, d, M] with d = ${d}`);
  }
  const ctx = mriContext(op, trajectory, options.backend);
  const shape = [...imageShape];
  const P = trajectory.shape.length === 3 ? trajectory.shape[0] : 1;
  const M = trajectory.shape[trajectory.shape.length - 1];
  const dtype = options.dtype ?? (trajectory.dtype === 'float32' ? 'complex64' : 'complex128');
  const G = shape.map((n) => nextSmooth235Even(2 * n)), ng = numel(G);
  const device = trajectory.device;
  const temps: Tensor[] = [];
  let khat: Tensor | null = null;
  let native: NativeMriToeplitz | null = null;
  const plan = nufftPlan({ type: 1, modes: G, modeord: 1, dtype: 'complex128', eps: 1e-11, P, device, ...(ctx.backend ? { backend: ctx.backend } : {}) });
  try {
    let pts = trajectory;
    if (trajectory.dtype !== 'float64') {
      pts = zeros(trajectory.shape, { dtype: 'float64', device });
      temps.push(pts);
      cast(ctx, true, { src: trajectory, dst: pts });
    }
    const cshape = P > 1 ? [P, 1, M] : [1, M];
    let c: Tensor;
    if (options.weights) {
      const w = options.weights, h = new Float64Array(2 * P * M);
      for (let j = 0; j < P * M; j++) h[2 * j] = w[j];
      c = tensor(h, { shape: cshape, dtype: 'complex128', device });
    } else {
      c = fillSync(zeros(cshape, { dtype: 'complex128', device }), { re: 1, im: 0 }, ctx.device === 'cpu' ? { backend: ctx.engine === 'js' ? 'js' : 'native' } : undefined);
    }
    temps.push(c);
    plan.setPointsSync(pts);
    const k = plan.executeSync(c);
    temps.push(k);
    khat = zeros([P, ...G], { dtype, device });
    const scale = (options.scale ?? 1) / ng;
    if (ctx.engine === 'js') {
      toeplitzKernelJs(G, P, scale, k.hostData('k'), khat.hostData('khat'));
    } else {
      try {
        native = new ctx.addon!.MriToeplitz!({ shape, grid: G, dtype, device: ctx.device === 'cpu' ? -1 : cudaIndex(ctx.device) });
        native.setKernel({ P, scale, k: k.storage('k'), khat: khat.storage('khat'), threads: 0 }, true);
      } catch (e) {
        throw fromNativeError(e);
      }
    }
    const kernel = new ToeplitzKernel(ctx, shape, G, P, khat, native);
    khat = null;
    native = null;
    return kernel;
  } finally {
    plan.dispose();
    for (const t of temps) t.dispose();
    khat?.dispose();
    native?.dispose();
  }
}
