/**
 * Toeplitz embedding of the NUFFT normal operator AᴴA (as torchkbnufft's ToepNufft): for
 * A = type 2 (sign −1) on an image of N1..Nd pixels, (AᴴA x)[n] = Σ_m K[n − m]·x[m] with
 * K[t] = Σ_j w_j·exp(i·t·x_j), t ∈ (−N, N). K is computed once by one type 1 onto the doubled
 * grid (modes 2N in FFT order, so it is already the circulant's first column), Fourier
 * transformed once, and each application is then zero-pad → FFT → multiply → inverse FFT → crop:
 * O(2^d·N^d·log N) per call with no gridding.
 */
import { fftn } from '../js/fft';
import { plan as nufftPlan } from '../nufft/index';
import { tensor, type Tensor } from '../tensor';
import { numel } from '../shape';
import { hostOf } from './util';

/** Precomputed Fourier transform of the circulant embedding, one per point set. */
export class ToeplitzKernel {
  readonly imageShape: number[];
  readonly grid: number[];
  readonly P: number;
  /** [P, 2N1..2Nd] complex interleaved, already divided by the grid size (inverse FFT scale). */
  readonly khat: Float64Array;

  constructor(imageShape: number[], P: number, khat: Float64Array) {
    this.imageShape = imageShape;
    this.grid = imageShape.map((n) => 2 * n);
    this.P = P;
    this.khat = khat;
  }

  /**
   * Applies AᴴA (with the kernel's weights and scale) in place to the image [N1..Nd] at complex
   * offset `offset` (in reals) of the work array `x`, for point set `p`; `buf` holds 2·Π 2N_a reals.
   */
  apply(x: Float64Array, offset: number, p: number, buf: Float64Array): void {
    const N = this.imageShape, G = this.grid, d = N.length;
    const ng = numel(G);
    buf.fill(0);
    // pad: image index (a, b, c) → grid index (a, b, c)
    const N3 = [...new Array(3 - d).fill(1), ...N], G3 = [...new Array(3 - d).fill(1), ...G];
    for (let a = 0; a < N3[0]; a++) for (let b = 0; b < N3[1]; b++) {
      const src = offset + 2 * ((a * N3[1] + b) * N3[2]), dst = 2 * ((a * G3[1] + b) * G3[2]);
      for (let c = 0; c < 2 * N3[2]; c++) buf[dst + c] = x[src + c];
    }
    fftn(buf, G, -1);
    const kh = this.khat, kb = 2 * p * ng;
    for (let i = 0; i < ng; i++) {
      const xr = buf[2 * i], xi = buf[2 * i + 1], kr = kh[kb + 2 * i], ki = kh[kb + 2 * i + 1];
      buf[2 * i] = xr * kr - xi * ki;
      buf[2 * i + 1] = xr * ki + xi * kr;
    }
    fftn(buf, G, 1);
    for (let a = 0; a < N3[0]; a++) for (let b = 0; b < N3[1]; b++) {
      const dst = offset + 2 * ((a * N3[1] + b) * N3[2]), src = 2 * ((a * G3[1] + b) * G3[2]);
      for (let c = 0; c < 2 * N3[2]; c++) x[dst + c] = buf[src + c];
    }
  }
}

/**
 * Builds the Toeplitz kernel for trajectory [d, M] or [P, d, M] (radians): one batched type 1
 * in complex128 (eps 1e-11) of the weights (default 1) onto modes 2N in FFT order, then one FFT.
 *
 * @param scale multiplies K (e.g. 1/N for 'ortho').
 * @param weights optional real [P·M] weights w_j.
 */
export function toeplitzKernel(trajectory: Tensor, imageShape: number[], scale: number, backend?: 'js' | 'native', weights?: Float64Array): ToeplitzKernel {
  const d = imageShape.length;
  const P = trajectory.shape.length === 3 ? trajectory.shape[0] : 1;
  const M = trajectory.shape[trajectory.shape.length - 1];
  const pts = Float64Array.from(hostOf(trajectory));
  const G = imageShape.map((n) => 2 * n), ng = numel(G);
  const c = new Float64Array(2 * P * M);
  for (let j = 0; j < P * M; j++) c[2 * j] = weights ? weights[j] : 1;
  const plan = nufftPlan({ type: 1, modes: G, modeord: 1, dtype: 'complex128', eps: 1e-11, P, backend });
  try {
    plan.setPointsSync(tensor(pts, { shape: P > 1 ? [P, d, M] : [d, M], dtype: 'float64' }));
    const k = plan.executeSync(tensor(c, { shape: P > 1 ? [P, 1, M] : [1, M], dtype: 'complex128' })).hostData() as Float64Array;
    const khat = Float64Array.from(k);
    fftn(khat, G, -1, P);
    const s = scale / ng;
    for (let i = 0; i < khat.length; i++) khat[i] *= s;
    return new ToeplitzKernel([...imageShape], P, khat);
  } finally {
    plan.dispose();
  }
}
