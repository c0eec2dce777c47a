/**
 * Reconstruction algorithms on top of the parallel-beam operator: SIRT, CGLS, FBP and TV-min
 * (Chambolle–Pock). Every intermediate lives on the device of the data (no host round trips on
 * CUDA); each iteration runs a few kernels plus array ops. Promise API; the loop yields to the
 * event loop between iterations and reports progress through `onProgress(iteration, total)`.
 */
import * as ops from '../array/ops';
import { type BackendOptions, resolveBackend } from '../backend';
import { ReconKernelsError } from '../errors';
import { fft } from '../js/fft';
import { fmtShape, sameShape } from '../shape';
import { type Tensor, tensor, zeros } from '../tensor';
import { checkNumber, checkObject, checkTensor, describe } from '../validate';
import { runKernel } from './kernels';
import type { ParallelBeamOperator } from './operator';

/** Options every algorithm takes. */
export interface AlgorithmOptions extends BackendOptions {
  /** Called after each iteration with (iteration, total), 1-based. */
  onProgress?: (iteration: number, total: number) => void;
}

export interface SirtOptions extends AlgorithmOptions {
  /** Default 100. */
  iterations?: number;
  /** Lower bound applied after every update (e.g. 0). Default none. */
  min?: number;
  /** Upper bound. Default none. */
  max?: number;
  /** Starting volume (copied). Default zeros. */
  x0?: Tensor;
}

export interface CglsOptions extends AlgorithmOptions {
  /** Default 20. */
  iterations?: number;
  /** Starting volume (copied). Default zeros. */
  x0?: Tensor;
}

export type FbpFilter = 'ram-lak' | 'shepp-logan' | 'cosine' | 'hann';

export interface FbpOptions extends BackendOptions {
  /** Default 'ram-lak'. */
  filter?: FbpFilter;
  /**
   * Zero-pad each detector line to the next power of two ≥ 2·cols before filtering (no
   * wrap-around). false: the filter is designed on cols samples and applied circularly.
   * Default true.
   */
  padding?: boolean;
}

export interface TvMinOptions extends AlgorithmOptions {
  /** Weight of the isotropic TV term: minimises ½‖Ax − y‖² + λ·TV(x). Required, >= 0. */
  lambda: number;
  /** Default 100. */
  iterations?: number;
  /** Bounds applied to the primal iterate (e.g. min 0). Default none. */
  min?: number;
  max?: number;
  /** Starting volume (copied), e.g. an FBP result. Default zeros. */
  x0?: Tensor;
  /** ‖A‖ if known (default: A.norm() on the data's device). */
  normA?: number;
}

const FLOATS = ['float32', 'float64'] as const;

interface Ctx {
  op: string;
  A: ParallelBeamOperator;
  y: Tensor;
  volShape: number[];
  be: BackendOptions;
}

function context(op: string, A: unknown, y: unknown, o: Record<string, unknown>): Ctx {
  if (A === null || typeof A !== 'object' || !('geometry' in (A as object)) || typeof (A as ParallelBeamOperator).forwardSync !== 'function') {
    throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: A must be an operator from tomo.parallelBeam(), got ${describe(A)}`);
  }
  const op_ = A as ParallelBeamOperator;
  const g = op_.geometry;
  const t = checkTensor(op, 'y', y, FLOATS);
  const full = [g.R, g.A, g.U];
  const flat = t.shape.length === 2 && g.R === 1;
  if (!sameShape(t.shape, full) && !(flat && sameShape(t.shape, full.slice(1)))) {
    throw new ReconKernelsError('INVALID_SHAPE', `${op}: y has shape ${fmtShape(t.shape)} but the operator's sinogram is ${fmtShape(full)}`);
  }
  if (o.backend !== undefined && o.backend !== 'js' && o.backend !== 'native') {
    throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: backend must be 'js' or 'native', got ${describe(o.backend)}`);
  }
  resolveBackend(op, { y: t }, { backend: o.backend as 'js' | 'native' | undefined });
  const be: BackendOptions = t.device === 'cpu' && o.backend !== undefined ? { backend: o.backend as 'js' | 'native' } : {};
  const volShape = flat && g.Z === 1 ? [g.Y, g.X] : [g.Z, g.Y, g.X];
  return { op, A: op_, y: t, volShape, be };
}

function iterations(op: string, o: Record<string, unknown>, dflt: number): number {
  if (o.iterations === undefined) return dflt;
  const n = checkNumber(op, 'iterations', o.iterations, { nonNegative: true });
  if (!Number.isInteger(n)) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: iterations must be an integer, got ${n}`);
  return n;
}

function bound(op: string, name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || Number.isNaN(v)) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: ${name} must be a number, got ${describe(v)}`);
  return v;
}

function progress(op: string, o: Record<string, unknown>): (i: number, n: number) => void {
  if (o.onProgress === undefined) return () => {};
  if (typeof o.onProgress !== 'function') throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: onProgress must be a function`);
  return o.onProgress as (i: number, n: number) => void;
}

function startVolume(c: Ctx, x0: unknown): Tensor {
  const x = zeros(c.volShape, { dtype: c.y.dtype, device: c.y.device });
  if (x0 !== undefined) {
    const s = checkTensor(c.op, 'x0', x0, FLOATS);
    if (s.dtype !== c.y.dtype) throw new ReconKernelsError('DTYPE_MISMATCH', `${c.op}: x0 is ${s.dtype} but y is ${c.y.dtype}`);
    if (s.numel !== x.numel) throw new ReconKernelsError('INVALID_SHAPE', `${c.op}: x0 has shape ${fmtShape(s.shape)}, expected ${fmtShape(c.volShape)}`);
    if (s.device !== c.y.device) throw new ReconKernelsError('DEVICE_MISMATCH', `${c.op}: x0 is on ${s.device} but y is on ${c.y.device}`);
    ops.copySync(x, s, c.be);
  }
  return x;
}

/** Runs one of the small tomo kernels (filter, tvDual, tvGradT, recip) on the tensors' device. */
function small(c: Ctx, call: { op: 'filter' | 'tvDual' | 'tvGradT' | 'recip'; x: Tensor; out: Tensor; filt?: Tensor; N?: number; lines?: number; sigma?: number; lambda?: number; eps?: number; dims?: [number, number, number] }): void {
  const dispatch = resolveBackend(c.op, { x: call.x, out: call.out }, c.be);
  runKernel({ ...call, dispatch, g: c.A.geometry }, true);
}

const tick = () => new Promise<void>((r) => setImmediate(r));

/** Frees every tensor of `list` except `keep`. */
function free(list: (Tensor | undefined)[], keep?: Tensor): void {
  for (const t of list) if (t && t !== keep) t.dispose();
}

/**
 * SIRT (as in ASTRA / tomosipo): R = 1/(A·1), C = 1/(Aᵀ·1) (entries whose sum is below
 * 1e-6·voxelSize get 0), x ← clamp(x + C·Aᵀ(R·(y − A·x)), min, max). Deterministic, so
 * restartable: two calls of 10 iterations (the second with x0 = the first result) equal one of 20.
 * Resolves to a new volume ([Z, Y, X], or [Y, X] for a [angles, cols] sinogram of a 2-D operator).
 */
export async function sirt(A: ParallelBeamOperator, y: Tensor, options?: SirtOptions): Promise<Tensor> {
  const run = sirtSteps('tomo.sirt', A, y, options);
  for (let r = run.next(); ; r = run.next()) {
    if (r.done) return r.value;
    await tick();
  }
}

/** Synchronous {@link sirt} (blocks the event loop for the whole run). */
export function sirtSync(A: ParallelBeamOperator, y: Tensor, options?: SirtOptions): Tensor {
  const run = sirtSteps('tomo.sirtSync', A, y, options);
  for (let r = run.next(); ; r = run.next()) if (r.done) return r.value;
}

function* sirtSteps(op: string, A: ParallelBeamOperator, y: Tensor, options?: SirtOptions): Generator<number, Tensor> {
  const o = checkObject(op, 'options', options);
  const c = context(op, A, y, o);
  const n = iterations(op, o, 100);
  const lo = bound(op, 'min', o.min, -Infinity);
  const hi = bound(op, 'max', o.max, Infinity);
  const report = progress(op, o);
  const { be } = c;
  const opt = { dtype: y.dtype, device: y.device };
  const g = A.geometry;
  const sinoShape = y.shape;
  const x = startVolume(c, o.x0);
  const tmp: Tensor[] = [];
  const mk = (shape: readonly number[]) => {
    const t = zeros(shape, opt);
    tmp.push(t);
    return t;
  };
  let ok = false;
  try {
    const eps = 1e-6 * g.voxelSize;
    const ones = ops.fillSync(mk(c.volShape), 1, be);
    const R = A.forwardSync(ones, { ...be, out: mk(sinoShape) });
    small(c, { op: 'recip', x: R, out: R, eps });
    const onesS = ops.fillSync(mk(sinoShape), 1, be);
    const C = A.adjointSync(onesS, { ...be, out: mk(c.volShape) });
    small(c, { op: 'recip', x: C, out: C, eps });
    const ax = mk(sinoShape);
    const bp = mk(c.volShape);
    const clampIt = lo > -Infinity || hi < Infinity;
    for (let k = 1; k <= n; k++) {
      A.forwardSync(x, { ...be, out: ax });
      ops.subSync(y, ax, { ...be, out: ax });
      ops.mulSync(ax, R, { ...be, out: ax });
      A.adjointSync(ax, { ...be, out: bp });
      ops.mulSync(bp, C, { ...be, out: bp });
      ops.addSync(x, bp, { ...be, out: x });
      if (clampIt) ops.clampSync(x, lo, hi, { ...be, out: x });
      report(k, n);
      if (k < n) yield k;
    }
    ok = true;
    return x;
  } finally {
    if (!ok) x.dispose();
    free(tmp);
  }
}

/** CGLS (conjugate gradients on the normal equations AᵀA x = Aᵀy), from x0 or zeros. */
export async function cgls(A: ParallelBeamOperator, y: Tensor, options?: CglsOptions): Promise<Tensor> {
  const op = 'tomo.cgls';
  const o = checkObject(op, 'options', options);
  const c = context(op, A, y, o);
  const n = iterations(op, o, 20);
  const report = progress(op, o);
  const { be } = c;
  const x = startVolume(c, o.x0);
  const tmp: Tensor[] = [];
  try {
    const r = A.forwardSync(x, be);
    tmp.push(r);
    ops.subSync(y, r, { ...be, out: r });
    const s = A.adjointSync(r, be);
    tmp.push(s);
    const p = zeros(s.shape, { dtype: y.dtype, device: y.device });
    tmp.push(p);
    ops.copySync(p, s, be);
    const q = zeros(r.shape, { dtype: y.dtype, device: y.device });
    tmp.push(q);
    let gamma = ops.normSync(s, be) ** 2;
    for (let k = 1; k <= n; k++) {
      if (gamma === 0) {
        report(k, n);
        continue;
      }
      A.forwardSync(p, { ...be, out: q });
      const qq = ops.normSync(q, be) ** 2;
      if (qq === 0) break;
      const alpha = gamma / qq;
      ops.axpySync(alpha, p, x, be);
      ops.axpySync(-alpha, q, r, be);
      A.adjointSync(r, { ...be, out: s });
      const g2 = ops.normSync(s, be) ** 2;
      const beta = g2 / gamma;
      gamma = g2;
      ops.scaleSync(p, beta, { ...be, out: p });
      ops.addSync(p, s, { ...be, out: p });
      report(k, n);
      if (k < n) await tick();
    }
    return x;
  } catch (e) {
    x.dispose();
    throw e;
  } finally {
    free(tmp);
  }
}

/** Σ over detector rows of each slice's interpolation weight (the CSR part of the table). */
function sliceWeights(table: Float64Array, A: number, R: number, Z: number, nnz: number): number[] {
  const off = 5 * A + 4 * R;
  const ent = off + Z + 1;
  const out: number[] = [];
  for (let z = 0; z < Z; z++) {
    let s = 0;
    for (let q = table[off + z]; q < table[off + z + 1]; q++) s += table[ent + 2 * q + 1];
    out.push(s);
  }
  void nnz;
  return out;
}

const FILTERS: readonly FbpFilter[] = ['ram-lak', 'shepp-logan', 'cosine', 'hann'];

/**
 * The circular spatial taps (length N) of the discretised ramp filter (Kak & Slaney: h[0] = 1/4,
 * h[n odd] = −1/(π n)², so H(f) = |f| with the right DC) times the window, for unit spacing.
 */
export function fbpFilterTaps(name: FbpFilter, N: number): Float64Array {
  const buf = new Float64Array(2 * N);
  for (let k = 0; k < N; k++) {
    const n = k <= N / 2 ? k : k - N;
    buf[2 * k] = n === 0 ? 0.25 : n % 2 === 0 ? 0 : -1 / (Math.PI * Math.PI * n * n);
  }
  fft(buf, N, -1);
  for (let k = 0; k < N; k++) {
    const f = (k < Math.ceil(N / 2) ? k : k - N) / N;
    let w = 1;
    if (name === 'shepp-logan') w = f === 0 ? 1 : Math.sin(Math.PI * f) / (Math.PI * f);
    else if (name === 'cosine') w = Math.cos(Math.PI * f);
    else if (name === 'hann') w = 0.5 * (1 + Math.cos(2 * Math.PI * f));
    buf[2 * k] = buf[2 * k] * w; // H is real (h is even)
    buf[2 * k + 1] = 0;
  }
  fft(buf, N, 1);
  const taps = new Float64Array(N);
  for (let k = 0; k < N; k++) taps[k] = buf[2 * k] / N;
  return taps;
}

/**
 * Filtered back-projection: each detector line is convolved with the (windowed) ramp filter
 * along the columns, then back-projected with Aᵀ and scaled by π/(angles·v²) (and, per slice, by
 * 1/Σ of its detector-row weights), so that fbp(A, A·x) ≈ x (assuming the angles cover [0, π)
 * uniformly).
 */
export async function fbp(A: ParallelBeamOperator, y: Tensor, options?: FbpOptions): Promise<Tensor> {
  return fbpSync(A, y, options, 'tomo.fbp');
}

/** Synchronous {@link fbp}. */
export function fbpSync(A: ParallelBeamOperator, y: Tensor, options?: FbpOptions, opName = 'tomo.fbpSync'): Tensor {
  const o = checkObject(opName, 'options', options);
  const c = context(opName, A, y, o);
  const name = (o.filter ?? 'ram-lak') as FbpFilter;
  if (!FILTERS.includes(name)) throw new ReconKernelsError('INVALID_ARGUMENT', `${opName}: filter must be one of ${FILTERS.join(', ')}, got ${describe(o.filter)}`);
  if (o.padding !== undefined && typeof o.padding !== 'boolean') throw new ReconKernelsError('INVALID_ARGUMENT', `${opName}: padding must be a boolean`);
  const g = A.geometry;
  let N = g.U;
  if (o.padding !== false) {
    N = 64;
    while (N < 2 * g.U) N *= 2;
  }
  const taps = fbpFilterTaps(name, N);
  const filt = tensor(taps, { dtype: y.dtype, device: y.device });
  const filtered = zeros(y.shape, { dtype: y.dtype, device: y.device });
  try {
    small(c, { op: 'filter', x: y, out: filtered, filt, N, lines: g.R * g.A });
    const x = A.adjointSync(filtered, c.be);
    const v = g.voxelSize;
    const k = Math.PI / g.A / (v * v);
    // Along Z the transpose sums the rows that interpolate each slice: divide by that sum
    // (1 when rows and slices coincide), so a slice gets the rows' weighted mean.
    const zs = sliceWeights(g.table, g.A, g.R, g.Z, g.nnz);
    if (zs.every((w) => w === zs[0])) {
      ops.scaleSync(x, zs[0] > 0 ? k / zs[0] : 0, { ...c.be, out: x });
    } else {
      const f = new Float64Array(g.Z * g.Y * g.X);
      zs.forEach((w, z) => f.fill(w > 0 ? k / w : 0, z * g.Y * g.X, (z + 1) * g.Y * g.X));
      const ft = tensor(f, { shape: x.shape, dtype: x.dtype, device: x.device });
      try {
        ops.mulSync(x, ft, { ...c.be, out: x });
      } finally {
        ft.dispose();
      }
    }
    return x;
  } finally {
    filt.dispose();
    filtered.dispose();
  }
}

/**
 * TV-regularised reconstruction: minimises ½‖Ax − y‖² + λ·TV(x) with isotropic TV (forward
 * differences without spacing, as the tv family; 2-D when Z = 1, 3-D otherwise) by
 * Chambolle–Pock on K = [A; μ∇] (μ = ‖A‖/√(4·axes longer than 1), which balances the blocks)
 * with τ = σ = 0.99/‖K‖.
 */
export async function tvMin(A: ParallelBeamOperator, y: Tensor, options: TvMinOptions): Promise<Tensor> {
  const op = 'tomo.tvMin';
  const o = checkObject(op, 'options', options);
  const c = context(op, A, y, o);
  if (o.lambda === undefined) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: lambda is required`);
  const lambda = checkNumber(op, 'lambda', o.lambda, { nonNegative: true });
  const n = iterations(op, o, 100);
  const lo = bound(op, 'min', o.min, -Infinity);
  const hi = bound(op, 'max', o.max, Infinity);
  const report = progress(op, o);
  const { be } = c;
  const g = A.geometry;
  const opt = { dtype: y.dtype, device: y.device };
  const normA = o.normA !== undefined ? checkNumber(op, 'normA', o.normA, { positive: true }) : A.normSync({ device: y.device, dtype: y.dtype as 'float32' | 'float64', backend: be.backend });
  // K = [A; μ∇] with μ = ‖A‖/‖∇‖ balances the two blocks (the TV term is (λ/μ)·‖μ∇x‖₁), so
  // both duals move at the same pace: ‖K‖ ≤ √2·‖A‖, τ = σ = 0.99/‖K‖.
  const axes = Math.max(1, [g.Z, g.Y, g.X].filter((s) => s > 1).length);
  const mu = normA / Math.sqrt(4 * axes);
  const L = Math.SQRT2 * normA;
  const tau = 0.99 / L;
  const sigma = 0.99 / L;
  const x = startVolume(c, o.x0);
  const tmp: Tensor[] = [];
  const mk = (shape: readonly number[]) => {
    const t = zeros(shape, opt);
    tmp.push(t);
    return t;
  };
  try {
    const xbar = ops.copySync(mk(c.volShape), x, be);
    const xold = mk(c.volShape);
    const p = mk(y.shape);
    const ts = mk(y.shape);
    const q = mk([3, g.Z, g.Y, g.X]);
    const tv = mk(c.volShape);
    const tv2 = mk(c.volShape);
    const clampIt = lo > -Infinity || hi < Infinity;
    for (let k = 1; k <= n; k++) {
      A.forwardSync(xbar, { ...be, out: ts });
      ops.subSync(ts, y, { ...be, out: ts });
      ops.axpySync(sigma, ts, p, be);
      ops.scaleSync(p, 1 / (1 + sigma), { ...be, out: p });
      small(c, { op: 'tvDual', x: xbar, out: q, sigma: sigma * mu, lambda: lambda / mu, dims: [g.Z, g.Y, g.X] });
      A.adjointSync(p, { ...be, out: tv });
      small(c, { op: 'tvGradT', x: q, out: tv2, dims: [g.Z, g.Y, g.X] });
      ops.axpySync(mu, tv2, tv, be);
      ops.copySync(xold, x, be);
      ops.axpySync(-tau, tv, x, be);
      if (clampIt) ops.clampSync(x, lo, hi, { ...be, out: x });
      ops.scaleSync(x, 2, { ...be, out: xbar });
      ops.axpySync(-1, xold, xbar, be);
      report(k, n);
      if (k < n) await tick();
    }
    return x;
  } catch (e) {
    x.dispose();
    throw e;
  } finally {
    free(tmp);
  }
}
