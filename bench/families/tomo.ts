/**
 * Tomography benchmark workloads: the parallel-beam projector pair (forward and adjoint) on a
 * Shepp–Logan volume, and SIRT. Throughput in the details is voxel-ray updates per second
 * (voxels × angles / time). The 256³ × 256-angle volumes run on cuda only; the host gets a
 * reduced size (named so) to keep the default run about a minute; js gets the smallest.
 */
import { type Backend, type Tensor, phantom, tomo } from '../../lib/index';
import type { Family, Prepared, Workload } from '../runner';

interface Case {
  kind: 'forward' | 'adjoint' | 'sirt';
  n: number;
  /** Z (1 for 2-D). */
  z: number;
  angles: number;
  iterations?: number;
  backends: readonly Backend[];
  /** Appended to the name (e.g. 'host size'). */
  note?: string;
}

const CASES: readonly Case[] = [
  { kind: 'forward', n: 256, z: 1, angles: 180, backends: ['cuda', 'native', 'js'] },
  { kind: 'adjoint', n: 256, z: 1, angles: 180, backends: ['cuda', 'native', 'js'] },
  { kind: 'forward', n: 256, z: 256, angles: 256, backends: ['cuda'] },
  { kind: 'adjoint', n: 256, z: 256, angles: 256, backends: ['cuda'] },
  { kind: 'forward', n: 128, z: 128, angles: 128, backends: ['native'], note: 'host size' },
  { kind: 'adjoint', n: 128, z: 128, angles: 128, backends: ['native'], note: 'host size' },
  { kind: 'sirt', n: 256, z: 1, angles: 180, iterations: 150, backends: ['cuda', 'native'] },
  { kind: 'sirt', n: 128, z: 1, angles: 90, iterations: 150, backends: ['js'], note: 'js size' },
];

function name(c: Case, quick: boolean): string {
  const n = quick ? c.n / 2 : c.n;
  const size = c.z === 1 ? `${n}²` : `${quick ? c.z / 2 : c.z}×${n}²`;
  const it = c.kind === 'sirt' ? ` ${c.iterations} it` : '';
  return `${c.kind} ${size} ${c.angles} angles f32${it}${c.note ? ` (${c.note})` : ''}`;
}

function prepare(c: Case, quick: boolean, backend: Backend): Prepared {
  const n = quick ? c.n / 2 : c.n;
  const z = c.z === 1 ? 1 : quick ? c.z / 2 : c.z;
  const cols = Math.ceil(n * 1.5);
  const A = tomo.parallelBeam({ volume: [z, n, n], angles: c.angles, detector: { rows: z, cols } });
  const device = backend === 'cuda' ? 'cuda' : 'cpu';
  const opts = backend === 'cuda' ? {} : { backend: backend as 'js' | 'native' };
  const vol = phantom.sheppLogan(z === 1 ? [1, n, n] : [z, n, n], { device });
  const sino = A.forwardSync(vol, opts);
  let scratch: Tensor | undefined;
  if (c.kind === 'forward') scratch = A.forwardSync(vol, opts);
  if (c.kind === 'adjoint') scratch = A.adjointSync(sino, opts);
  const updates = z * n * n * c.angles * (c.kind === 'sirt' ? 2 * (c.iterations ?? 1) : 1);
  return {
    run() {
      if (c.kind === 'forward') A.forwardSync(vol, { ...opts, out: scratch });
      else if (c.kind === 'adjoint') A.adjointSync(sino, { ...opts, out: scratch });
      else {
        const x = tomo.sirtSync(A, sino, { ...opts, iterations: c.iterations, min: 0 });
        return { release: () => x.dispose() };
      }
      return {};
    },
    dispose() {
      vol.dispose();
      sino.dispose();
      scratch?.dispose();
      A.dispose();
    },
    details: (wall) => ({ 'voxel-ray updates/s': Number((updates / (wall.median / 1000)).toPrecision(4)) }),
  };
}

function workload(c: Case, quick: boolean): Workload {
  const n = quick ? c.n / 2 : c.n;
  const z = c.z === 1 ? 1 : quick ? c.z / 2 : c.z;
  const cols = Math.ceil(n * 1.5);
  const vol = z * n * n * 4;
  const sino = z * c.angles * cols * 4;
  return {
    name: name(c, quick),
    backends: c.backends,
    // one pass reads one side and writes the other (SIRT: per iteration both, twice)
    bytes: c.kind === 'sirt' ? (c.iterations ?? 1) * 3 * (vol + sino) : vol + sino,
    prepare: (backend) => prepare(c, quick, backend),
  };
}

/** The tomography family: projector throughput and SIRT. */
export const tomoFamily: Family = {
  name: 'tomo',
  workloads: ({ quick }) => CASES.map((c) => workload(c, quick)),
};
