/**
 * Tilted K-Planes benchmark workloads: feature sampling (forward) and forward + backward (all
 * three gradients) on points along rays, as in training: each ray is a random line through the
 * volume and its samples are consecutive, so neighbouring points read neighbouring texels.
 *
 * - light: T = 4 rotations, C = 8 channels, one level 200².
 * - heavy: T = 8, C = 32, one level 200².
 * - multiscale: T = 4, C = 8, levels 50², 100², 200² with gates.
 *
 * CUDA runs 8192 rays × 200 samples. The host backends (native, js) run fewer rays, named in the
 * workload (e.g. 'host 256 rays'), so the default run of this family stays around a minute on a
 * 2-core machine; compare host rows with each other, and the points/s in the name's scale.
 * Bytes (for GB/s) count what a minimal implementation must move: forward = points + planes +
 * features; forward + backward adds gradOut, points and planes again, and the gradients of the
 * planes, points and rotations.
 */
import { type Backend, type Tensor, kplanes, tensor } from '../../lib/index';
import type { Family, Prepared, Workload } from '../runner';

interface KpCase {
  name: string;
  T: number;
  C: number;
  sizes: readonly number[];
  gates?: readonly number[];
  /** Rays at full size on cuda and on the host backends (--quick halves both). */
  cudaRays: number;
  hostRays: number;
}

const SAMPLES = 200;

const CASES: readonly KpCase[] = [
  { name: 'light', T: 4, C: 8, sizes: [200], cudaRays: 8192, hostRays: 256 },
  { name: 'heavy', T: 8, C: 32, sizes: [200], cudaRays: 8192, hostRays: 32 },
  { name: 'multiscale', T: 4, C: 8, sizes: [50, 100, 200], gates: [1, 0.5, 0.25], cudaRays: 8192, hostRays: 128 },
];

/** mulberry32 stream in [0, 1). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** rays × SAMPLES points: ray r passes through a centre in [−0.5, 0.5]³ along a random direction. */
function rayPoints(rays: number, rand: () => number): Float32Array {
  const p = new Float32Array(rays * SAMPLES * 3);
  let k = 0;
  for (let r = 0; r < rays; r++) {
    const c = [rand() - 0.5, rand() - 0.5, rand() - 0.5];
    let d = [rand() - 0.5, rand() - 0.5, rand() - 0.5];
    const n = Math.hypot(d[0], d[1], d[2]) || 1;
    d = d.map((x) => x / n);
    for (let j = 0; j < SAMPLES; j++) {
      const s = -0.9 + (1.8 * j) / (SAMPLES - 1);
      for (let q = 0; q < 3; q++) p[k++] = c[q] + s * d[q];
    }
  }
  return p;
}

/** Random orthogonal rotations (Gram–Schmidt). */
function rotations(T: number, rand: () => number): Float32Array {
  const out = new Float32Array(9 * T);
  for (let t = 0; t < T; t++) {
    const q: number[][] = [];
    for (let i = 0; i < 3; i++) {
      const u = [rand() - 0.5, rand() - 0.5, rand() - 0.5];
      for (const e of q) {
        const dot = u[0] * e[0] + u[1] * e[1] + u[2] * e[2];
        for (let j = 0; j < 3; j++) u[j] -= dot * e[j];
      }
      const n = Math.hypot(u[0], u[1], u[2]) || 1;
      q.push(u.map((x) => x / n));
    }
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) out[9 * t + 3 * i + j] = q[i][j];
  }
  return out;
}

function uniform(n: number, rand: () => number, lo: number, hi: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rand();
  return a;
}

function prepare(c: KpCase, rays: number, backward: boolean, backend: Backend): Prepared {
  const rand = rng(0x6b70 + rays + c.T * 31 + c.C);
  const B = rays * SAMPLES;
  const S = c.sizes.length;
  const device = backend === 'cuda' ? 'cuda' : 'cpu';
  const made: Tensor[] = [];
  const mk = (data: Float32Array, shape: number[]): Tensor => {
    const t = tensor(data, { shape, device });
    made.push(t);
    return t;
  };
  const points = mk(rayPoints(rays, rand), [B, 3]);
  const rot = mk(rotations(c.T, rand), [c.T, 3, 3]);
  const planes = c.sizes.map((n) => mk(uniform(3 * c.T * c.C * n * n, rand, 0.5, 1.5), [3 * c.T, c.C, n, n]));
  const gradOut = backward ? mk(uniform(B * S * c.T * c.C, rand, -1, 1), [B, S * c.T * c.C]) : undefined;
  const base = { points, rotations: rot, planes, gates: c.gates, ...(backend === 'cuda' ? {} : { backend: backend as 'js' | 'native' }) };
  return {
    run() {
      const feats = kplanes.sampleTiltedSync(base);
      if (!backward) return { release: () => feats.dispose() };
      const g = kplanes.sampleTiltedBackwardSync({ ...base, gradOut: gradOut! });
      return {
        release: () => {
          feats.dispose();
          g.planes?.forEach((t) => t.dispose());
          g.points?.dispose();
          g.rotations?.dispose();
        },
      };
    },
    details: (wall) => ({ 'points/s': B / (wall.median / 1e3), 'tap reads/s': (B * S * c.T * 3 * 4 * c.C) / (wall.median / 1e3) }),
    dispose: () => made.forEach((t) => t.dispose()),
  };
}

function workload(c: KpCase, host: boolean, backward: boolean, quick: boolean): Workload {
  const rays = Math.max(1, (host ? c.hostRays : c.cudaRays) / (quick ? 2 : 1));
  const B = rays * SAMPLES;
  const S = c.sizes.length;
  const planeBytes = c.sizes.reduce((a, n) => a + 3 * c.T * c.C * n * n * 4, 0);
  const pointBytes = B * 3 * 4;
  const featBytes = B * S * c.T * c.C * 4;
  const fwd = pointBytes + planeBytes + featBytes;
  const bwd = featBytes + pointBytes + planeBytes + planeBytes + pointBytes + 9 * c.T * 4;
  const levels = c.sizes.map((n) => `${n}²`).join('+');
  const who = host ? `host ${rays} rays` : `${rays} rays`;
  return {
    name: `${c.name} ${who} × ${SAMPLES} (${(B / 1e3).toFixed(1)}k pts) T${c.T} C${c.C} ${levels} ${backward ? 'fwd+bwd' : 'fwd'}`,
    backends: host ? ['native', 'js'] : ['cuda'],
    bytes: backward ? fwd + bwd : fwd,
    prepare: (backend) => prepare(c, rays, backward, backend),
  };
}

/** The kplanes family: tilted K-Planes sampling, forward and forward + backward. */
export const kplanesFamily: Family = {
  name: 'kplanes',
  workloads: ({ quick }) =>
    CASES.flatMap((c) => [false, true].flatMap((backward) => [workload(c, false, backward, quick), workload(c, true, backward, quick)])),
};
