/**
 * Pipe–Menon density compensation (Pipe & Menon 1999) on the gridding kernels:
 * w ← w / G(Gᴴ w), with Gᴴ = spreading onto the 2× oversampled grid and G = interpolation back,
 * starting from w = 1. The result is scaled to the raw NUFFT convention, Aᴴ·diag(w)·A ≈ I
 * (w_j ≈ the k-space area around sample j divided by (2π)^d; 1/N^d for a full Cartesian grid).
 */
import { ReconKernelsError } from '../errors';
import { interpSync, kernel, spreadSync } from '../gridding/index';
import { fmtShape } from '../shape';
import { type Tensor, tensor } from '../tensor';
import { checkTensor } from '../validate';
import { hostOf } from './util';

/** Options of {@link densityCompensation}. */
export interface DcfOptions {
  /** Image size [N1..Nd] the trajectory is for (the grid is 2N per axis). */
  imageShape: readonly number[];
  /** Pipe–Menon iterations (default 10). */
  iterations?: number;
  /** Gridding kernel width (default 4: the weights only need a smooth density estimate). */
  width?: number;
}

/**
 * Density compensation weights for a trajectory [d, M] or [P, d, M] (radians).
 *
 * @returns real [M] or [P, M] weights in the trajectory's dtype, on its device.
 * Cost: iterations × (one spread + one interpolation) per point set, on the js gridding backend.
 */
export function densityCompensation(trajectory: Tensor, options: DcfOptions): Tensor {
  const op = 'mri.densityCompensation';
  const t = checkTensor(op, 'trajectory', trajectory, ['float32', 'float64'], 2);
  const shape = options?.imageShape;
  if (!Array.isArray(shape) || shape.length < 1 || shape.length > 3) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: imageShape must be [N1..Nd]`);
  const d = shape.length;
  if (!((t.shape.length === 2 && t.shape[0] === d) || (t.shape.length === 3 && t.shape[1] === d))) {
    throw new ReconKernelsError('INVALID_SHAPE', `${op}: trajectory has shape ${fmtShape(t.shape)}; expected [${d}, M] or [P, ${d}, M]`);
  }
  const iterations = options.iterations ?? 10;
  if (!Number.isSafeInteger(iterations) || iterations < 1) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: iterations must be a positive integer, got ${iterations}`);
  const width = options.width ?? 4;
  const P = t.shape.length === 3 ? t.shape[0] : 1, M = t.shape[t.shape.length - 1];
  const grid = shape.map((n) => 2 * n);
  const all = Float64Array.from(hostOf(t));
  // ∫φ over one axis in grid cells (φ normalised to φ(0) = 1), by the midpoint rule.
  const k = kernel({ width });
  let phiInt = 0;
  const nq = 4000;
  for (let i = 0; i < nq; i++) phiInt += k.phi(-1 + (2 * (i + 0.5)) / nq);
  phiInt *= (2 / nq) * (width / 2);
  let norm = 1;
  for (const n of grid) norm *= (phiInt * phiInt) / n;
  const out = new Float64Array(P * M);
  for (let p = 0; p < P; p++) {
    const pts = tensor(all.subarray(p * d * M, (p + 1) * d * M), { shape: [d, M], dtype: 'float64' });
    const w = new Float64Array(2 * M);
    for (let j = 0; j < M; j++) w[2 * j] = 1;
    for (let it = 0; it < iterations; it++) {
      const g = spreadSync(pts, tensor(w, { shape: [M], dtype: 'complex128' }), grid, { width });
      const v = interpSync(pts, g, { width }).hostData();
      for (let j = 0; j < M; j++) {
        const den = Math.hypot(v[2 * j], v[2 * j + 1]);
        w[2 * j] = den > 0 ? w[2 * j] / den : 0;
      }
    }
    for (let j = 0; j < M; j++) out[p * M + j] = w[2 * j] * norm;
  }
  return tensor(out, { shape: P > 1 ? [P, M] : [M], dtype: t.dtype as 'float32' | 'float64', device: t.device });
}
