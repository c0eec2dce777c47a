/**
 * 3-D total variation with analytic gradients, following the quantem-cuda kernels.
 *
 * A volume is a float32 or float64 tensor [..., D, H, W] (W fastest); leading axes are flattened
 * into a batch. Differences are forward differences between neighbouring voxels, in the
 * volume's own units (no voxel-size scaling). The value and the gradient come from one fused
 * pass that reads the volume once and writes the gradient once.
 */
import { type BackendOptions, callNative, promiseOf, resolveBackend } from '../backend';
import { ReconKernelsError } from '../errors';
import { monomorphic } from '../js/monomorphic';
import { tvIsotropicJs, tvL1Js, tvSquaredJs, type TvDims } from '../js/tv';
import type { NativeOpResult } from '../native-types';
import { type Tensor, zeros } from '../tensor';
import { fmtShape, sameShape } from '../shape';
import { checkNumber, checkNumbers, checkObject, checkTensor } from '../validate';

/** Options of every TV function. */
export interface TvOptions extends BackendOptions {
  /** Also return the gradient of the loss with respect to the volume. Default false. */
  grad?: boolean;
  /**
   * Write the gradient into this tensor (same shape, dtype and device as the volume) instead of
   * allocating one; it is returned as `grad`. Lets a solver loop reuse one buffer.
   */
  out?: Tensor;
}

/** Options of {@link iso3d}. */
export interface TvIsoOptions extends TvOptions {
  /** Added under the square root at every corner, keeping the gradient finite. Default 1e-8. */
  eps?: number;
}

/** Options of {@link l1_3d}. */
export interface TvL1Options extends TvOptions {
  /** Weights [w_d, w_h, w_w] of the three sums in the returned gradient. Default [1, 1, 1]. */
  weights?: readonly [number, number, number] | readonly number[];
}

/** Options of the *Backward functions. */
export interface TvBackwardOptions extends BackendOptions {
  /** Write the gradient into this tensor (same shape, dtype, device as vol). */
  out?: Tensor;
}

/** A scalar TV value, with the gradient when asked for. */
export interface TvResult {
  loss: number;
  /** ∂loss/∂vol: same shape, dtype and device as the volume. */
  grad?: Tensor;
  /** Kernel time in milliseconds measured with CUDA events (cuda backend only). */
  deviceMs?: number;
}

/** The three anisotropic sums, with the gradient when asked for. */
export interface TvL1Result {
  /** [Σ|Δd|, Σ|Δh|, Σ|Δw|]. */
  loss: [number, number, number];
  /** Σ_a weights[a]·∂loss_a/∂vol: same shape, dtype and device as the volume. */
  grad?: Tensor;
  deviceMs?: number;
}

const KIND = { squared: 0, isotropic: 1, l1: 2 } as const;
type Kind = keyof typeof KIND;

interface TvRequest {
  op: string;
  kind: Kind;
  vol: Tensor;
  eps: number;
  scale: number[];
  wantLoss: boolean;
  wantGrad: boolean;
  out?: Tensor;
  backend?: 'js' | 'native';
}

interface TvRaw {
  loss: number[];
  grad?: Tensor;
  deviceMs?: number;
}

function dimsOf(vol: Tensor): TvDims {
  const s = vol.shape;
  const n = s.length;
  const D = s[n - 3];
  const H = s[n - 2];
  const W = s[n - 1];
  let batch = 1;
  for (let i = 0; i < n - 3; i++) batch *= s[i];
  return { batch, D, H, W };
}

function runTv(req: TvRequest, sync: boolean): TvRaw | Promise<TvRaw> {
  const { op, kind, vol, eps, scale, wantLoss, wantGrad } = req;
  const dispatch = resolveBackend(op, { vol, out: req.out }, { backend: req.backend });
  const dims = dimsOf(vol);
  const grad = wantGrad ? (req.out ?? zeros(vol.shape, { dtype: vol.dtype, device: vol.device })) : undefined;
  // A gradient we allocated is ours to free if the op fails; a caller's `out` is theirs.
  const release = () => {
    if (grad && grad !== req.out) grad.dispose();
  };
  if (dispatch.backend === 'js') {
    const v = vol.hostData('vol');
    const g = grad ? grad.hostData('grad') : null;
    const type = vol.dtype;
    let loss: number[];
    if (kind === 'squared') loss = [monomorphic(tvSquaredJs, type)(v, dims, scale[0], g)];
    else if (kind === 'isotropic') loss = [monomorphic(tvIsotropicJs, type)(v, dims, eps, scale[0], g)];
    else loss = monomorphic(tvL1Js, type)(v, dims, scale, g);
    const raw: TvRaw = { loss, grad };
    return sync ? raw : Promise.resolve(raw);
  }
  const addon = dispatch.addon!;
  const args = {
    kind: KIND[kind],
    dtype: vol.dtype as 'float32' | 'float64',
    ...dims,
    eps,
    scale,
    wantLoss,
    wantGrad,
    vol: vol.storage('vol'),
    grad: grad?.storage('grad'),
    threads: 0,
  };
  const nLoss = kind === 'l1' ? 3 : 1;
  const finish = (r: NativeOpResult): TvRaw => ({ loss: Array.from(r.values.subarray(0, nLoss)), grad, deviceMs: r.deviceMs >= 0 ? r.deviceMs : undefined });
  let result: TvRaw | Promise<TvRaw>;
  try {
    result = callNative(sync, (s) => (s ? addon.tv3d(args, true) : addon.tv3d(args, false)), finish);
  } catch (e) {
    release();
    throw e;
  }
  if (result instanceof Promise) {
    return result.catch((e) => {
      release();
      throw e;
    });
  }
  return result;
}

function request(op: string, kind: Kind, vol: unknown, options: unknown, backward: boolean, gradOut?: unknown): TvRequest {
  const v = checkTensor(op, 'vol', vol, ['float32', 'float64'], 3);
  const o = checkObject(op, 'options', options);
  const eps = kind === 'isotropic' && o.eps !== undefined ? checkNumber(op, 'eps', o.eps, { nonNegative: true }) : 1e-8;
  let scale: number[];
  if (backward) {
    scale = kind === 'l1' ? checkNumbers(op, 'gradOut', gradOut, 3) : [checkNumber(op, 'gradOut', gradOut), 0, 0];
  } else if (kind === 'l1') {
    scale = o.weights !== undefined ? checkNumbers(op, 'weights', o.weights, 3) : [1, 1, 1];
  } else {
    scale = [1, 0, 0];
  }
  if (o.grad !== undefined && typeof o.grad !== 'boolean') {
    throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: grad must be a boolean, got ${typeof o.grad}`);
  }
  const wantGrad = backward || o.grad === true;
  let out: Tensor | undefined;
  if (o.out !== undefined) {
    out = checkTensor(op, 'out', o.out, [v.dtype]);
    if (!sameShape(out.shape, v.shape)) {
      throw new ReconKernelsError('INVALID_SHAPE', `${op}: out has shape ${fmtShape(out.shape)} but vol has ${fmtShape(v.shape)}`);
    }
  }
  return { op, kind, vol: v, eps, scale, wantLoss: !backward, wantGrad, out, backend: o.backend as TvRequest['backend'] };
}

function scalarResult(r: TvRaw): TvResult {
  const out: TvResult = { loss: r.loss[0] };
  if (r.grad) out.grad = r.grad;
  if (r.deviceMs !== undefined) out.deviceMs = r.deviceMs;
  return out;
}

function l1Result(r: TvRaw): TvL1Result {
  const out: TvL1Result = { loss: [r.loss[0], r.loss[1], r.loss[2]] };
  if (r.grad) out.grad = r.grad;
  if (r.deviceMs !== undefined) out.deviceMs = r.deviceMs;
  return out;
}


function then<A, B>(v: A | Promise<A>, f: (a: A) => B): B | Promise<B> {
  return v instanceof Promise ? v.then(f) : f(v);
}

/**
 * Squared TV: Σ(Δd)² + Σ(Δh)² + Σ(Δw)², forward differences over each axis's full range,
 * summed over the batch (a raw sum, no mean).
 *
 * @param vol float32 | float64 tensor [..., D, H, W] on any device.
 * @returns `{ loss }`, and with `{ grad: true }` also `grad` (same shape, dtype, device).
 */
export function sq3d(vol: Tensor, options?: TvOptions): Promise<TvResult> {
  return promiseOf(() => then(runTv(request('tv.sq3d', 'squared', vol, options, false), false), scalarResult));
}

/** Synchronous {@link sq3d}. */
export function sq3dSync(vol: Tensor, options?: TvOptions): TvResult {
  return scalarResult(runTv(request('tv.sq3dSync', 'squared', vol, options, false), true) as TvRaw);
}

/**
 * Isotropic TV: the mean over batch × corners [0,D−2]×[0,H−2]×[0,W−2] of
 * √(dd² + dh² + dw² + eps), the three forward differences taken at the same corner. A volume
 * with any spatial size 1 gives 0 and a zero gradient.
 *
 * @param vol float32 | float64 tensor [..., D, H, W] on any device.
 */
export function iso3d(vol: Tensor, options?: TvIsoOptions): Promise<TvResult> {
  return promiseOf(() => then(runTv(request('tv.iso3d', 'isotropic', vol, options, false), false), scalarResult));
}

/** Synchronous {@link iso3d}. */
export function iso3dSync(vol: Tensor, options?: TvIsoOptions): TvResult {
  return scalarResult(runTv(request('tv.iso3dSync', 'isotropic', vol, options, false), true) as TvRaw);
}

/**
 * Anisotropic L1 TV: the three raw sums [Σ|Δd|, Σ|Δh|, Σ|Δw|]. The gradient is that of
 * Σ_a weights[a]·loss_a with sign(0) = 0.
 *
 * @param vol float32 | float64 tensor [..., D, H, W] on any device.
 */
export function l1_3d(vol: Tensor, options?: TvL1Options): Promise<TvL1Result> {
  return promiseOf(() => then(runTv(request('tv.l1_3d', 'l1', vol, options, false), false), l1Result));
}

/** Synchronous {@link l1_3d}. */
export function l1_3dSync(vol: Tensor, options?: TvL1Options): TvL1Result {
  return l1Result(runTv(request('tv.l1_3dSync', 'l1', vol, options, false), true) as TvRaw);
}

function gradOnly(r: TvRaw): Tensor {
  return r.grad!;
}

/** gradOut · ∂sq3d/∂vol, for autodiff chains; gradOut is the upstream gradient (a number). */
export function sq3dBackward(vol: Tensor, gradOut: number, options?: TvBackwardOptions): Promise<Tensor> {
  return promiseOf(() => then(runTv(request('tv.sq3dBackward', 'squared', vol, options, true, gradOut), false), gradOnly));
}

/** Synchronous {@link sq3dBackward}. */
export function sq3dBackwardSync(vol: Tensor, gradOut: number, options?: TvBackwardOptions): Tensor {
  return gradOnly(runTv(request('tv.sq3dBackwardSync', 'squared', vol, options, true, gradOut), true) as TvRaw);
}

/** gradOut · ∂iso3d/∂vol (same eps as the forward). */
export function iso3dBackward(vol: Tensor, gradOut: number, options?: TvBackwardOptions & { eps?: number }): Promise<Tensor> {
  return promiseOf(() => then(runTv(request('tv.iso3dBackward', 'isotropic', vol, options, true, gradOut), false), gradOnly));
}

/** Synchronous {@link iso3dBackward}. */
export function iso3dBackwardSync(vol: Tensor, gradOut: number, options?: TvBackwardOptions & { eps?: number }): Tensor {
  return gradOnly(runTv(request('tv.iso3dBackwardSync', 'isotropic', vol, options, true, gradOut), true) as TvRaw);
}

/** Σ_a gradOut[a]·∂loss_a/∂vol for the three L1 sums (d, h, w). */
export function l1_3dBackward(vol: Tensor, gradOut: readonly number[], options?: TvBackwardOptions): Promise<Tensor> {
  return promiseOf(() => then(runTv(request('tv.l1_3dBackward', 'l1', vol, options, true, gradOut), false), gradOnly));
}

/** Synchronous {@link l1_3dBackward}. */
export function l1_3dBackwardSync(vol: Tensor, gradOut: readonly number[], options?: TvBackwardOptions): Tensor {
  return gradOnly(runTv(request('tv.l1_3dBackwardSync', 'l1', vol, options, true, gradOut), true) as TvRaw);
}
