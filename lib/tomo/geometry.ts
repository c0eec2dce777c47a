/**
 * Parallel-beam geometry: validation of the user's description and the float64 table the
 * kernels read (layout: cuda/tomo.h).
 *
 * Conventions (tomosipo / ASTRA style):
 * - The volume [Z, Y, X] is centred on the origin with cubic voxels of side `voxelSize`; voxel
 *   (z, y, x) sits at ((x − (X−1)/2)·v, (y − (Y−1)/2)·v, (z − (Z−1)/2)·v).
 * - Angle θ (radians) rotates the detector in the x-y plane: a ray at detector column u is the
 *   line x·cos θ + y·sin θ = (u − (U−1)/2)·pu, parallel to the slices.
 * - Detector row r sits at height (r − (R−1)/2)·pv. Rows and slices need not match: a row reads
 *   the volume linearly interpolated along Z at its height (zero outside), so rows = Z with
 *   pv = v is the plain slice-by-slice case and a taller detector just sees zeros.
 * - The sinogram is [R, A, U] (tomosipo's det_v, num_angles, det_u); values are line integrals
 *   (volume values times length in the units of voxelSize).
 */
import { ReconKernelsError } from '../errors';
import { describe } from '../validate';

/** The description {@link parallelBeam} takes. */
export interface ParallelBeamOptions {
  /** [Z, Y, X], or [Y, X] for a single slice (Z = 1). */
  volume: readonly number[];
  /** Angles in radians, or a count n for n angles k·π/n over [0, π). */
  angles: number | Float64Array | readonly number[];
  /** Detector size; rows defaults to Z. */
  detector: { rows?: number; cols: number };
  /** Side of a voxel. Default 1. */
  voxelSize?: number;
  /** Detector pixel size, or [height, width]. Default 1. */
  pixelSize?: number | readonly [number, number];
}

/** A validated geometry and its kernel table. */
export interface Geometry {
  Z: number;
  Y: number;
  X: number;
  R: number;
  A: number;
  U: number;
  voxelSize: number;
  /** [height (along Z), width (along the detector columns)]. */
  pixelSize: [number, number];
  angles: Float64Array;
  /** The table of cuda/tomo.h. */
  table: Float64Array;
  nnz: number;
}

function bad(op: string, msg: string): never {
  throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: ${msg}`);
}

function posInt(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new ReconKernelsError('INVALID_SHAPE', `${op}: ${name} must be a positive integer, got ${describe(v)}`);
  }
  return v;
}

function posNum(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number') bad(op, `${name} must be a number, got ${describe(v)}`);
  if (!Number.isFinite(v)) throw new ReconKernelsError('NON_FINITE', `${op}: ${name} must be finite, got ${v}`);
  if (!(v > 0)) bad(op, `${name} must be > 0, got ${v}`);
  return v;
}

/** Validates the options and builds the table. */
export function makeGeometry(op: string, options: unknown): Geometry {
  if (options === null || typeof options !== 'object') bad(op, `options must be an object, got ${describe(options)}`);
  const o = options as Record<string, unknown>;
  if (!Array.isArray(o.volume) || (o.volume.length !== 2 && o.volume.length !== 3)) {
    throw new ReconKernelsError('INVALID_SHAPE', `${op}: volume must be [Z, Y, X] or [Y, X], got ${describe(o.volume)}`);
  }
  const vol = (o.volume as unknown[]).map((v, i) => posInt(op, `volume[${i}]`, v));
  const [Z, Y, X] = vol.length === 3 ? vol : [1, vol[0], vol[1]];
  let angles: Float64Array;
  if (typeof o.angles === 'number') {
    const n = posInt(op, 'angles', o.angles);
    angles = new Float64Array(n);
    for (let k = 0; k < n; k++) angles[k] = (k * Math.PI) / n;
  } else if (Array.isArray(o.angles) || o.angles instanceof Float64Array || o.angles instanceof Float32Array) {
    angles = Float64Array.from(o.angles as ArrayLike<number>);
    if (angles.length === 0) bad(op, 'angles must not be empty');
    angles.forEach((a, i) => {
      if (typeof a !== 'number' || !Number.isFinite(a)) throw new ReconKernelsError('NON_FINITE', `${op}: angles[${i}] must be a finite number`);
    });
  } else {
    bad(op, `angles must be a count or an array of radians, got ${describe(o.angles)}`);
  }
  if (o.detector === null || typeof o.detector !== 'object') bad(op, `detector must be { rows, cols }, got ${describe(o.detector)}`);
  const det = o.detector as Record<string, unknown>;
  const U = posInt(op, 'detector.cols', det.cols);
  const R = det.rows === undefined ? Z : posInt(op, 'detector.rows', det.rows);
  const v = o.voxelSize === undefined ? 1 : posNum(op, 'voxelSize', o.voxelSize);
  let pv = 1;
  let pu = 1;
  if (Array.isArray(o.pixelSize)) {
    if (o.pixelSize.length !== 2) bad(op, 'pixelSize must be a number or [height, width]');
    pv = posNum(op, 'pixelSize[0]', o.pixelSize[0]);
    pu = posNum(op, 'pixelSize[1]', o.pixelSize[1]);
  } else if (o.pixelSize !== undefined) {
    pv = pu = posNum(op, 'pixelSize', o.pixelSize);
  }
  if (Z * Y * X > 2 ** 31 || R * angles.length * U > 2 ** 31) throw new ReconKernelsError('SIZE_TOO_LARGE', `${op}: volume or sinogram above 2^31 elements`);
  const A = angles.length;
  const { table, nnz } = buildTable(Z, Y, X, R, U, angles, v, pv, pu);
  return { Z, Y, X, R, A, U, voxelSize: v, pixelSize: [pv, pu], angles, table, nnz };
}

function buildTable(Z: number, Y: number, X: number, R: number, U: number, angles: Float64Array, v: number, pv: number, pu: number): { table: Float64Array; nnz: number } {
  const A = angles.length;
  const cx = (X - 1) / 2, cy = (Y - 1) / 2, cz = (Z - 1) / 2, cu = (U - 1) / 2, cr = (R - 1) / 2;
  const ang = new Float64Array(5 * A);
  for (let k = 0; k < A; k++) {
    const c = Math.cos(angles[k]);
    const s = Math.sin(angles[k]);
    const o = 5 * k;
    if (Math.abs(c) >= Math.abs(s)) {
      // steps over rows j; crosses columns at fx = a·u + b0 + b1·j
      const a = pu / (c * v);
      ang.set([0, a, cx - cu * a + (cy * s) / c, -s / c, v / Math.abs(c)], o);
    } else {
      const a = pu / (s * v);
      ang.set([1, a, cy - cu * a + (cx * c) / s, -c / s, v / Math.abs(s)], o);
    }
  }
  // rows → slices (linear interpolation along Z), and its transpose as CSR per slice
  const rows = new Float64Array(4 * R).fill(-1);
  const perSlice: [number, number][][] = Array.from({ length: Z }, () => []);
  for (let r = 0; r < R; r++) {
    let fz = ((r - cr) * pv) / v + cz;
    const near = Math.round(fz);
    if (Math.abs(fz - near) < 1e-9) fz = near;
    const z0 = Math.floor(fz);
    const w = fz - z0;
    const taps: [number, number][] = [];
    if (z0 >= 0 && z0 < Z && 1 - w > 0) taps.push([z0, 1 - w]);
    if (z0 + 1 >= 0 && z0 + 1 < Z && w > 0) taps.push([z0 + 1, w]);
    taps.forEach(([z, wz], t) => {
      rows[4 * r + 2 * t] = z;
      rows[4 * r + 2 * t + 1] = wz;
      perSlice[z].push([r, wz]);
    });
    for (let t = taps.length; t < 2; t++) rows[4 * r + 2 * t + 1] = 0;
  }
  let nnz = 0;
  for (const l of perSlice) nnz += l.length;
  const table = new Float64Array(5 * A + 4 * R + Z + 1 + 2 * nnz);
  table.set(ang, 0);
  table.set(rows, 5 * A);
  const off = 5 * A + 4 * R;
  let e = off + Z + 1;
  let count = 0;
  for (let z = 0; z < Z; z++) {
    table[off + z] = count;
    for (const [r, w] of perSlice[z]) {
      table[e++] = r;
      table[e++] = w;
      count++;
    }
  }
  table[off + Z] = count;
  return { table, nnz };
}
