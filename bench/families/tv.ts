/**
 * TV benchmark workloads: value + gradient of the three 3-D TV losses on a random volume
 * (seeded, never zero). Host sizes run on cuda, native and js, so that every host row has a js
 * row to compare with; the large float32 volumes run on cuda only.
 */
import { type Backend, type DType, type Tensor, tensor, tv, zeros } from '../../lib/index';
import type { Family, Prepared, Workload } from '../runner';

type Kind = 'iso3d' | 'sq3d' | 'l1';

interface TvCase {
  kind: Kind;
  /** Edge length of the cubic volume at full size (--quick halves it). */
  n: number;
  dtype: DType;
  backends: readonly Backend[];
}

const ALL: readonly Backend[] = ['cuda', 'native', 'js'];
const CUDA: readonly Backend[] = ['cuda'];

const CASES: readonly TvCase[] = [
  { kind: 'iso3d', n: 128, dtype: 'float32', backends: ALL },
  { kind: 'sq3d', n: 128, dtype: 'float32', backends: ALL },
  { kind: 'l1', n: 128, dtype: 'float32', backends: ALL },
  { kind: 'iso3d', n: 64, dtype: 'float64', backends: ALL },
  { kind: 'iso3d', n: 256, dtype: 'float32', backends: CUDA },
  { kind: 'iso3d', n: 512, dtype: 'float32', backends: CUDA },
  { kind: 'sq3d', n: 256, dtype: 'float32', backends: CUDA },
  { kind: 'sq3d', n: 512, dtype: 'float32', backends: CUDA },
];

/**
 * One value + gradient evaluation into a reused gradient buffer (as a solver loop would run it,
 * so the timing is the kernel's, not an allocation's); returns the loss terms and kernel time.
 */
function evaluate(kind: Kind, vol: Tensor, out: Tensor, backend: Backend): { loss: number[]; grad?: Tensor; deviceMs?: number } {
  const options = backend === 'cuda' ? { grad: true, out } : { grad: true, out, backend };
  if (kind === 'l1') {
    const r = tv.l1_3dSync(vol, options);
    return { loss: r.loss, grad: r.grad, deviceMs: r.deviceMs };
  }
  const r = kind === 'iso3d' ? tv.iso3dSync(vol, options) : tv.sq3dSync(vol, options);
  return { loss: [r.loss], grad: r.grad, deviceMs: r.deviceMs };
}

/** mulberry32 values in [0.25, 1.25): reproducible, and never zero. */
function randomVolume(count: number, dtype: DType, seed: number): Float32Array | Float64Array {
  const out = dtype === 'float32' ? new Float32Array(count) : new Float64Array(count);
  let a = seed >>> 0;
  for (let i = 0; i < count; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[i] = 0.25 + ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return out;
}

function prepare(c: TvCase, n: number, backend: Backend): Prepared {
  const host = tensor(randomVolume(n * n * n, c.dtype, 0x5eed + n), { shape: [n, n, n], dtype: c.dtype });
  let vol = host;
  if (backend === 'cuda') {
    try {
      vol = host.toSync('cuda');
    } finally {
      host.dispose();
    }
  }
  const out = zeros([n, n, n], { dtype: c.dtype, device: vol.device });
  return {
    run() {
      const r = evaluate(c.kind, vol, out, backend);
      if (!r.loss.every(Number.isFinite)) {
        throw new Error(`tv.${c.kind} on ${backend} returned a non-finite loss ${r.loss.join(', ')}`);
      }
      return { deviceMs: r.deviceMs };
    },
    dispose: () => {
      vol.dispose();
      out.dispose();
    },
  };
}

function workload(c: TvCase, quick: boolean): Workload {
  const n = quick ? c.n / 2 : c.n;
  const volumeBytes = n * n * n * (c.dtype === 'float32' ? 4 : 8);
  return {
    name: `${c.kind} ${n}³ ${c.dtype === 'float32' ? 'f32' : 'f64'} value+grad`,
    backends: c.backends,
    // Reads the volume once and writes the gradient once.
    bytes: 2 * volumeBytes,
    prepare: (backend) => prepare(c, n, backend),
  };
}

/** The TV family: iso3d, sq3d and l1 (value + gradient). */
export const tvFamily: Family = {
  name: 'tv',
  workloads: ({ quick }) => CASES.map((c) => workload(c, quick)),
};
