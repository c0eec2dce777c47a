/**
 * recon-kernels: GPU kernels for computational imaging behind a typed API, with a
 * multi-threaded native CPU backend and a pure-TypeScript fallback.
 *
 * Backends: an op runs where its tensors live. CUDA tensors run on 'cuda'; host tensors on
 * 'native' when the addon loaded, else on 'js'. `{ backend: 'js' | 'native' }` or the
 * environment variable RECON_KERNELS_BACKEND forces a host backend.
 */
export { Tensor, tensor, zeros, type TensorOptions } from './tensor';
export type { DType, HostArray } from './dtype';
export type { Device, DeviceSpec } from './device';
export { ReconKernelsError, type ErrorCode } from './errors';
export { capabilities, type Capabilities } from './capabilities';
export type { Backend, BackendOptions } from './backend';
export * as tv from './tv/index';
export * as kplanes from './kplanes/index';
export * as ops from './array/ops';
export * as nufft from './nufft/index';
export * as gridding from './gridding/index';
export * as tomo from './tomo/index';
export * as phantom from './phantom/index';
export * as mri from './mri/index';
