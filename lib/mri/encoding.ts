/**
 * The MRI encoding operator E on the NUFFT: forward(image) = A(S·image) per coil (type 2, sign
 * −1), adjoint(kspace) = Σ_c conj(S_c)·Aᴴ(kspace_c) (type 1, sign +1), normal = EᴴE (direct, or
 * by the Toeplitz embedding). Images are centred: pixel index n pairs with frequency
 * n − ⌊N/2⌋ (the NUFFT's modeord 0).
 *
 * Shapes (lead = optional batch axes, [P, ...] first for batched trajectories [P, d, M]):
 *   image [...lead, N1..Nd] (real or complex) → kspace [...lead, C, M] (coil axis only with smaps)
 * The NUFFT plans are built for the trajectory's device: host tensors run on the native or js
 * backend; CUDA tensors go to the NUFFT's CUDA path (its error, e.g. BACKEND_UNAVAILABLE, surfaces
 * until it exists). Coil weighting and the Toeplitz FFTs run on the host (device tensors are
 * copied), in float64.
 */
import type { Device } from '../device';
import { ReconKernelsError } from '../errors';
import { type NufftPlan, plan as nufftPlan } from '../nufft/index';
import { fmtShape, numel } from '../shape';
import { type Tensor, tensor } from '../tensor';
import { checkObject, checkTensor, describe } from '../validate';
import { toeplitzKernel, type ToeplitzKernel } from './toeplitz';
import { complexHost, hostOf } from './util';

/** Options of {@link encoding}. */
export interface EncodingOptions {
  /** Image size [N1..Nd], d = 2 or 3 (1 also works). */
  imageShape: readonly number[];
  /** Real [d, M] or batched [P, d, M], radians per axis (edge of k-space at ±π). */
  trajectory: Tensor;
  /** Coil sensitivities, complex [C, N1..Nd] (same for every point set); none = one coil, no coil axis. */
  smaps?: Tensor;
  /** Density compensation weights, real [M] or [P, M] (see {@link densityCompensation}); used by `dcfAdjoint`. */
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
  /** Host backend for the NUFFT plans ('js' or 'native'; default automatic). */
  backend?: 'js' | 'native';
}

/** The encoding operator made by {@link encoding}. */
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
  #traj: Tensor;
  #smaps: Float64Array | null;
  #dcf: Float64Array | null;
  #scale: number;
  #plans = new Map<string, NufftPlan>();
  #opts: EncodingOptions;
  #toep: ToeplitzKernel | null = null;
  #disposed = false;

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
    this.#traj = t;
    this.#opts = { ...o };
    if (o.smaps !== undefined) {
      const s = checkTensor(op, 'smaps', o.smaps, ['complex64', 'complex128', 'float32', 'float64'], 1);
      if (s.shape.length !== d + 1 || s.shape.slice(1).some((n, a) => n !== shape[a])) {
        throw new ReconKernelsError('INVALID_SHAPE', `${op}: smaps have shape ${fmtShape(s.shape)}; expected [C, ${shape.join(', ')}]`);
      }
      this.coils = s.shape[0];
      this.#smaps = complexHost(op, 'smaps', s);
    } else {
      this.coils = 1;
      this.#smaps = null;
    }
    if (o.dcf !== undefined) {
      const w = checkTensor(op, 'dcf', o.dcf, ['float32', 'float64', 'complex64', 'complex128']);
      if (w.numel !== this.P * this.M) throw new ReconKernelsError('INVALID_SHAPE', `${op}: dcf has shape ${fmtShape(w.shape)}; expected [${this.P > 1 ? `${this.P}, ` : ''}${this.M}]`);
      const c = complexHost(op, 'dcf', w);
      this.#dcf = new Float64Array(this.P * this.M);
      for (let j = 0; j < this.#dcf.length; j++) this.#dcf[j] = c[2 * j];
    } else {
      this.#dcf = null;
    }
    if (o.toeplitz) this.#toep = toeplitzKernel(t, this.imageShape, this.#scale * this.#scale, o.backend);
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
        ...(o.fineGrid !== undefined ? { fineGrid: o.fineGrid } : {}), ...(o.backend !== undefined && this.device === 'cpu' ? { backend: o.backend } : {}),
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

  /** Coil images [P·B, C, N] = S_c·x (or x itself without smaps). */
  #coilImages(x: Float64Array, nb: number): Float64Array {
    const S = this.#smaps;
    if (!S) return x;
    const C = this.coils, n = numel(this.imageShape), out = new Float64Array(2 * nb * C * n);
    for (let b = 0; b < nb; b++) for (let c = 0; c < C; c++) {
      const xo = 2 * b * n, so = 2 * c * n, oo = 2 * (b * C + c) * n;
      for (let i = 0; i < 2 * n; i += 2) {
        const xr = x[xo + i], xi = x[xo + i + 1], sr = S[so + i], si = S[so + i + 1];
        out[oo + i] = sr * xr - si * xi;
        out[oo + i + 1] = sr * xi + si * xr;
      }
    }
    return out;
  }

  /** Σ_c conj(S_c)·z_c for coil images [nb, C, N] (or z itself without smaps). */
  #combine(z: ArrayLike<number>, nb: number): Float64Array {
    const S = this.#smaps, n = numel(this.imageShape);
    if (!S) return Float64Array.from(z as ArrayLike<number>);
    const C = this.coils, out = new Float64Array(2 * nb * n);
    for (let b = 0; b < nb; b++) for (let c = 0; c < C; c++) {
      const zo = 2 * (b * C + c) * n, so = 2 * c * n, oo = 2 * b * n;
      for (let i = 0; i < 2 * n; i += 2) {
        const zr = z[zo + i], zi = z[zo + i + 1], sr = S[so + i], si = S[so + i + 1];
        out[oo + i] += sr * zr + si * zi;
        out[oo + i + 1] += sr * zi - si * zr;
      }
    }
    return out;
  }

  #out(data: Float64Array, shape: number[], scale: number): Tensor {
    if (scale !== 1) for (let i = 0; i < data.length; i++) data[i] *= scale;
    return tensor(data, { shape, dtype: this.dtype, device: this.device });
  }

  /** E·image: image [...lead, N1..Nd] → kspace [...lead, C, M] ([...lead, M] without smaps). */
  forwardSync(image: Tensor): Tensor {
    const op = 'mri.forward';
    this.#live(op);
    const x = checkTensor(op, 'image', image, ['float32', 'float64', 'complex64', 'complex128']);
    const { lead, B } = this.#imageLead(op, x);
    const C = this.coils, nt = B * C, n = numel(this.imageShape);
    const z = this.#coilImages(complexHost(op, 'image', x), this.P * B);
    const plan = this.#plan(2, nt);
    const zin = tensor(z, { shape: [this.P, nt, ...this.imageShape], dtype: this.dtype, device: this.device });
    void n;
    const k = plan.executeSync(this.P > 1 ? zin : zin.reshape([nt, ...this.imageShape]));
    const data = Float64Array.from(hostOf(k));
    return this.#out(data, [...lead, ...(this.#smaps ? [C] : []), this.M], this.#scale);
  }

  /** Eᴴ·kspace: kspace [...lead, C, M] → image [...lead, N1..Nd] (exact adjoint of forward). */
  adjointSync(kspace: Tensor): Tensor {
    return this.#adjoint('mri.adjoint', kspace, false);
  }

  /** Eᴴ·(dcf·kspace), scaled so that it approximates the image (the gridding reconstruction). */
  dcfAdjointSync(kspace: Tensor): Tensor {
    if (!this.#dcf) throw new ReconKernelsError('INVALID_ARGUMENT', 'mri.dcfAdjoint: the operator has no dcf; pass dcf (e.g. from mri.densityCompensation) to mri.encoding');
    return this.#adjoint('mri.dcfAdjoint', kspace, true);
  }

  #adjoint(op: string, kspace: Tensor, useDcf: boolean): Tensor {
    this.#live(op);
    const y = checkTensor(op, 'kspace', kspace, ['complex64', 'complex128', 'float32', 'float64']);
    const { lead, B } = this.#kspaceLead(op, y);
    const C = this.coils, nt = B * C, M = this.M;
    const data = complexHost(op, 'kspace', y);
    if (useDcf) {
      const w = this.#dcf!;
      for (let p = 0; p < this.P; p++) for (let t = 0; t < nt; t++) {
        const o = 2 * (p * nt + t) * M;
        for (let j = 0; j < M; j++) { data[o + 2 * j] *= w[p * M + j]; data[o + 2 * j + 1] *= w[p * M + j]; }
      }
    }
    const plan = this.#plan(1, nt);
    const yin = tensor(data, { shape: [this.P, nt, M], dtype: this.dtype, device: this.device });
    const z = plan.executeSync(this.P > 1 ? yin : yin.reshape([nt, M]));
    const img = this.#combine(hostOf(z), this.P * B);
    // dcf is in the raw convention (AᴴWA ≈ I for norm 'none'); 'ortho' undoes the 1/N of its two scalings.
    const s = useDcf && this.norm === 'ortho' ? 1 / this.#scale : this.#scale;
    return this.#out(img, [...lead, ...this.imageShape], s);
  }

  /** EᴴE·image (Toeplitz embedding when made with toeplitz: true, else adjoint(forward)). */
  normalSync(image: Tensor): Tensor {
    const op = 'mri.normal';
    this.#live(op);
    if (!this.#toep) return this.adjointSync(this.forwardSync(image));
    const x = checkTensor(op, 'image', image, ['float32', 'float64', 'complex64', 'complex128']);
    const { lead, B } = this.#imageLead(op, x);
    const C = this.coils, n = numel(this.imageShape);
    const z = this.#coilImages(complexHost(op, 'image', x), this.P * B);
    const buf = new Float64Array(2 * numel(this.#toep.grid));
    for (let p = 0; p < this.P; p++) for (let b = 0; b < B * C; b++) this.#toep.apply(z, 2 * (p * B * C + b) * n, p, buf);
    return this.#out(this.#combine(z, this.P * B), [...lead, ...this.imageShape], 1);
  }

  forward(image: Tensor): Promise<Tensor> {
    return run(() => this.forwardSync(image));
  }

  adjoint(kspace: Tensor): Promise<Tensor> {
    return run(() => this.adjointSync(kspace));
  }

  dcfAdjoint(kspace: Tensor): Promise<Tensor> {
    return run(() => this.dcfAdjointSync(kspace));
  }

  normal(image: Tensor): Promise<Tensor> {
    return run(() => this.normalSync(image));
  }

  /** Frees the NUFFT plans. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const p of this.#plans.values()) p.dispose();
    this.#plans.clear();
    this.#toep = null;
  }

  [Symbol.for('nodejs.dispose')](): void {
    this.dispose();
  }
}

function run<T>(f: () => T): Promise<T> {
  try {
    return Promise.resolve(f());
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Makes the encoding operator (see {@link Encoding}). */
export function encoding(options: EncodingOptions): Encoding {
  return new Encoding(options);
}
