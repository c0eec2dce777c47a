/**
 * Fused tilted K-Planes feature sampling with an analytic backward: the hot loop of K-Planes
 * tomography models, with the semantics of quantem's `interpolate_ms_features_tilted`.
 *
 * Inputs
 * - `points` [B, 3]: sample positions, nominally in [−1, 1]³ (anything outside is clamped by
 *   the border padding, see below).
 * - `rotations` [T, 3, 3]: any 3×3 matrices (orthogonality is not assumed), row-major.
 * - `planes`: one tensor per scale level s = 0 … S−1, each [3T, C, H_s, W_s] (H and W may differ
 *   from each other and between levels; 3T and C are shared).
 * - `gates` (optional): one finite number per level, multiplying that level's block.
 *
 * Math. For rotation t, r = R_t · p (not R_tᵀ·p). Plane slot 3t + k is sampled at grid
 * coordinates (x → W axis, y → H axis): k = 0: (r0, r1), k = 1: (r2, r0), k = 2: (r1, r2),
 * bilinearly with torch `grid_sample` semantics, `align_corners = True`,
 * `padding_mode = 'border'`: ix = (gx + 1)/2 · (W − 1) clamped to [0, W − 1] (same for iy and
 * H). The coordinate gradient is 0 where ix ≤ 0 or ix ≥ W − 1 (the border counts as outside)
 * and for planes of width or height 1. Per rotation the three samples multiply elementwise,
 * f[b, t, c] = s0·s1·s2, and the features are
 * `out[b, s·T·C + t·C + c] = gate_s · f_s[b, t, c]`: levels are concatenated level-major, never
 * summed.
 *
 * Dtypes and devices: float32 or float64 on the host backends ('native', 'js'), float32 only on
 * CUDA. All tensors must share one dtype and one device.
 *
 * Determinism: the forward is bitwise deterministic on every backend. The backward is bitwise
 * deterministic on 'native' (whatever the thread count) and on 'js'; on 'cuda' it is not, since
 * plane gradients, dL/dpoints and dL/drotations are accumulated with atomicAdd, whose order
 * varies from run to run (differences are at float32 rounding level).
 *
 * Memory: no [3T, C, B]-sized intermediate is ever made. The native and CUDA backends may copy
 * each level's planes to channels-last [3T, H, W, C] once per call (and CUDA accumulates plane
 * gradients in such a temporary too).
 */
import { type BackendOptions, callNative, promiseOf, resolveBackend } from '../backend';
import type { DType } from '../dtype';
import { ReconKernelsError } from '../errors';
import { type KplanesDims, kplanesBackwardJs, kplanesForwardJs } from '../js/kplanes';
import type { NativeKplanesArgs } from '../native-types';
import { fmtShape } from '../shape';
import { type Tensor, zeros } from '../tensor';
import { checkNumbers, checkObject, checkTensor, describe } from '../validate';

/** Inputs of {@link sampleTilted}. */
export interface SampleTiltedOptions extends BackendOptions {
  /** float32 | float64 [B, 3]. */
  points: Tensor;
  /** [T, 3, 3], same dtype and device as points. */
  rotations: Tensor;
  /** One tensor per level, each [3T, C, H, W]; same dtype and device as points. */
  planes: readonly Tensor[];
  /** One finite multiplier per level; default all 1. */
  gates?: readonly number[];
}

/** Which gradients {@link sampleTiltedBackward} computes; each defaults to true. */
export interface SampleTiltedNeeds {
  planes?: boolean;
  points?: boolean;
  rotations?: boolean;
}

/** Inputs of {@link sampleTiltedBackward}. */
export interface SampleTiltedBackwardOptions extends SampleTiltedOptions {
  /** dL/dfeatures [B, S·T·C], same dtype and device as points. */
  gradOut: Tensor;
  /** Default { planes: true, points: true, rotations: true }. */
  needs?: SampleTiltedNeeds;
}

/** The gradients asked for, each with the shape, dtype and device of its input. */
export interface SampleTiltedGrads {
  /** dL/dplanes, one tensor per level [3T, C, H, W]. */
  planes?: Tensor[];
  /** dL/dpoints [B, 3] = Σ_t R_tᵀ · dL/dr. */
  points?: Tensor;
  /** dL/drotations [T, 3, 3], dL/dR_t[i][j] = Σ_b dL/dr_i · p_j. */
  rotations?: Tensor;
}

interface Request {
  op: string;
  points: Tensor;
  rotations: Tensor;
  planes: Tensor[];
  dtype: DType;
  dims: KplanesDims;
  backend?: 'js' | 'native';
  gradOut?: Tensor;
  needs: { planes: boolean; points: boolean; rotations: boolean };
}

const FLOATS: readonly DType[] = ['float32', 'float64'];

function shapeError(op: string, msg: string): never {
  throw new ReconKernelsError('INVALID_SHAPE', `${op}: ${msg}`);
}

function sameDtype(op: string, name: string, t: Tensor, dtype: DType): void {
  if (t.dtype !== dtype) throw new ReconKernelsError('DTYPE_MISMATCH', `${op}: ${name} is ${t.dtype} but points is ${dtype}; use one dtype for all inputs`);
}

function parse(op: string, options: unknown, backward: boolean): Request {
  const o = checkObject(op, 'options', options);
  const points = checkTensor(op, 'points', o.points, FLOATS);
  const dtype = points.dtype;
  if (points.shape.length !== 2 || points.shape[1] !== 3) shapeError(op, `points must be [B, 3], got ${fmtShape(points.shape)}`);
  const B = points.shape[0];
  const rotations = checkTensor(op, 'rotations', o.rotations, FLOATS);
  sameDtype(op, 'rotations', rotations, dtype);
  const rs = rotations.shape;
  if (rs.length !== 3 || rs[1] !== 3 || rs[2] !== 3 || rs[0] < 1) shapeError(op, `rotations must be [T, 3, 3] with T >= 1, got ${fmtShape(rs)}`);
  const T = rs[0];
  if (!Array.isArray(o.planes) || o.planes.length === 0) {
    throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: planes must be a non-empty array of tensors (one per level), got ${describe(o.planes)}`);
  }
  const planes: Tensor[] = [];
  const H: number[] = [];
  const W: number[] = [];
  let C = -1;
  (o.planes as unknown[]).forEach((pl, s) => {
    const t = checkTensor(op, `planes[${s}]`, pl, FLOATS);
    sameDtype(op, `planes[${s}]`, t, dtype);
    const ps = t.shape;
    if (ps.length !== 4) shapeError(op, `planes[${s}] must be [3T, C, H, W], got ${fmtShape(ps)}`);
    if (ps[0] !== 3 * T) shapeError(op, `planes[${s}] has ${ps[0]} slots but 3T = ${3 * T} for ${T} rotations`);
    if (ps[1] < 1 || ps[2] < 1 || ps[3] < 1) shapeError(op, `planes[${s}] must have C, H, W >= 1, got ${fmtShape(ps)}`);
    if (C < 0) C = ps[1];
    else if (ps[1] !== C) shapeError(op, `planes[${s}] has ${ps[1]} channels but planes[0] has ${C}`);
    planes.push(t);
    H.push(ps[2]);
    W.push(ps[3]);
  });
  const S = planes.length;
  const gates = o.gates === undefined ? new Array<number>(S).fill(1) : checkNumbers(op, 'gates', o.gates, S);
  let gradOut: Tensor | undefined;
  const needs = { planes: true, points: true, rotations: true };
  if (backward) {
    gradOut = checkTensor(op, 'gradOut', o.gradOut, FLOATS);
    sameDtype(op, 'gradOut', gradOut, dtype);
    const gs = gradOut.shape;
    if (gs.length !== 2 || gs[0] !== B || gs[1] !== S * T * C) shapeError(op, `gradOut must be [${B}, ${S * T * C}] (B, S·T·C), got ${fmtShape(gs)}`);
    const n = checkObject(op, 'needs', o.needs);
    for (const key of ['planes', 'points', 'rotations'] as const) {
      const v = n[key];
      if (v === undefined) continue;
      if (typeof v !== 'boolean') throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: needs.${key} must be a boolean, got ${describe(v)}`);
      needs[key] = v;
    }
  }
  const backend = o.backend as Request['backend'];
  return { op, points, rotations, planes, dtype, dims: { B, T, C, H, W, gates }, backend, gradOut, needs };
}

function dispatch(req: Request) {
  const tensors: Record<string, Tensor | undefined> = { points: req.points, rotations: req.rotations };
  req.planes.forEach((p, s) => (tensors[`planes[${s}]`] = p));
  if (req.gradOut) tensors.gradOut = req.gradOut;
  const d = resolveBackend(req.op, tensors, { backend: req.backend });
  if (d.backend === 'cuda' && req.dtype !== 'float32') {
    throw new ReconKernelsError('INVALID_DTYPE', `${req.op}: the CUDA backend takes float32 only, got ${req.dtype}; convert the inputs to float32`);
  }
  return d;
}

function nativeArgs(req: Request): NativeKplanesArgs {
  const { B, T, C, H, W, gates } = req.dims;
  return {
    dtype: req.dtype as 'float32' | 'float64',
    B,
    T,
    C,
    H: [...H],
    W: [...W],
    gates: [...gates],
    points: req.points.storage('points'),
    rotations: req.rotations.storage('rotations'),
    planes: req.planes.map((p, s) => p.storage(`planes[${s}]`)),
    threads: 0,
  };
}

/** Disposes `outputs` if the (sync or async) run fails. */
function guarded<T>(outputs: (Tensor | undefined)[], run: () => T | Promise<T>): T | Promise<T> {
  const drop = () => outputs.forEach((t) => t?.dispose());
  let r: T | Promise<T>;
  try {
    r = run();
  } catch (e) {
    drop();
    throw e;
  }
  if (r instanceof Promise) {
    return r.catch((e) => {
      drop();
      throw e;
    });
  }
  return r;
}

function runForward(req: Request, sync: boolean): Tensor | Promise<Tensor> {
  const d = dispatch(req);
  const { B, T, C } = req.dims;
  const out = zeros([B, req.planes.length * T * C], { dtype: req.dtype, device: req.points.device });
  return guarded([out], () => {
    if (d.backend === 'js') {
      kplanesForwardJs(
        req.points.hostData('points'),
        req.rotations.hostData('rotations'),
        req.planes.map((p, s) => p.hostData(`planes[${s}]`)),
        out.hostData('out'),
        req.dims,
      );
      return sync ? out : Promise.resolve(out);
    }
    const addon = d.addon!;
    const args = { ...nativeArgs(req), out: out.storage('out') };
    return callNative(sync, (s) => (s ? addon.kplanesSample(args, true) : addon.kplanesSample(args, false)), () => out);
  });
}

function runBackward(req: Request, sync: boolean): SampleTiltedGrads | Promise<SampleTiltedGrads> {
  const d = dispatch(req);
  const { B, T } = req.dims;
  const opt = { dtype: req.dtype, device: req.points.device };
  const gPlanes = req.needs.planes ? req.planes.map((p) => zeros(p.shape, opt)) : undefined;
  const gPoints = req.needs.points ? zeros([B, 3], opt) : undefined;
  const gRot = req.needs.rotations ? zeros([T, 3, 3], opt) : undefined;
  const result: SampleTiltedGrads = {};
  if (gPlanes) result.planes = gPlanes;
  if (gPoints) result.points = gPoints;
  if (gRot) result.rotations = gRot;
  if (!gPlanes && !gPoints && !gRot) return sync ? result : Promise.resolve(result);
  return guarded([...(gPlanes ?? []), gPoints, gRot], () => {
    if (d.backend === 'js') {
      kplanesBackwardJs(
        req.points.hostData('points'),
        req.rotations.hostData('rotations'),
        req.planes.map((p, s) => p.hostData(`planes[${s}]`)),
        req.gradOut!.hostData('gradOut'),
        gPlanes ? gPlanes.map((g) => g.hostData('gradPlanes')) : null,
        gPoints ? gPoints.hostData('gradPoints') : null,
        gRot ? gRot.hostData('gradRotations') : null,
        req.dims,
      );
      return sync ? result : Promise.resolve(result);
    }
    const addon = d.addon!;
    const args: NativeKplanesArgs = {
      ...nativeArgs(req),
      gradOut: req.gradOut!.storage('gradOut'),
      gradPlanes: gPlanes?.map((g) => g.storage('gradPlanes')),
      gradPoints: gPoints?.storage('gradPoints'),
      gradRotations: gRot?.storage('gradRotations'),
    };
    return callNative(sync, (s) => (s ? addon.kplanesBackward(args, true) : addon.kplanesBackward(args, false)), () => result);
  });
}


/**
 * Tilted K-Planes features of `points`: a new tensor [B, S·T·C] (column s·T·C + t·C + c) with
 * the dtype and device of the inputs. Runs on CUDA when the inputs live there (float32 only),
 * else on the native or js host backend. See the module documentation for the math.
 *
 * @example
 * const feats = await kplanes.sampleTilted({ points, rotations, planes: [p50, p100, p200], gates: [1, 1, 0.5] });
 */
export function sampleTilted(options: SampleTiltedOptions): Promise<Tensor> {
  return promiseOf(() => runForward(parse('kplanes.sampleTilted', options, false), false));
}

/** Synchronous {@link sampleTilted} (blocks the event loop). */
export function sampleTiltedSync(options: SampleTiltedOptions): Tensor {
  return runForward(parse('kplanes.sampleTiltedSync', options, false), true) as Tensor;
}

/**
 * The analytic backward of {@link sampleTilted} for L = Σ gradOut · features: dL/dplanes (each
 * sample's gradient scattered to its four taps), dL/dpoints = Σ_t R_tᵀ·dL/dr and
 * dL/dR_t[i][j] = Σ_b dL/dr_i · p_j, with the border rules of the forward (zero coordinate
 * gradient at and beyond the border). Only the gradients in `needs` are computed (each
 * defaults to true). Gates are constants here (no gradient with respect to them).
 *
 * Bitwise deterministic on 'native' and 'js'; not on 'cuda' (atomicAdd accumulation).
 */
export function sampleTiltedBackward(options: SampleTiltedBackwardOptions): Promise<SampleTiltedGrads> {
  return promiseOf(() => runBackward(parse('kplanes.sampleTiltedBackward', options, true), false));
}

/** Synchronous {@link sampleTiltedBackward} (blocks the event loop). */
export function sampleTiltedBackwardSync(options: SampleTiltedBackwardOptions): SampleTiltedGrads {
  return runBackward(parse('kplanes.sampleTiltedBackwardSync', options, true), true) as SampleTiltedGrads;
}
