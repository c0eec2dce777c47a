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

/** Tilted K-Planes sampling (native/kplanes_binding.cc); outputs are overwritten. */
export interface NativeKplanesArgs {
  dtype: 'float32' | 'float64';
  B: number;
  T: number;
  C: number;
  /** Per level. */
  H: number[];
  W: number[];
  gates: number[];
  points: NativeStorage;
  rotations: NativeStorage;
  planes: NativeStorage[];
  /** Forward: features [B, S·T·C]. */
  out?: NativeStorage;
  /** Backward: upstream gradient [B, S·T·C] and the wanted gradients. */
  gradOut?: NativeStorage;
  gradPlanes?: NativeStorage[];
  gradPoints?: NativeStorage;
  gradRotations?: NativeStorage;
  threads: number;
}

/** Options of addon.NufftPlan (native/nufft_binding.cc); see cuda/nufft.h for the conventions. */
export interface NativeNufftOptions {
  type: 1 | 2;
  modes: number[];
  ntransf: number;
  isign: 1 | -1;
  modeord: 0 | 1;
  eps: number;
  upsampfac: number;
  gradient: boolean;
  dtype: 'complex64' | 'complex128';
  /** Plain kernel width override; 0 = from eps; or one plain width per axis. */
  width: number | number[];
  /** Fine-grid size per axis (2,3,5-smooth, above N); [] or absent = σ·N. */
  fineGrid?: number[];
  /** Number of independent point sets (points [P, d, M], data [P, ntransf, ...]); default 1. */
  P?: number;
  /** 0 = default (RECON_KERNELS_THREADS or hardware). */
  threads: number;
  /** -1 = CPU; >= 0 the CUDA device (CUDA_UNAVAILABLE / CUFFT_UNAVAILABLE when it cannot serve). */
  device: number;
}

/** A native NUFFT plan; errors carry codes (INVALID_ARGUMENT, NON_FINITE, DISPOSED, ...). */
export interface NativeNufftPlan {
  readonly info: { width: number; beta: number; upsampfac: number; fineGrid: number[]; gradientWidthIncrease: number };
  /** Points real [(P,) d, M] row-major (float32 for complex64); host arrays are copied (uploaded once on CUDA). */
  setPoints(points: NativeStorage, M: number, sync: boolean): void | Promise<void>;
  /** Type 1: strengths [(P,) ntransf, (1+d,) M] -> modes [(P,) ntransf, N1..Nd]; type 2 the reverse. Device buffers on CUDA plans. */
  execute(input: NativeStorage, output: NativeStorage, sync: boolean): void | Promise<void>;
  timings(): { sortMs: number; spreadMs: number; fftMs: number; deconvolveMs: number; totalMs: number };
  /** Frees the plan's memory; later calls throw code 'DISPOSED'. */
  dispose(): void;
}

/** Parallel-beam tomography kernels (native/tomo_binding.cc, cuda/tomo.h); `out` is overwritten. */
export interface NativeTomoArgs {
  /** 0 forward, 1 adjoint, 2 filter, 3 tvDual, 4 tvGradT, 5 recip. */
  op: number;
  dtype: 'float32' | 'float64';
  Z: number;
  Y: number;
  X: number;
  R: number;
  A: number;
  U: number;
  /** CSR entries of the geometry table. */
  nnz: number;
  /** Filter period. */
  N: number;
  /** Filter: lines of U samples; recip: element count. */
  lines: number;
  sigma: number;
  lambda: number;
  eps: number;
  /** Adjoint on the CPU through the CUDA kernel's voxel-driven gather (testing). */
  gather: boolean;
  x: NativeStorage;
  out: NativeStorage;
  /** float64 geometry table (forward / adjoint). */
  geom?: NativeStorage;
  /** Filter taps, N values. */
  filt?: NativeStorage;
  threads: number;
}

/** Element-wise MRI op (native/mri_binding.cc, cuda/mri.h); `out` is overwritten (combine may add to it). */
export interface NativeMriOpArgs {
  /** 0 expand, 1 combine, 2 weight, 3 cast. */
  op: number;
  /** Real scalar type of the complex data (expand, combine, weight). */
  dtype: 'float32' | 'float64';
  /** Expand / combine: images, coils, pixels. Weight: point sets, transforms per set, samples. Cast: N reals. */
  B: number;
  C: number;
  N: number;
  scale: number;
  /** Expand: x real; weight: y real. */
  inReal: boolean;
  /** Combine: out += instead of out =. */
  accumulate: boolean;
  /** Cast: element types of in and out. */
  inDtype: 'float32' | 'float64';
  outDtype: 'float32' | 'float64';
  /** Coil maps (expand, combine) or real weights (weight); absent = none. */
  map?: NativeStorage;
  in: NativeStorage;
  out: NativeStorage;
  threads: number;
}

/** Options of addon.MriToeplitz: image shape, Toeplitz grid (≥ 2N − 1 per axis), dtype, device (−1 = CPU). */
export interface NativeMriToeplitzOptions {
  shape: number[];
  grid: number[];
  dtype: 'complex64' | 'complex128';
  device: number;
}

/** One fused Toeplitz normal application (cuda/mri.h MriToeplitzCall); `out` is overwritten. */
export interface NativeMriToeplitzApplyArgs {
  P: number;
  B: number;
  C: number;
  xReal: boolean;
  x: NativeStorage;
  smaps?: NativeStorage;
  khat: NativeStorage;
  out: NativeStorage;
  /** CUDA: scratch of whole grids (complex); absent on the CPU. */
  work?: NativeStorage;
  threads: number;
}

/** khat = scale · FFT(k) per point set; k (complex128 [P, G...]) is overwritten. */
export interface NativeMriToeplitzKernelArgs {
  P: number;
  scale: number;
  k: NativeStorage;
  khat: NativeStorage;
  threads: number;
}

/** The FFT plans of one Toeplitz normal operator (CPU or CUDA); errors carry codes. */
export interface NativeMriToeplitz {
  apply(args: NativeMriToeplitzApplyArgs, sync: true): NativeOpResult;
  apply(args: NativeMriToeplitzApplyArgs, sync: false): Promise<NativeOpResult>;
  setKernel(args: NativeMriToeplitzKernelArgs, sync: true): NativeOpResult;
  setKernel(args: NativeMriToeplitzKernelArgs, sync: false): Promise<NativeOpResult>;
  /** Frees the plans (after an op in flight settles); later calls throw code 'DISPOSED'. */
  dispose(): void;
}

/** addon.mriOp's two call forms. */
export interface NativeMriOp {
  (args: NativeMriOpArgs, sync: true): NativeOpResult;
  (args: NativeMriOpArgs, sync: false): Promise<NativeOpResult>;
}

/** Gridding (native/gridding_binding.cc, cuda/gridding.h); `out` is overwritten. */
export interface NativeGriddingArgs {
  /** spread: input = strengths, out = grid; interp: input = grid, out = values; dcf: out = weights [sets, M]. */
  op: 'spread' | 'interp' | 'dcf';
  /** Real precision of every buffer (complex data is interleaved). */
  dtype: 'float32' | 'float64';
  dim: number;
  /** Grid sizes n1..nd. */
  grid: number[];
  M: number;
  ntransf: number;
  gradient: boolean;
  width: number;
  /** Kernel polynomial (params.ts kernelPolynomial, normalised): [degree+1][width], highest power first. */
  degree: number;
  coeffs: Float64Array;
  dcoeffs: Float64Array;
  /** Points [sets, d, M] radians. */
  points: NativeStorage;
  input?: NativeStorage;
  out: NativeStorage;
  /** dcf only: point sets, Pipe–Menon iterations, factor applied to the weights. */
  sets?: number;
  iterations?: number;
  scale?: number;
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
  NufftPlan: new (opts: NativeNufftOptions) => NativeNufftPlan;
  kplanesSample(args: NativeKplanesArgs, sync: true): NativeOpResult;
  kplanesSample(args: NativeKplanesArgs, sync: false): Promise<NativeOpResult>;
  kplanesBackward(args: NativeKplanesArgs, sync: true): NativeOpResult;
  kplanesBackward(args: NativeKplanesArgs, sync: false): Promise<NativeOpResult>;
  tomoOp(args: NativeTomoArgs, sync: true): NativeOpResult;
  tomoOp(args: NativeTomoArgs, sync: false): Promise<NativeOpResult>;
  /** MRI building blocks (absent from addons built before them). */
  mriOp?: NativeMriOp;
  MriToeplitz?: new (opts: NativeMriToeplitzOptions) => NativeMriToeplitz;
  griddingOp(args: NativeGriddingArgs, sync: true): NativeOpResult;
  griddingOp(args: NativeGriddingArgs, sync: false): Promise<NativeOpResult>;
}
