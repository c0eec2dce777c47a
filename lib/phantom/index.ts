/**
 * Test objects: the modified Shepp–Logan head phantom (2-D and 3-D) and boxes.
 *
 * Coordinates span [−1, 1] across each axis at voxel centres: x = (2i + 1)/X − 1 (columns),
 * y = 1 − (2j + 1)/Y (rows, first row at the top, as images are shown), z = (2k + 1)/Z − 1.
 */
import type { DType } from '../dtype';
import type { DeviceSpec } from '../device';
import { ReconKernelsError } from '../errors';
import { type Tensor, tensor } from '../tensor';
import { checkObject, describe } from '../validate';

/** Options of the phantom factories. */
export interface PhantomOptions {
  /** Default 'float32'. */
  dtype?: 'float32' | 'float64';
  /** Default 'cpu'. */
  device?: DeviceSpec;
}

export interface BoxOptions extends PhantomOptions {
  /** First index of the box along each axis (inclusive). */
  lo: readonly number[];
  /** End index along each axis (exclusive). */
  hi: readonly number[];
  /** Value inside. Default 1 (0 outside). */
  value?: number;
}

// Modified Shepp-Logan (Toft), as scikit-image / ASTRA / tomosipo: value, a, b, x0, y0, phi (deg).
const SL2D: readonly (readonly number[])[] = [
  [1, 0.69, 0.92, 0, 0, 0],
  [-0.8, 0.6624, 0.874, 0, -0.0184, 0],
  [-0.2, 0.11, 0.31, 0.22, 0, -18],
  [-0.2, 0.16, 0.41, -0.22, 0, 18],
  [0.1, 0.21, 0.25, 0, 0.35, 0],
  [0.1, 0.046, 0.046, 0, 0.1, 0],
  [0.1, 0.046, 0.046, 0, -0.1, 0],
  [0.1, 0.046, 0.023, -0.08, -0.605, 0],
  [0.1, 0.023, 0.023, 0, -0.606, 0],
  [0.1, 0.023, 0.046, 0.06, -0.605, 0],
];

// 3-D modified Shepp-Logan (phantom3d): value, a, b, c, x0, y0, z0, phi, theta, psi (deg).
const SL3D: readonly (readonly number[])[] = [
  [1, 0.69, 0.92, 0.81, 0, 0, 0, 0, 0, 0],
  [-0.8, 0.6624, 0.874, 0.78, 0, -0.0184, 0, 0, 0, 0],
  [-0.2, 0.11, 0.31, 0.22, 0.22, 0, 0, -18, 0, 10],
  [-0.2, 0.16, 0.41, 0.28, -0.22, 0, 0, 18, 0, 10],
  [0.1, 0.21, 0.25, 0.41, 0, 0.35, -0.15, 0, 0, 0],
  [0.1, 0.046, 0.046, 0.05, 0, 0.1, 0.25, 0, 0, 0],
  [0.1, 0.046, 0.046, 0.05, 0, -0.1, 0.25, 0, 0, 0],
  [0.1, 0.046, 0.023, 0.05, -0.08, -0.605, 0, 0, 0, 0],
  [0.1, 0.023, 0.023, 0.02, 0, -0.606, 0, 0, 0, 0],
  [0.1, 0.023, 0.046, 0.02, 0.06, -0.605, 0, 0, 0, 0],
];

function shapeOf(op: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || (shape.length !== 2 && shape.length !== 3) || !shape.every((s) => Number.isInteger(s) && s >= 1)) {
    throw new ReconKernelsError('INVALID_SHAPE', `${op}: shape must be [Y, X] or [Z, Y, X] of positive integers, got ${describe(shape)}`);
  }
  return shape as number[];
}

function make(data: Float64Array, shape: number[], o: PhantomOptions, op: string): Tensor {
  const dtype: DType = o.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') throw new ReconKernelsError('INVALID_DTYPE', `${op}: dtype must be float32 or float64, got ${describe(dtype)}`);
  return tensor(data, { shape, dtype, device: o.device });
}

/**
 * The modified Shepp–Logan phantom (values 0…1) on a [Y, X], [1, Y, X] (both 2-D) or [Z, Y, X]
 * (3-D, Z > 1) grid.
 */
export function sheppLogan(shape: readonly number[], options?: PhantomOptions): Tensor {
  const op = 'phantom.sheppLogan';
  const s = shapeOf(op, shape);
  const o = checkObject(op, 'options', options) as PhantomOptions;
  const [Z, Y, X] = s.length === 3 ? s : [1, s[0], s[1]];
  const out = new Float64Array(Z * Y * X);
  if (Z === 1) {
    for (const [val, a, b, x0, y0, phiDeg] of SL2D) {
      const phi = (phiDeg * Math.PI) / 180;
      const c = Math.cos(phi), sn = Math.sin(phi);
      for (let j = 0; j < Y; j++) {
        const y = 1 - (2 * j + 1) / Y;
        for (let i = 0; i < X; i++) {
          const x = (2 * i + 1) / X - 1;
          const xr = (x - x0) * c + (y - y0) * sn;
          const yr = -(x - x0) * sn + (y - y0) * c;
          if ((xr * xr) / (a * a) + (yr * yr) / (b * b) <= 1) out[j * X + i] += val;
        }
      }
    }
  } else {
    for (const [val, a, b, cc, x0, y0, z0, phiD, thD, psiD] of SL3D) {
      const d = Math.PI / 180;
      const cp = Math.cos(phiD * d), sp = Math.sin(phiD * d), ct = Math.cos(thD * d), st = Math.sin(thD * d), cs = Math.cos(psiD * d), ss = Math.sin(psiD * d);
      // Euler rotation of phantom3d (applied to the coordinates, then the centre is subtracted)
      const m = [
        cs * cp - ct * sp * ss, cs * sp + ct * cp * ss, ss * st,
        -ss * cp - ct * sp * cs, -ss * sp + ct * cp * cs, cs * st,
        st * sp, -st * cp, ct,
      ];
      for (let k = 0; k < Z; k++) {
        const z = (2 * k + 1) / Z - 1;
        for (let j = 0; j < Y; j++) {
          const y = 1 - (2 * j + 1) / Y;
          for (let i = 0; i < X; i++) {
            const x = (2 * i + 1) / X - 1;
            const px = m[0] * x + m[1] * y + m[2] * z - x0;
            const py = m[3] * x + m[4] * y + m[5] * z - y0;
            const pz = m[6] * x + m[7] * y + m[8] * z - z0;
            if ((px * px) / (a * a) + (py * py) / (b * b) + (pz * pz) / (cc * cc) <= 1) out[(k * Y + j) * X + i] += val;
          }
        }
      }
    }
  }
  // the sums are exact in binary only up to rounding: snap tiny negatives (e.g. 1 − 0.8 − 0.2) to 0
  for (let i = 0; i < out.length; i++) if (Math.abs(out[i]) < 1e-12) out[i] = 0;
  return make(out, s, o, op);
}

/** A box: `value` on [lo, hi) along every axis, 0 elsewhere, on a 2-D or 3-D grid. */
export function box(shape: readonly number[], options: BoxOptions): Tensor {
  const op = 'phantom.box';
  const s = shapeOf(op, shape);
  const o = checkObject(op, 'options', options) as unknown as BoxOptions;
  const n = s.length;
  const check = (name: string, v: unknown): number[] => {
    if (!Array.isArray(v) || v.length !== n || !v.every((e) => Number.isInteger(e))) {
      throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: ${name} must be ${n} integers, got ${describe(v)}`);
    }
    return v as number[];
  };
  const lo = check('lo', o.lo);
  const hi = check('hi', o.hi);
  const value = o.value ?? 1;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: value must be a finite number`);
  const [Z, Y, X] = n === 3 ? s : [1, s[0], s[1]];
  const [l0, l1, l2] = n === 3 ? lo : [0, lo[0], lo[1]];
  const [h0, h1, h2] = n === 3 ? hi : [1, hi[0], hi[1]];
  const out = new Float64Array(Z * Y * X);
  for (let k = Math.max(0, l0); k < Math.min(Z, h0); k++)
    for (let j = Math.max(0, l1); j < Math.min(Y, h1); j++)
      for (let i = Math.max(0, l2); i < Math.min(X, h2); i++) out[(k * Y + j) * X + i] = value;
  return make(out, s, o, op);
}
