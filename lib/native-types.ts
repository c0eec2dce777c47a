/**
 * Typed declarations of the compiled addon (native/addon.cc). Everything the addon exports is
 * listed here; nothing else in lib/ reaches into it untyped.
 */

/** A block of device memory owned by the addon; freed on free() or by its finalizer. */
export interface NativeDeviceBuffer {
  readonly bytes: number;
  readonly device: number;
  readonly freed: boolean;
  free(): void;
  /** Host to device copy of the whole typed array into the buffer at byte 0. */
  upload(src: Float32Array | Float64Array, sync: true): void;
  upload(src: Float32Array | Float64Array, sync: false): Promise<void>;
  /** Device to host copy of dst.byteLength bytes from byte 0. */
  download(dst: Float32Array | Float64Array, sync: true): void;
  download(dst: Float32Array | Float64Array, sync: false): Promise<void>;
  /** Device to device copy of src's first `bytes` bytes. */
  copyFrom(src: NativeDeviceBuffer, bytes: number, sync: true): void;
  copyFrom(src: NativeDeviceBuffer, bytes: number, sync: false): Promise<void>;
}

/** Memory an op reads or writes: a host typed array or a device buffer. */
export type NativeStorage = Float32Array | Float64Array | NativeDeviceBuffer;

export interface NativeBuildInfo {
  cuda: boolean;
  cudaVersion: string;
  cudaArchitectures: string;
  compiler: string;
  builder: string;
  buildType: string;
  addonVersion: string;
}

export interface NativeCudaDevice {
  index: number;
  name: string;
  computeCapability: string;
  totalMemory: number;
  multiprocessors: number;
  pciBusId: number;
}

export interface NativeCudaInfo {
  compiled: boolean;
  available: boolean;
  reason: string;
  runtimeVersion: number;
  driverVersion: number;
  devices: NativeCudaDevice[];
}

export interface NativeCufftInfo {
  loaded: boolean;
  version: number;
  path: string;
  error: string;
  searched: string[];
}

export interface NativeTvArgs {
  kind: number; // 0 squared, 1 isotropic, 2 l1
  dtype: 'float32' | 'float64';
  batch: number;
  D: number;
  H: number;
  W: number;
  eps: number;
  scale: number[];
  wantLoss: boolean;
  wantGrad: boolean;
  vol: NativeStorage;
  grad?: NativeStorage;
  threads: number;
}

export interface NativeOpResult {
  /** Reduction results (loss terms, sums); always 3 doubles. */
  values: Float64Array;
  /** Kernel time measured with CUDA events, or -1 on the CPU. */
  deviceMs: number;
}

export interface NativeArrayOpArgs {
  op: number;
  dtype: 'float32' | 'float64';
  complex: boolean;
  n: number;
  alpha: number;
  beta: number;
  a?: NativeStorage;
  b?: NativeStorage;
  out?: NativeStorage;
  threads: number;
}

export interface NativeAddon {
  buildInfo(): NativeBuildInfo;
  cudaInfo(): NativeCudaInfo;
  cufftInfo(): NativeCufftInfo;
  DeviceBuffer: new (device: number, bytes: number) => NativeDeviceBuffer;
  tv3d(args: NativeTvArgs, sync: true): NativeOpResult;
  tv3d(args: NativeTvArgs, sync: false): Promise<NativeOpResult>;
  arrayOp(args: NativeArrayOpArgs, sync: true): NativeOpResult;
  arrayOp(args: NativeArrayOpArgs, sync: false): Promise<NativeOpResult>;
  /** Measured copy bandwidth in GB/s (bytes read + written) on the CPU. */
  cpuCopyBandwidth(bytes: number, repeat: number, threads: number): Promise<number>;
  /** Measured device-to-device copy bandwidth in GB/s (bytes read + written). */
  cudaCopyBandwidth(device: number, bytes: number, repeat: number): Promise<number>;
  hardwareThreads(): number;
}
