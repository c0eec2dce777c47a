/**
 * k-space trajectories in radians per axis (the NUFFT's convention: period 2π, the edge of
 * k-space at ±π), rows paired with the image axes in row-major order: 2-D points are
 * [2, M] = (k_y, k_x), 3-D [3, M] = (k_z, k_y, k_x). Batched (dynamic) trajectories are
 * [P, d, M].
 */
import { tensor, type Tensor } from '../tensor';
import { ReconKernelsError } from '../errors';
import type { DeviceSpec } from '../device';

/** Common options: real dtype of the result and where it lives. */
export interface TrajectoryOptions {
  dtype?: 'float32' | 'float64';
  device?: DeviceSpec;
}

/** The golden angle for radial MRI, π/φ ≈ 111.25° (Winkelmann et al. 2007). */
export const GOLDEN_ANGLE = Math.PI * (2 / (1 + Math.sqrt(5)));

function posInt(op: string, name: string, v: unknown, dflt?: number): number {
  const n = v === undefined ? dflt : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: ${name} must be a positive integer, got ${String(v)}`);
  return n;
}

/** Sample radii along a spoke through the centre: −π … π(1 − 2/samples), centre at index samples/2. */
function spokeRadii(samples: number): Float64Array {
  const r = new Float64Array(samples);
  for (let i = 0; i < samples; i++) r[i] = Math.PI * ((2 * i) / samples - 1);
  return r;
}

/**
 * 2-D radial trajectory: `spokes` lines through the centre, `samples` per spoke from −π to π.
 * Angles are uniform over [0, π) or, with `golden`, successive golden-angle increments; with
 * `frames` P the result is [P, 2, spokes·samples] (golden angle continuing across frames, or
 * uniform spokes rotated by π/(spokes·P) per frame).
 */
export function radial(options: { spokes: number; samples: number; golden?: boolean; frames?: number } & TrajectoryOptions): Tensor {
  const op = 'mri.radial';
  const S = posInt(op, 'spokes', options?.spokes), N = posInt(op, 'samples', options?.samples), P = posInt(op, 'frames', options.frames, 1);
  const M = S * N, r = spokeRadii(N), out = new Float64Array(P * 2 * M);
  for (let p = 0; p < P; p++) {
    for (let s = 0; s < S; s++) {
      const th = options.golden ? (p * S + s) * GOLDEN_ANGLE : (Math.PI * s) / S + (Math.PI * p) / (S * P);
      const c = Math.cos(th), sn = Math.sin(th);
      for (let i = 0; i < N; i++) {
        out[p * 2 * M + s * N + i] = r[i] * sn;
        out[p * 2 * M + M + s * N + i] = r[i] * c;
      }
    }
  }
  return tensor(out, { shape: P > 1 || options.frames !== undefined ? [P, 2, M] : [2, M], dtype: options.dtype ?? 'float32', device: options.device });
}

/**
 * 2-D Archimedean spiral: `interleaves` arms rotated by 2π/interleaves, `samples` per arm,
 * radius growing linearly from 0 to π over `turns` turns.
 */
export function spiral(options: { interleaves: number; samples: number; turns?: number } & TrajectoryOptions): Tensor {
  const op = 'mri.spiral';
  const L = posInt(op, 'interleaves', options?.interleaves), N = posInt(op, 'samples', options?.samples);
  const turns = options.turns ?? 16;
  const M = L * N, out = new Float64Array(2 * M);
  for (let l = 0; l < L; l++) {
    for (let i = 0; i < N; i++) {
      const t = i / N, rr = Math.PI * t, th = 2 * Math.PI * turns * t + (2 * Math.PI * l) / L;
      out[l * N + i] = rr * Math.sin(th);
      out[M + l * N + i] = rr * Math.cos(th);
    }
  }
  return tensor(out, { shape: [2, M], dtype: options.dtype ?? 'float32', device: options.device });
}

/**
 * 3-D stack of stars: radial spokes in (k_y, k_x) on each of `partitions` Cartesian k_z planes
 * (k_z = 2π·(p − partitions/2)/partitions), golden-angle or uniform.
 */
export function stackOfStars(options: { spokes: number; samples: number; partitions: number; golden?: boolean } & TrajectoryOptions): Tensor {
  const op = 'mri.stackOfStars';
  const S = posInt(op, 'spokes', options?.spokes), N = posInt(op, 'samples', options?.samples), Z = posInt(op, 'partitions', options?.partitions);
  const M = Z * S * N, r = spokeRadii(N), out = new Float64Array(3 * M);
  for (let z = 0; z < Z; z++) {
    const kz = (2 * Math.PI * (z - Math.floor(Z / 2))) / Z;
    for (let s = 0; s < S; s++) {
      const th = options.golden ? s * GOLDEN_ANGLE : (Math.PI * s) / S;
      for (let i = 0; i < N; i++) {
        const j = (z * S + s) * N + i;
        out[j] = kz;
        out[M + j] = r[i] * Math.sin(th);
        out[2 * M + j] = r[i] * Math.cos(th);
      }
    }
  }
  return tensor(out, { shape: [3, M], dtype: options.dtype ?? 'float32', device: options.device });
}

/**
 * 3-D radial "kooshball": `spokes` lines through the centre with directions spread evenly over
 * the half sphere (a Fibonacci lattice), `samples` per spoke from −π to π.
 */
export function kooshball(options: { spokes: number; samples: number } & TrajectoryOptions): Tensor {
  const op = 'mri.kooshball';
  const S = posInt(op, 'spokes', options?.spokes), N = posInt(op, 'samples', options?.samples);
  const M = S * N, r = spokeRadii(N), out = new Float64Array(3 * M);
  for (let s = 0; s < S; s++) {
    const cz = 1 - (s + 0.5) / S; // z in (0, 1): half sphere (a spoke covers ±direction)
    const rho = Math.sqrt(1 - cz * cz), ph = s * GOLDEN_ANGLE * 2;
    const dz = cz, dy = rho * Math.sin(ph), dx = rho * Math.cos(ph);
    for (let i = 0; i < N; i++) {
      out[s * N + i] = r[i] * dz;
      out[M + s * N + i] = r[i] * dy;
      out[2 * M + s * N + i] = r[i] * dx;
    }
  }
  return tensor(out, { shape: [3, M], dtype: options.dtype ?? 'float32', device: options.device });
}
