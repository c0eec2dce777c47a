/**
 * Pipe–Menon density compensation (Pipe & Menon 1999) on the gridding kernels:
 * w ← w / G(Gᴴ w), with Gᴴ = spreading onto the 2× oversampled grid and G = interpolation back,
 * starting from w = 1. The result is scaled to the raw NUFFT convention, Aᴴ·diag(w)·A ≈ I
 * (w_j ≈ the k-space area around sample j divided by (2π)^d; 1/N^d for a full Cartesian grid).
 */
import { type BackendOptions, callNative, resolveBackend } from '../backend';
import { ReconKernelsError } from '../errors';
import { griddingKernelTables, interpSync, kernel, spreadSync } from '../gridding/index';
import { fmtShape } from '../shape';
import { type Tensor, tensor, zeros } from '../tensor';
import { checkTensor } from '../validate';

/** Options of {@link densityCompensation}. */
export interface DcfOptions extends BackendOptions {
  /** Image size [N1..Nd] the trajectory is for (the grid is 2N per axis). */
  imageShape: readonly number[];
  /** Pipe–Menon iterations (default 10). */
  iterations?: number;
  /** Gridding kernel width (default 4: the weights only need a smooth density estimate). */
  width?: number;
}

/** The Pipe–Menon loop on the js gridding, one point set at a time (float64 throughout). */
function dcfJs(all: Float64Array, P: number, d: number, M: number, grid: number[], width: number, iterations: number, norm: number): Float64Array {
  const out = new Float64Array(P * M);
  const o = { width, backend: 'js' as const };
  for (let p = 0; p < P; p++) {
    const pts = tensor(all.subarray(p * d * M, (p + 1) * d * M), { shape: [d, M], dtype: 'float64' });
    const w = new Float64Array(2 * M);
    for (let j = 0; j < M; j++) w[2 * j] = 1;
    for (let it = 0; it < iterations; it++) {
      const g = spreadSync(pts, tensor(w, { shape: [M], dtype: 'complex128' }), grid, o);
      const v = interpSync(pts, g, o).hostData();
      for (let j = 0; j < M; j++) {
        const den = Math.hypot(v[2 * j], v[2 * j + 1]);
        w[2 * j] = den > 0 ? w[2 * j] / den : 0;
      }
    }
    for (let j = 0; j < M; j++) out[p * M + j] = w[2 * j] * norm;
  }
  return out;
}

/**
 * Density compensation weights for a trajectory [d, M] or [P, d, M] (radians).
 *
 * Runs where the trajectory lives: on its GPU for a CUDA tensor (the weights, the grid and the
 * iterations stay on the device), else on the native backend when the addon loaded, else on js
 * (`backend` forces a host backend). Computed in float64 on every backend.
 *
 * @returns real [M] or [P, M] weights in the trajectory's dtype, on its device.
 * Cost: iterations × (one spread + one interpolation) per point set.
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
  const dispatch = resolveBackend(op, { trajectory: t }, { backend: options.backend });
  const P = t.shape.length === 3 ? t.shape[0] : 1, M = t.shape[t.shape.length - 1];
  const grid = shape.map((n) => 2 * n);
  // ∫φ over one axis in grid cells (φ normalised to φ(0) = 1), by the midpoint rule.
  const k = kernel({ width });
  let phiInt = 0;
  const nq = 4000;
  for (let i = 0; i < nq; i++) phiInt += k.phi(-1 + (2 * (i + 0.5)) / nq);
  phiInt *= (2 / nq) * (width / 2);
  let norm = 1;
  for (const n of grid) norm *= (phiInt * phiInt) / n;
  const outShape = P > 1 ? [P, M] : [M];
  const dtype = t.dtype as 'float32' | 'float64';
  if (dispatch.backend === 'js') {
    const w = dcfJs(Float64Array.from(t.hostData('trajectory')), P, d, M, grid, width, iterations, norm);
    return tensor(w, { shape: outShape, dtype });
  }
  for (const n of grid) {
    if (n < width) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: grid size ${n} is smaller than the kernel width ${width}`);
  }
  const tables = griddingKernelTables(width, 2);
  const out = zeros(outShape, { dtype, device: t.device });
  const addon = dispatch.addon!;
  try {
    return callNative(true, () => addon.griddingOp({
      op: 'dcf', dtype, dim: d, grid, M, ntransf: 1, gradient: false,
      width, degree: tables.params.poly.degree, coeffs: tables.coeffs, dcoeffs: tables.dcoeffs,
      points: t.storage('trajectory'), out: out.storage('out'), sets: P, iterations, scale: norm, threads: 0,
    }, true), () => out) as Tensor;
  } catch (e) {
    out.dispose();
    throw e;
  }
}
