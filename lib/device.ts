import { ReconKernelsError } from './errors';

/** Where a tensor lives: host memory, or the memory of CUDA device N. */
export type Device = 'cpu' | `cuda:${number}`;
/** A device as users may write it: 'cuda' means 'cuda:0'. */
export type DeviceSpec = Device | 'cuda';

export function parseDevice(spec: unknown, what = 'device'): Device {
  if (spec === undefined || spec === 'cpu') return 'cpu';
  if (spec === 'cuda') return 'cuda:0';
  if (typeof spec === 'string') {
    const m = /^cuda:(\d+)$/.exec(spec);
    if (m) return `cuda:${Number(m[1])}`;
  }
  throw new ReconKernelsError('INVALID_DEVICE', `${what}: unknown device ${JSON.stringify(spec)}; use 'cpu', 'cuda' or 'cuda:N'`);
}

export function cudaIndex(device: Device): number {
  return device === 'cpu' ? -1 : Number(device.slice(5));
}
