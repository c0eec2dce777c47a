/**
 * MRI benchmark workloads (issue 6), on the mri.* operators (lib/mri) over the NUFFT, on the
 * device of the data (cuda when available, native on the host):
 *
 * - torchkbnufft's published case: 2-D radial, 256² image, 15 coils, 405 spokes × 512 samples,
 *   complex64: forward, adjoint and Toeplitz normal. torchkbnufft's figures (GP100 GPU: forward
 *   25.8 ms, adjoint 35.6 ms, Toeplitz normal 3.0 ms; 8 CPU threads, float64: forward 0.82 s,
 *   adjoint 0.75 s) are in each row's details; the normal rows also time the same operator's
 *   forward and report forward / normal (torchkbnufft's Toeplitz is ~8× faster than its forward).
 * - 3-D kooshball with 8 coils: the full 128³ with 2048 spokes × 512 samples (1.05e6 samples) is
 *   in the family ('bench mri' / 'bench all'); the default run uses the reduced
 *   '64³ … (reduced)' rows to stay near a minute on 2 cores.
 * - Dynamic: 20 frames of golden-angle radial (128², 4 coils, 24 spokes × 256 samples per
 *   frame) as one batched NUFFT plan (points [20, 2, M]) against a loop of 20 single-frame
 *   operators.
 *
 * --quick halves the image sizes and samples. js runs the small dynamic rows only.
 */
import { type Backend, type Tensor, tensor } from '../../lib/index';
import * as mri from '../../lib/mri/index';
import type { Family, Prepared, Workload } from '../runner';

function randomComplex(n: number, seed: number): Float32Array {
  const out = new Float32Array(2 * n);
  let a = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  }
  return out;
}

const TORCHKBNUFFT: Record<'cpu' | 'gpu', Record<Op, string>> = {
  cpu: {
    forward: '0.82 s (torchkbnufft, 8 threads, float64)',
    adjoint: '0.75 s (torchkbnufft, 8 threads, float64)',
    normal: '– (torchkbnufft CPU Toeplitz figure not published for this case)',
  },
  gpu: {
    forward: '25.8 ms (torchkbnufft, GP100)',
    adjoint: '35.6 ms (torchkbnufft, GP100)',
    normal: '3.0 ms (torchkbnufft ToepNufft, GP100)',
  },
};

type Op = 'forward' | 'adjoint' | 'normal';

const deviceOf = (backend: Backend) => (backend === 'cuda' ? 'cuda' : 'cpu');
/**
 * Encoding options for a backend: host backends are pinned, CUDA operators follow their data.
 * Kernel width 6 on the 2× grid is torchkbnufft's default (numpoints 6), so both do the same
 * gridding work (our relative error there is ≈ 1e-5).
 */
const pinned = (backend: Backend) => ({ width: 6, ...(backend === 'cuda' ? {} : { backend }) });

function median(f: () => Tensor, n: number): number {
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    f().dispose();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[n >> 1];
}

/** One operator application on a fixed operator. */
function opWorkload(name: string, backends: Backend[], make: (device: 'cpu' | 'cuda') => { traj: Tensor; shape: number[]; coils: number }, op: Op, withRef: boolean): Workload {
  return {
    name,
    backends,
    bytes: 0,
    prepare(backend): Prepared {
      const device = deviceOf(backend);
      const { traj, shape, coils } = make(device);
      const n = shape.reduce((a, b) => a * b, 1), M = traj.shape[traj.shape.length - 1];
      const smaps = tensor(randomComplex(coils * n, 11), { shape: [coils, ...shape], dtype: 'complex64', device });
      const t0 = performance.now();
      const E = mri.encoding({ imageShape: shape, trajectory: traj, smaps, norm: 'ortho', toeplitz: op === 'normal', ...pinned(backend) });
      const setupMs = performance.now() - t0;
      const x = tensor(randomComplex(n, 5), { shape, dtype: 'complex64', device });
      const y = tensor(randomComplex(coils * M, 7), { shape: [coils, M], dtype: 'complex64', device });
      const run = op === 'forward' ? () => E.forwardSync(x) : op === 'adjoint' ? () => E.adjointSync(y) : () => E.normalSync(x);
      run().dispose();
      // The normal rows set the Toeplitz operator against a forward of the same operator.
      const forwardMs = op === 'normal' ? median(() => E.forwardSync(x), 3) : 0;
      return {
        run() {
          const r = run();
          return { release: () => r.dispose() };
        },
        details(wall) {
          return {
            samples: M,
            coils,
            'samples·coils/s': (M * coils) / (wall.median / 1e3),
            'setup ms': setupMs.toFixed(0),
            ...(op === 'normal' ? { 'forward ms': forwardMs.toFixed(1), 'forward / Toeplitz normal': (forwardMs / wall.median).toFixed(1) } : {}),
            ...(withRef ? { reference: TORCHKBNUFFT[backend === 'cuda' ? 'gpu' : 'cpu'][op] } : {}),
          };
        },
        dispose() {
          E.dispose();
          for (const t of [x, y, smaps, traj]) t.dispose();
        },
      };
    },
  };
}

/** Dynamic: P frames as one batched operator or a loop of P single-frame operators. */
function dynamicWorkload(name: string, batched: boolean, N: number, P: number, spokes: number, samples: number, coils: number): Workload {
  return {
    name,
    backends: ['cuda', 'native', 'js'],
    bytes: 0,
    prepare(backend): Prepared {
      const device = deviceOf(backend);
      const traj = mri.radial({ spokes, samples, golden: true, frames: P, device });
      const M = spokes * samples, n = N * N;
      const smaps = tensor(randomComplex(coils * n, 11), { shape: [coils, N, N], dtype: 'complex64', device });
      const x = tensor(randomComplex(P * n, 5), { shape: [P, N, N], dtype: 'complex64', device });
      let run: () => Tensor[];
      const ops: mri.Encoding[] = [];
      const owned: Tensor[] = [];
      if (batched) {
        const E = mri.encoding({ imageShape: [N, N], trajectory: traj, smaps, ...pinned(backend) });
        ops.push(E);
        run = () => [E.forwardSync(x)];
      } else {
        const th = traj.toArraySync(), xh = x.toArraySync();
        const xs: Tensor[] = [];
        for (let p = 0; p < P; p++) {
          const tp = tensor(th.slice(p * 2 * M, (p + 1) * 2 * M), { shape: [2, M], dtype: 'float32', device });
          owned.push(tp);
          ops.push(mri.encoding({ imageShape: [N, N], trajectory: tp, smaps, ...pinned(backend) }));
          xs.push(tensor(xh.slice(p * 2 * n, (p + 1) * 2 * n), { shape: [N, N], dtype: 'complex64', device }));
        }
        owned.push(...xs);
        run = () => ops.map((E, p) => E.forwardSync(xs[p]));
      }
      for (const r of run()) r.dispose();
      return {
        run() {
          const r = run();
          return { release: () => r.forEach((t) => t.dispose()) };
        },
        details(wall) {
          return { frames: P, 'samples/frame': M, coils, 'frames/s': P / (wall.median / 1e3) };
        },
        dispose() {
          ops.forEach((E) => E.dispose());
          for (const t of [x, smaps, traj, ...owned]) t.dispose();
        },
      };
    },
  };
}

export const mriFamily: Family = {
  name: 'mri',
  workloads({ quick }): Workload[] {
    const q = quick ? 2 : 1;
    const N2 = 256 / q, spokes2 = 405, samples2 = 512 / q;
    const radial2 = (device: 'cpu' | 'cuda') => ({ traj: mri.radial({ spokes: spokes2, samples: samples2, device }), shape: [N2, N2], coils: 15 });
    const tag2 = `2D radial ${N2}² 15 coils ${spokes2}×${samples2} c64`;
    const koosh = (N: number, spokes: number, samples: number) => (device: 'cpu' | 'cuda') => ({ traj: mri.kooshball({ spokes, samples, device }), shape: [N, N, N], coils: 8 });
    const N3 = 128 / q, K3 = 2048 / q, S3 = 512 / q;
    const n3 = 64 / q, k3 = 512 / q, s3 = 256 / q;
    const out: Workload[] = [];
    for (const op of ['forward', 'adjoint', 'normal'] as const) {
      out.push(opWorkload(`${op} ${tag2}${op === 'normal' ? ' (Toeplitz)' : ''}`, ['cuda', 'native'], radial2, op, true));
    }
    for (const op of ['forward', 'adjoint'] as const) {
      out.push(opWorkload(`${op} 3D kooshball ${n3}³ 8 coils ${k3}×${s3} c64 (reduced)`, ['cuda', 'native'], koosh(n3, k3, s3), op, false));
      out.push(opWorkload(`${op} 3D kooshball ${N3}³ 8 coils ${K3}×${S3} c64`, ['cuda', 'native'], koosh(N3, K3, S3), op, false));
    }
    const Nd = 128 / q, Sd = 256 / q;
    out.push(dynamicWorkload(`dynamic 20 frames ${Nd}² 4 coils 24×${Sd}: one batched plan`, true, Nd, 20, 24, Sd, 4));
    out.push(dynamicWorkload(`dynamic 20 frames ${Nd}² 4 coils 24×${Sd}: loop of 20 plans`, false, Nd, 20, 24, Sd, 4));
    return out;
  },
};
