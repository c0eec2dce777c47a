/**
 * Parallel-beam tomography with tomosipo's conventions: a matched projector pair (Joseph's
 * method, ray-driven forward, exact transpose), and SIRT, CGLS, FBP and TV-min reconstructions,
 * on the cuda, native and js backends, float32 and float64.
 *
 * - `parallelBeam({ volume: [Z, Y, X], angles, detector: { rows, cols }, voxelSize, pixelSize })`
 *   makes the operator A. The volume is centred on the origin; angles are radians (or a count n:
 *   n angles over [0, π)); the sinogram is [rows, angles, cols]. Detector rows sample the volume
 *   along Z by linear interpolation at their height (rows = Z with equal sizes: one row per
 *   slice; a 2-D problem is Z = rows = 1, where [Y, X] volumes and [angles, cols] sinograms are
 *   accepted too). See lib/tomo/geometry.ts.
 * - `A.forward(vol)` → line integrals (units of length); `A.adjoint(sino)` → the exact
 *   transpose; `A.norm()` → ‖A‖₂ by power iteration. Sync variants and `{ out }` too.
 * - On CUDA every intermediate stays on the device; the geometry table is uploaded once per
 *   device (A.dispose() frees it). The adjoint is a voxel-driven gather of the same Joseph
 *   weights: no atomics, deterministic.
 *
 * @example
 * const A = tomo.parallelBeam({ volume: [1, 256, 256], angles: 180, detector: { rows: 1, cols: 256 } });
 * const x = phantom.sheppLogan([1, 256, 256]);
 * const y = await A.forward(x);
 * const rec = await tomo.sirt(A, y, { iterations: 100, min: 0 });
 */
import { makeGeometry, type ParallelBeamOptions } from './geometry';
import { ParallelBeamOperator } from './operator';

export { ParallelBeamOperator, type ApplyOptions, type NormOptions } from './operator';
export type { ParallelBeamOptions } from './geometry';
export {
  sirt,
  sirtSync,
  cgls,
  fbp,
  fbpSync,
  tvMin,
  fbpFilterTaps,
  type AlgorithmOptions,
  type SirtOptions,
  type CglsOptions,
  type FbpOptions,
  type FbpFilter,
  type TvMinOptions,
} from './algorithms';

/** The parallel-beam projection operator of a geometry (see the module documentation). */
export function parallelBeam(options: ParallelBeamOptions): ParallelBeamOperator {
  return new ParallelBeamOperator(makeGeometry('tomo.parallelBeam', options));
}
