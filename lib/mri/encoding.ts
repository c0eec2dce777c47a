/**
 * The MRI encoding operator E on the NUFFT: forward(image) = A(S·image) per coil (type 2, sign
 * −1), adjoint(kspace) = Σ_c conj(S_c)·Aᴴ(kspace_c) (type 1, sign +1), normal = EᴴE (direct, or
 * by the Toeplitz embedding). Images are centred: pixel index n pairs with frequency
 * n − ⌊N/2⌋ (the NUFFT's modeord 0).
 *
 * Shapes (lead = optional batch axes, [P, ...] first for batched trajectories [P, d, M]):
 *   image [...lead, N1..Nd] (real or complex) → kspace [...lead, C, M] (coil axis only with smaps)
 * Everything stays on the trajectory's device and in the operator's dtype: the NUFFT plans are
 * made for that device, and coil weighting, coil combination, dcf weighting and the Toeplitz
 * FFTs run there too (cuda/mri.h on the native and CUDA backends, lib/mri/js.ts on js).
 */
import type { Device } from '../device';
import { type DType, isComplex, realDType } from '../dtype';
import { ReconKernelsError } from '../errors';
import { type NufftPlan, plan as nufftPlan } from '../nufft/index';
import { fmtShape, numel } from '../shape';
import { type Tensor, zeros } from '../tensor';
import { checkObject, checkTensor, describe } from '../validate';
import { cast, combine, expand, type MriContext, mriContext, weight } from './kernels';
import { toeplitzKernel, type ToeplitzKernel } from './toeplitz';
import { alias, drive } from './util';

const disposeSymbol: typeof Symbol.dispose = (Symbol as { dispose?: typeof Symbol.dispose }).dispose ?? (Symbol.for('nodejs.dispose') as typeof Symbol.dispose);
const ANY: readonly DType[] = ['float32', 'float64', 'complex64', 'complex128'];

/** Options of {@link encoding}. */
export interface EncodingOptions {
  /** Image size [N1..Nd], d = 2 or 3 (1 also works). */
  imageShape: readonly number[];
  /** Real [d, M] or batched [P, d, M], radians per axis (edge of k-space at ±π); float32 makes a complex64 operator, float64 a complex128 one. */
  trajectory: Tensor;
  /** Coil sensitivities [C, N1..Nd] (complex, or real), on the trajectory's device; none = one coil, no coil axis. Copied. */
  smaps?: Tensor;
  /** Density compensation weights, real [M] or [P, M] on the trajectory's device (see {@link densityCompensation}); used by `dcfAdjoint`. Copied. */
  dcf?: Tensor;
  /** 'none' (default): raw NUFFT sums; 'ortho': both directions scaled by 1/√(N1⋯Nd). */
  norm?: 'none' | 'ortho';
  /** `normal` by the Toeplitz embedding (precomputed now) instead of adjoint(forward). */
  toeplitz?: boolean;
  /** NUFFT tolerance (default: the plan's default for the dtype). */
  eps?: number;
  /** NUFFT kernel width, a number or one per axis (torchkbnufft's numpoints). */
  width?: number | readonly number[];
  /** NUFFT fine grid per axis (torchkbnufft's grid_size). */
  fineGrid?: readonly number[];
  /** Host backend for the NUFFT plans and the MRI ops ('js' or 'native'; default automatic). Host trajectories only. */
  backend?: 'js' | 'native';
}

/** The encoding operator made by {@link encoding}; owns its plans, copies and K̂ until dispose(). */
export class Encoding {
  readonly imageShape: number[];
  readonly dim: number;
  readonly P: number;
  readonly M: number;
  /** Number of coils (1 without smaps). */
  readonly coils: number;
  readonly dtype: 'complex64' | 'complex128';
  readonly device: Device;
  readonly norm: 'none' | 'ortho';
  /** Where the MRI ops run: 'cuda', 'native' or 'js'. */
  readonly backend: 'cuda' | 'native' | 'js';
  readonly #ctx: MriContext;
  readonly #traj: Tensor;
  #smaps: Tensor | null = null;
  #dcf: Tensor | null = null;
  readonly #scale: number;
  readonly #plans = new Map<string, NufftPlan>();
  readonly #opts: EncodingOptions;
  #toep: ToeplitzKernel | null = null;
  #disposed = false;
  readonly #inflight = new Set<Promise<unknown>>();

  constructor(options: EncodingOptions) {
    const op = 'mri.encoding';
    const o = checkObject(op, 'options', options) as unknown as EncodingOptions;
    const shape = o.imageShape;
    if (!Array.isArray(shape) || shape.length < 1 || shape.length > 3 || !shape.every((n) => Number.isSafeInteger(n) && n > 0)) {
      throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: imageShape must be 1 to 3 positive integers, got ${describe(shape)}`);
    }
    const d = shape.length;
    const t = checkTensor(op, 'trajectory', o.trajectory, ['float32', 'float64'], 2);
    const ok = (t.shape.length === 2 && t.shape[0] === d) || (t.shape.length === 3 && t.shape[1] === d);
    if (!ok) throw new ReconKernelsError('INVALID_SHAPE', `${op}: trajectory has shape ${fmtShape(t.shape)}; expected [${d}, M] or [P, ${d}, M]`);
    this.imageShape = [...shape];
    this.dim = d;
    this.P = t.shape.length === 3 ? t.shape[0] : 1;
    this.M = t.shape[t.shape.length - 1];
    this.dtype = t.dtype === 'float32' ? 'complex64' : 'complex128';
    this.device = t.device;
    this.norm = o.norm ?? 'none';
    if (this.norm !== 'none' && this.norm !== 'ortho') throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: norm must be 'none' or 'ortho', got ${describe(o.norm)}`);
    this.#scale = this.norm === 'ortho' ? 1 / Math.sqrt(numel(shape)) : 1;
    this.#opts = { ...o };
    this.#ctx = mriContext(op, t, o.backend);
    this.backend = this.#ctx.engine;
    const s = o.smaps !== undefined ? checkTensor(op, 'smaps', o.smaps, ANY, 1) : null;
    if (s && (s.shape.length !== d + 1 || s.shape.slice(1).some((n, a) => n !== shape[a]))) {
      throw new ReconKernelsError('INVALID_SHAPE', `${op}: smaps have shape ${fmtShape(s.shape)}; expected [C, ${shape.join(', ')}]`);
    }
    const w = o.dcf !== undefined ? checkTensor(op, 'dcf', o.dcf, ['float32', 'float64']) : null;
    if (w && w.numel !== this.P * this.M) throw new ReconKernelsError('INVALID_SHAPE', `${op}: dcf has shape ${fmtShape(w.shape)}; expected [${this.P > 1 ? `${this.P}, ` : ''}${this.M}]`);
    for (const [name, x] of [['smaps', s], ['dcf', w]] as const) {
      if (x && x.device !== this.device) throw new ReconKernelsError('DEVICE_MISMATCH', `${op}: ${name} is on ${x.device} but the trajectory is on ${this.device}; move it with .to()`);
    }
    this.coils = s ? s.shape[0] : 1;
    this.#traj = t.toSync(t.device);
    try {
      if (s) this.#smaps = this.#ownCopy(s, isComplex(s.dtype) ? this.dtype : realDType(this.dtype), !isComplex(s.dtype));
      if (w) this.#dcf = this.#ownCopy(w, realDType(this.dtype), false);
      if (o.toeplitz) this.#toep = toeplitzKernel(t, this.imageShape, { scale: this.#scale * this.#scale, backend: this.#ctx.backend, dtype: this.dtype });
    } catch (e) {
      this.#free();
      throw e;
    }
  }

  /** A copy of `x` in dtype `like` on the device; real smaps become complex (toComplex). */
  #ownCopy(x: Tensor, like: DType, toComplex: boolean): Tensor {
    const prec = zeros(x.shape, { dtype: like, device: this.device });
    try {
      cast(this.#ctx, true, { src: x, dst: prec });
      if (!toComplex) return prec;
      const c = zeros(x.shape, { dtype: this.dtype, device: this.device });
      try {
        expand(this.#ctx, true, { x: prec, xReal: true, smaps: null, out: c, B: 1, C: 1, N: x.numel, scale: 1 });
      } catch (e) {
        c.dispose();
        throw e;
      }
      prec.dispose();
      return c;
    } catch (e) {
      prec.dispose();
      throw e;
    }
  }

  #live(op: string): void {
    if (this.#disposed) throw new ReconKernelsError('DISPOSED', `${op}: the operator was disposed`);
  }

  /** The type-1/type-2 plan for `nt` transforms per set, points set, cached. */
  #plan(type: 1 | 2, nt: number): NufftPlan {
    const key = `${type}:${nt}`;
    let p = this.#plans.get(key);
    if (!p) {
      const o = this.#opts;
      p = nufftPlan({
        type, modes: this.imageShape, ntransf: nt, dtype: this.dtype, device: this.device, P: this.P,
        ...(o.eps !== undefined ? { eps: o.eps } : {}), ...(o.width !== undefined ? { width: o.width } : {}),
        ...(o.fineGrid !== undefined ? { fineGrid: o.fineGrid } : {}), ...(this.#ctx.backend !== undefined ? { backend: this.#ctx.backend } : {}),
      });
      try {
        p.setPointsSync(this.#traj);
      } catch (e) {
        p.dispose();
        throw e;
      }
      this.#plans.set(key, p);
    }
    return p;
  }

  /** Shape of a plan's data for `nt` transforms per set of `tail` ([P, nt, ...tail] or [nt, ...tail]). */
  #planShape(nt: number, tail: readonly number[]): number[] {
    return this.P > 1 ? [this.P, nt, ...tail] : [nt, ...tail];
  }

  #checkInput(op: string, name: string, v: unknown): Tensor {
    const x = checkTensor(op, name, v, ANY);
    if (x.device !== this.device) throw new ReconKernelsError('DEVICE_MISMATCH', `${op}: ${name} is on ${x.device} but the operator is on ${this.device}; move it with .to()`);
    return x;
  }

  /** Leading axes of an image tensor and B = images per point set. */
  #imageLead(op: string, x: Tensor): { lead: number[]; B: number } {
    const d = this.dim, s = x.shape;
    const ok = s.length >= d && s.slice(s.length - d).every((n, a) => n === this.imageShape[a]);
    const lead = s.slice(0, s.length - d);
    if (!ok || (this.P > 1 && lead[0] !== this.P)) {
      throw new ReconKernelsError('INVALID_SHAPE', `${op}: image has shape ${fmtShape(s)}; expected [${this.P > 1 ? `${this.P}, ` : ''}..., ${this.imageShape.join(', ')}]`);
    }
    return { lead, B: numel(lead) / this.P };
  }

  #kspaceLead(op: string, y: Tensor): { lead: number[]; B: number } {
    const s = y.shape, tail = this.#smaps ? 2 : 1;
    const ok = s.length >= tail && s[s.length - 1] === this.M && (!this.#smaps || s[s.length - 2] === this.coils);
    const lead = s.slice(0, s.length - tail);
    if (!ok || (this.P > 1 && lead[0] !== this.P)) {
      throw new ReconKernelsError('INVALID_SHAPE', `${op}: kspace has shape ${fmtShape(s)}; expected [${this.P > 1 ? `${this.P}, ` : ''}...${this.#smaps ? `, ${this.coils}` : ''}, ${this.M}]`);
    }
    return { lead, B: numel(lead) / this.P };
  }

  /** `x` in the operator's precision: itself when it already is (complex, or real of its precision), else a cast copy in `temps`. */
  *#operand(x: Tensor, temps: Tensor[], sync: boolean): Generator<unknown, { t: Tensor; real: boolean }, unknown> {
    const real = !isComplex(x.dtype), want = real ? realDType(this.dtype) : this.dtype;
    if (x.dtype === want) return { t: x, real };
    const t = zeros(x.shape, { dtype: want, device: this.device });
    temps.push(t);
    yield cast(this.#ctx, sync, { src: x, dst: t });
    return { t, real };
  }

  *#forwardSteps(op: string, image: unknown, sync: boolean): Generator<unknown, Tensor, unknown> {
    this.#live(op);
    const x = this.#checkInput(op, 'image', image);
    const { lead, B } = this.#imageLead(op, x);
    const C = this.coils, nt = B * C, n = numel(this.imageShape);
    const plan = this.#plan(2, nt);
    const temps: Tensor[] = [];
    const out = zeros(this.#planShape(nt, [this.M]), { dtype: this.dtype, device: this.device });
    try {
      const xin = yield* this.#operand(x, temps, sync);
      const inShape = this.#planShape(nt, this.imageShape);
      let z: Tensor;
      if (!this.#smaps && !xin.real && this.#scale === 1) {
        z = alias(xin.t, inShape);
      } else {
        z = zeros(inShape, { dtype: this.dtype, device: this.device });
        temps.push(z);
        yield expand(this.#ctx, sync, { x: xin.t, xReal: xin.real, smaps: this.#smaps, out: z, B: this.P * B, C, N: n, scale: this.#scale });
      }
      yield sync ? plan.executeSync(z, { out }) : plan.execute(z, { out });
    } catch (e) {
      out.dispose();
      throw e;
    } finally {
      for (const t of temps) t.dispose();
    }
    return alias(out, [...lead, ...(this.#smaps ? [C] : []), this.M]);
  }

  *#adjointSteps(op: string, kspace: unknown, useDcf: boolean, sync: boolean): Generator<unknown, Tensor, unknown> {
    this.#live(op);
    if (useDcf && !this.#dcf) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: the operator has no dcf; pass dcf (e.g. from mri.densityCompensation) to mri.encoding`);
    const y = this.#checkInput(op, 'kspace', kspace);
    const { lead, B } = this.#kspaceLead(op, y);
    const C = this.coils, nt = B * C, M = this.M, n = numel(this.imageShape);
    const plan = this.#plan(1, nt);
    // dcf is in the raw convention (AᴴWA ≈ I for norm 'none'); 'ortho' undoes the 1/N of its two scalings.
    const s = useDcf && this.norm === 'ortho' ? 1 / this.#scale : this.#scale;
    const outShape = [...lead, ...this.imageShape];
    const temps: Tensor[] = [];
    const z = zeros(this.#planShape(nt, this.imageShape), { dtype: this.dtype, device: this.device });
    let out: Tensor | null = null;
    try {
      const yin = yield* this.#operand(y, temps, sync);
      const kShape = this.#planShape(nt, [M]);
      let k: Tensor;
      if (useDcf || yin.real) {
        k = zeros(kShape, { dtype: this.dtype, device: this.device });
        temps.push(k);
        yield weight(this.#ctx, sync, { y: yin.t, yReal: yin.real, w: useDcf ? this.#dcf : null, out: k, P: this.P, T: nt, M, scale: 1 });
      } else {
        k = alias(yin.t, kShape);
      }
      yield sync ? plan.executeSync(k, { out: z }) : plan.execute(k, { out: z });
      if (!this.#smaps && s === 1) return alias(z, outShape);
      temps.push(z);
      out = zeros(outShape, { dtype: this.dtype, device: this.device });
      yield combine(this.#ctx, sync, { z, smaps: this.#smaps, out, B: this.P * B, C, N: n, scale: s });
      const r = out;
      out = null;
      return r;
    } catch (e) {
      if (!temps.includes(z)) z.dispose();
      throw e;
    } finally {
      out?.dispose();
      for (const t of temps) t.dispose();
    }
  }

  *#normalSteps(op: string, image: unknown, sync: boolean): Generator<unknown, Tensor, unknown> {
    this.#live(op);
    const toep = this.#toep;
    if (!toep) {
      const k = yield* this.#forwardSteps(op, image, sync);
      try {
        return yield* this.#adjointSteps(op, k, false, sync);
      } finally {
        k.dispose();
      }
    }
    const x = this.#checkInput(op, 'image', image);
    const { lead, B } = this.#imageLead(op, x);
    const temps: Tensor[] = [];
    const out = zeros([...lead, ...this.imageShape], { dtype: this.dtype, device: this.device });
    try {
      const xin = yield* this.#operand(x, temps, sync);
      yield toep.apply(sync, { x: xin.t, xReal: xin.real, smaps: this.#smaps, out, B, C: this.coils });
    } catch (e) {
      out.dispose();
      throw e;
    } finally {
      for (const t of temps) t.dispose();
    }
    return out;
  }

  /** Runs an async pipeline, counted so that dispose() waits for it before freeing memory. */
  #track<T>(p: Promise<T>): Promise<T> {
    this.#inflight.add(p);
    const forget = () => {
      this.#inflight.delete(p);
    };
    p.then(forget, forget);
    return p;
  }

  /**
   * E·image: image [...lead, N1..Nd] (real or complex, on the operator's device) → kspace
   * [...lead, C, M] ([...lead, M] without smaps), complex in the operator's dtype.
   */
  forward(image: Tensor): Promise<Tensor> {
    return this.#track(drive(false, () => this.#forwardSteps('mri.forward', image, false)));
  }

  /** Synchronous {@link Encoding.forward}. */
  forwardSync(image: Tensor): Tensor {
    return drive(true, () => this.#forwardSteps('mri.forwardSync', image, true));
  }

  /** Eᴴ·kspace: kspace [...lead, C, M] → image [...lead, N1..Nd] (exact adjoint of forward). */
  adjoint(kspace: Tensor): Promise<Tensor> {
    return this.#track(drive(false, () => this.#adjointSteps('mri.adjoint', kspace, false, false)));
  }

  /** Synchronous {@link Encoding.adjoint}. */
  adjointSync(kspace: Tensor): Tensor {
    return drive(true, () => this.#adjointSteps('mri.adjointSync', kspace, false, true));
  }

  /** Eᴴ·(dcf·kspace), scaled so that it approximates the image (the gridding reconstruction). */
  dcfAdjoint(kspace: Tensor): Promise<Tensor> {
    return this.#track(drive(false, () => this.#adjointSteps('mri.dcfAdjoint', kspace, true, false)));
  }

  /** Synchronous {@link Encoding.dcfAdjoint}. */
  dcfAdjointSync(kspace: Tensor): Tensor {
    return drive(true, () => this.#adjointSteps('mri.dcfAdjointSync', kspace, true, true));
  }

  /**
   * EᴴE·image (Toeplitz embedding when made with toeplitz: true: one fused pad-FFT-×K̂-IFFT-crop
   * per coil and no gridding; else adjoint(forward)). Image as for forward; result like adjoint's.
   */
  normal(image: Tensor): Promise<Tensor> {
    return this.#track(drive(false, () => this.#normalSteps('mri.normal', image, false)));
  }

  /** Synchronous {@link Encoding.normal}. */
  normalSync(image: Tensor): Tensor {
    return drive(true, () => this.#normalSteps('mri.normalSync', image, true));
  }

  #free(): void {
    for (const p of this.#plans.values()) p.dispose();
    this.#plans.clear();
    this.#toep?.dispose();
    this.#toep = null;
    this.#smaps?.dispose();
    this.#smaps = null;
    this.#dcf?.dispose();
    this.#dcf = null;
    this.#traj.dispose();
  }

  /** Frees the NUFFT plans, K̂ and the operator's copies (after calls in flight settle). Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.#inflight.size === 0) {
      this.#free();
      return;
    }
    void Promise.allSettled([...this.#inflight]).then(() => this.#free());
  }

  [disposeSymbol](): void {
    this.dispose();
  }
}

/** Makes the encoding operator (see {@link Encoding}). */
export function encoding(options: EncodingOptions): Encoding {
  return new Encoding(options);
}
