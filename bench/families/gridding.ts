/**
 * Gridding benchmark workloads: gridding.spread / gridding.interp alone (no FFT), 2-D, the
 * oversampled 1024² grid of a 512² image, M = 1e6 points uniform in [−π, π)², width 6,
 * complex128, with and without the fused gradient; and mri.densityCompensation (10 Pipe–Menon
 * iterations, width 4) for torchkbnufft's radial case (256² image, 405 spokes × 512 samples).
 *
 * A run is one spread / interp call on inputs made in prepare (the sort is part of every call);
 * the detail line gives points per second. --quick halves the grid and the samples and divides
 * M by 4. Rows run on cuda (tensors on the GPU), native and js.
 */
import { type Backend, type Tensor, gridding, mri, tensor } from '../../lib/index';
import type { Family, Prepared, Workload } from '../runner';

/** mulberry32 values in [lo, hi). */
function randomArray(n: number, seed: number, lo: number, hi: number): Float64Array {
  const out = new Float64Array(n);
  let a = seed >>> 0;
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[i] = lo + ((hi - lo) * ((t ^ (t >>> 14)) >>> 0)) / 4294967296;
  }
  return out;
}

const ALL: Backend[] = ['cuda', 'native', 'js'];

function place(t: Tensor, backend: Backend): Tensor {
  if (backend !== 'cuda') return t;
  const d = t.toSync('cuda');
  t.dispose();
  return d;
}

const host = (backend: Backend) => (backend === 'cuda' ? {} : { backend });

function griddingWorkload(op: 'spread' | 'interp', n: number, M: number, gradient: boolean): Workload {
  const d = 2, rows = gradient ? 1 + d : 1, width = 6;
  const grid = [n, n];
  const name = `${op} 2D grid ${n}² M=${M >= 1e6 ? `${M / 1e6}e6` : `${M / 1e3}k`} w=${width} c128${gradient ? ' +grad' : ''}`;
  // points, strengths or values (all rows), and the grid, read or written once
  const bytes = 8 * (d * M + 2 * rows * M + 2 * n * n);
  return {
    name,
    backends: ALL,
    bytes,
    prepare(backend): Prepared {
      const pts = place(tensor(randomArray(d * M, 11, -Math.PI, Math.PI), { shape: [d, M] }), backend);
      const input = op === 'spread'
        ? place(tensor(randomArray(2 * rows * M, 12, -1, 1), { shape: gradient ? [rows, M] : [M], dtype: 'complex128' }), backend)
        : place(tensor(randomArray(2 * n * n, 13, -1, 1), { shape: grid, dtype: 'complex128' }), backend);
      const o = { width, gradient, ...host(backend) };
      const out = op === 'spread' ? gridding.spreadSync(pts, input, grid, o) : gridding.interpSync(pts, input, o);
      return {
        run() {
          if (op === 'spread') gridding.spreadSync(pts, input, grid, { ...o, out });
          else gridding.interpSync(pts, input, { ...o, out });
          return {};
        },
        details(wall) {
          return { 'points/s': M / (wall.median / 1e3), width, grid: grid.join('×') };
        },
        dispose() {
          for (const t of [pts, input, out]) t.dispose();
        },
      };
    },
  };
}

function dcfWorkload(N: number, spokes: number, samples: number): Workload {
  const M = spokes * samples;
  return {
    name: `densityCompensation 2D radial ${N}² ${spokes}×${samples} f32 (10 iterations)`,
    backends: ALL,
    bytes: 0,
    prepare(backend): Prepared {
      const traj = place(mri.radial({ spokes, samples }), backend);
      const o = { imageShape: [N, N], ...host(backend) };
      mri.densityCompensation(traj, o).dispose();
      return {
        run() {
          const w = mri.densityCompensation(traj, o);
          return { release: () => w.dispose() };
        },
        details(wall) {
          return { samples: M, 'samples·iterations/s': (10 * M) / (wall.median / 1e3) };
        },
        dispose() {
          traj.dispose();
        },
      };
    },
  };
}

export const griddingFamily: Family = {
  name: 'gridding',
  workloads({ quick }): Workload[] {
    const n = quick ? 512 : 1024, M = quick ? 250e3 : 1e6;
    const out: Workload[] = [];
    for (const gradient of [false, true]) {
      for (const op of ['spread', 'interp'] as const) out.push(griddingWorkload(op, n, M, gradient));
    }
    out.push(dcfWorkload(quick ? 128 : 256, 405, quick ? 256 : 512));
    return out;
  },
};
