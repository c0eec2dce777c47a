/**
 * MRI benchmark workloads (issue 6), on the mri.* operators (lib/mri) over the NUFFT:
 *
 * - torchkbnufft's published case: 2-D radial, 256² image, 15 coils, 405 spokes × 512 samples,
 *   complex64: forward, adjoint and Toeplitz normal. torchkbnufft's figures (8 CPU threads,
 *   float64): forward 0.82 s, adjoint 0.75 s; shown in each row's details.
 * - 3-D kooshball with 8 coils (native only): the full 128³ with 2048 spokes × 512 samples
 *   (1.05e6 samples) is in the family ('bench mri' / 'bench all'); the default run uses the
 *   reduced '64³ … (reduced)' rows to stay near a minute on 2 cores.
 * - Dynamic: 20 frames of golden-angle radial (128², 4 coils, 24 spokes × 256 samples per
 *   frame) as one batched NUFFT plan (points [20, 2, M]) against a loop of 20 single-frame
 *   operators.
 *
 * --quick halves the image sizes and samples. Only the host backends run (the CUDA NUFFT is
 * not part of this family yet); js runs the small dynamic rows only.
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

const TORCHKBNUFFT: Record<string, string> = {
  forward: '0.82 s (torchkbnufft, 8 threads, float64)',
  adjoint: '0.75 s (torchkbnufft, 8 threads, float64)',
  normal: '– (torchkbnufft ToepNufft figure not published for this case)',
};

type Op = 'forward' | 'adjoint' | 'normal';

function hostBackend(backend: Backend): 'js' | 'native' {
  if (backend === 'cuda') throw new Error('the MRI family runs on host backends only (CUDA NUFFT pending)');
  return backend;
}

/** One operator application on a fixed operator. */
function opWorkload(name: string, backends: Backend[], make: () => { traj: Tensor; shape: number[]; coils: number }, op: Op, ref?: string): Workload {
  return {
    name,
    backends,
    bytes: 0,
    prepare(backend): Prepared {
      const { traj, shape, coils } = make();
      const n = shape.reduce((a, b) => a * b, 1), M = traj.shape[traj.shape.length - 1];
      const smaps = tensor(randomComplex(coils * n, 11), { shape: [coils, ...shape], dtype: 'complex64' });
      const t0 = performance.now();
      const E = mri.encoding({ imageShape: shape, trajectory: traj, smaps, norm: 'ortho', toeplitz: op === 'normal', backend: hostBackend(backend) });
      const setupMs = performance.now() - t0;
      const x = tensor(randomComplex(n, 5), { shape, dtype: 'complex64' });
      const y = tensor(randomComplex(coils * M, 7), { shape: [coils, M], dtype: 'complex64' });
      const run = op === 'forward' ? () => E.forwardSync(x) : op === 'adjoint' ? () => E.adjointSync(y) : () => E.normalSync(x);
      run().dispose();
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
            ...(ref ? { reference: ref } : {}),
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
    backends: ['native', 'js'],
    bytes: 0,
    prepare(backend): Prepared {
      const traj = mri.radial({ spokes, samples, golden: true, frames: P });
      const M = spokes * samples, n = N * N;
      const smaps = tensor(randomComplex(coils * n, 11), { shape: [coils, N, N], dtype: 'complex64' });
      const x = tensor(randomComplex(P * n, 5), { shape: [P, N, N], dtype: 'complex64' });
      const be = hostBackend(backend);
      let run: () => Tensor[];
      const ops: mri.Encoding[] = [];
      if (batched) {
        const E = mri.encoding({ imageShape: [N, N], trajectory: traj, smaps, backend: be });
        ops.push(E);
        run = () => [E.forwardSync(x)];
      } else {
        const th = traj.toArraySync(), xh = x.toArraySync();
        const xs: Tensor[] = [];
        for (let p = 0; p < P; p++) {
          const tp = tensor(th.slice(p * 2 * M, (p + 1) * 2 * M), { shape: [2, M], dtype: 'float32' });
          ops.push(mri.encoding({ imageShape: [N, N], trajectory: tp, smaps, backend: be }));
          xs.push(tensor(xh.slice(p * 2 * n, (p + 1) * 2 * n), { shape: [N, N], dtype: 'complex64' }));
        }
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
          for (const t of [x, smaps, traj]) t.dispose();
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
    const radial2 = () => ({ traj: mri.radial({ spokes: spokes2, samples: samples2 }), shape: [N2, N2], coils: 15 });
    const tag2 = `2D radial ${N2}² 15 coils ${spokes2}×${samples2} c64`;
    const koosh = (N: number, spokes: number, samples: number) => () => ({ traj: mri.kooshball({ spokes, samples }), shape: [N, N, N], coils: 8 });
    const N3 = 128 / q, K3 = 2048 / q, S3 = 512 / q;
    const n3 = 64 / q, k3 = 512 / q, s3 = 256 / q;
    const out: Workload[] = [];
    for (const op of ['forward', 'adjoint', 'normal'] as const) {
      out.push(opWorkload(`${op} ${tag2}${op === 'normal' ? ' (Toeplitz)' : ''}`, ['native'], radial2, op, TORCHKBNUFFT[op]));
    }
    for (const op of ['forward', 'adjoint'] as const) {
      out.push(opWorkload(`${op} 3D kooshball ${n3}³ 8 coils ${k3}×${s3} c64 (reduced)`, ['native'], koosh(n3, k3, s3), op));
      out.push(opWorkload(`${op} 3D kooshball ${N3}³ 8 coils ${K3}×${S3} c64`, ['native'], koosh(N3, K3, S3), op));
    }
    const Nd = 128 / q, Sd = 256 / q;
    out.push(dynamicWorkload(`dynamic 20 frames ${Nd}² 4 coils 24×${Sd}: one batched plan`, true, Nd, 20, 24, Sd, 4));
    out.push(dynamicWorkload(`dynamic 20 frames ${Nd}² 4 coils 24×${Sd}: loop of 20 plans`, false, Nd, 20, 24, Sd, 4));
    return out;
  },
};
