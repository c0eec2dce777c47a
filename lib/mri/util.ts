/** Host-side helpers shared by the MRI operators (complex interleaved Float64 work arrays). */
import type { HostArray } from '../dtype';
import { ReconKernelsError } from '../errors';
import { type Tensor, tensor } from '../tensor';
import type { Device } from '../device';

/** The tensor's data on the host (a copy for device tensors). */
export function hostOf(t: Tensor): HostArray {
  return t.device === 'cpu' ? t.hostData() : t.toSync('cpu').hostData();
}

/** Complex interleaved values of a real or complex tensor (real parts only for real tensors). */
export function complexHost(op: string, name: string, t: Tensor): Float64Array {
  const h = hostOf(t);
  if (t.dtype === 'complex64' || t.dtype === 'complex128') return Float64Array.from(h);
  if (t.dtype === 'float32' || t.dtype === 'float64') {
    const out = new Float64Array(2 * h.length);
    for (let i = 0; i < h.length; i++) out[2 * i] = h[i];
    return out;
  }
  throw new ReconKernelsError('INVALID_DTYPE', `${op}: ${name} must be a real or complex tensor, got ${t.dtype}`);
}

/** A tensor of `dtype` on `device` from a float64 work array. */
export function makeTensor(data: Float64Array, shape: number[], dtype: 'complex64' | 'complex128' | 'float32' | 'float64', device: Device): Tensor {
  return tensor(data, { shape, dtype, device });
}

