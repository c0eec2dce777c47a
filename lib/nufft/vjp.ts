/**
 * Vector–Jacobian products of the NUFFTs for autodiff, with complex gradients in PyTorch's
 * convention: for a real loss L and a complex z, grad z = ∂L/∂Re z + i·∂L/∂Im z, so that
 * dL = Re Σ conj(grad z)·dz. gradOut is given in the same convention.
 *
 * Derivation (A = the forward map, k·x = Σ_a k_a·x_{j,a}, s = the plan's isign):
 *
 * Type 1, f = A c with A[k, j] = exp(s·i·k·x_j):
 *   ∂L/∂c = Aᴴ·g, i.e. (∂L/∂c)_j = Σ_k g[k]·exp(−s·i·k·x_j): a type 2 with sign −s.
 *   ∂f[k]/∂x_{j,a} = c_j·(s·i·k_a)·exp(s·i·k·x_j), so
 *   ∂L/∂x_{j,a} = Re Σ_k conj(g[k])·c_j·(s·i·k_a)·exp(s·i·k·x_j) = Re(c_j·conj(r_{j,a}))
 *   with r_{j,a} = Σ_k g[k]·(−s·i·k_a)·exp(−s·i·k·x_j), the derivative row a of that same
 *   type 2 (sign −s) in its fused-gradient form. Cost: one fused type 2.
 *
 * Type 2, c = B f with B[j, k] = exp(s·i·k·x_j):
 *   ∂L/∂f = Bᴴ·g: a type 1 with sign −s on g.
 *   ∂c_j/∂x_{j,a} = r_{j,a} (row 1+a of the fused type 2 with sign s on f), so
 *   ∂L/∂x_{j,a} = Re(conj(g_j)·r_{j,a}). Cost: one type 1, plus one fused type 2 unless the
 *   forward's gradient rows are passed in (opts.forwardRows).
 *
 * With ntransf > 1 the point gradients are summed over the transforms.
 */
import { ReconKernelsError } from '../errors';
import type { HostArray } from '../dtype';
import { fmtShape, sameShape } from '../shape';
import { Tensor, zeros } from '../tensor';
import { checkObject, checkTensor } from '../validate';
import { checkPlan, type NufftPlan } from './plan';

/** Gradients with respect to a NUFFT's inputs. */
export interface NufftVjpResult {
  /** ∂L/∂(input data): same shape, dtype and device as the data passed in (complex). */
  data: Tensor;
  /** ∂L/∂(point coordinates): real [d, M], the plan's real dtype, per radian. */
  points: Tensor;
}

/** Options of {@link type2Vjp}. */
export interface Type2VjpOptions {
  /**
   * The gradient rows of the forward (the output of a `gradient: true` type 2 plan with the same
   * points, isign and f): [ntransf, 1+d, M] ([1+d, M] when ntransf = 1). Saves one fused type 2.
   */
  forwardRows?: Tensor;
}

const COMPLEX = ['complex64', 'complex128'] as const;

interface Checked {
  plan: NufftPlan;
  data: Tensor;
  gradOut: Tensor;
  rows?: Tensor;
}

function matchShape(op: string, name: string, t: Tensor, full: number[], ntransf: number): void {
  if (sameShape(t.shape, full) || (ntransf === 1 && sameShape(t.shape, full.slice(1)))) return;
  throw new ReconKernelsError('INVALID_SHAPE', `${op}: ${name} has shape ${fmtShape(t.shape)}; expected ${fmtShape(full)}${ntransf === 1 ? ` or ${fmtShape(full.slice(1))}` : ''}`);
}

function check(op: string, type: 1 | 2, plan: unknown, data: unknown, gradOut: unknown, options?: unknown): Checked {
  const p = checkPlan(op, plan);
  const o = p.options;
  if (o.type !== type) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: the plan is type ${o.type}; use type${o.type}Vjp`);
  if (o.gradient) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: pass the plain plan of the forward (gradient: false); the VJP makes its own gradient plans`);
  if (!p.pointsData) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: the plan has no points; call setPoints(points) first`);
  const named = type === 1 ? 'c' : 'f';
  const x = checkTensor(op, named, data, COMPLEX);
  const g = checkTensor(op, 'gradOut', gradOut, COMPLEX);
  for (const [n, t] of [[named, x], ['gradOut', g]] as const) {
    if (t.dtype !== o.dtype) throw new ReconKernelsError('INVALID_DTYPE', `${op}: ${n} has dtype ${t.dtype}, but the plan is ${o.dtype}`);
    if (t.device !== o.device) throw new ReconKernelsError('DEVICE_MISMATCH', `${op}: ${n} is on ${t.device} but the plan is for ${o.device}`);
  }
  matchShape(op, named, x, p.inputShape, o.ntransf);
  matchShape(op, 'gradOut', g, p.outputShape, o.ntransf);
  const oo = checkObject(op, 'options', options);
  let rows: Tensor | undefined;
  if (oo.forwardRows !== undefined) {
    rows = checkTensor(op, 'forwardRows', oo.forwardRows, COMPLEX);
    if (rows.dtype !== o.dtype) throw new ReconKernelsError('INVALID_DTYPE', `${op}: forwardRows has dtype ${rows.dtype}, but the plan is ${o.dtype}`);
    if (rows.device !== o.device) throw new ReconKernelsError('DEVICE_MISMATCH', `${op}: forwardRows is on ${rows.device} but the plan is for ${o.device}`);
    matchShape(op, 'forwardRows', rows, [o.ntransf, 1 + o.modes.length, p.info.M], o.ntransf);
  }
  return { plan: p, data: x, gradOut: g, rows };
}

/**
 * ∂L/∂x[a, j] = Σ_t Re(conj(u_{t,j})·r_{t,1+a,j}) = Σ_t (u_re·r_re + u_im·r_im), from complex
 * u [ntransf, M] and rows r [ntransf, 1+d, M].
 */
function pointGrad(plan: NufftPlan, u: HostArray, rows: HostArray): Tensor {
  const o = plan.options, d = o.modes.length, M = plan.info.M, nt = o.ntransf;
  const out = zeros([d, M], { dtype: o.dtype === 'complex64' ? 'float32' : 'float64' });
  const g = out.hostData('points gradient');
  const acc = new Float64Array(M);
  for (let a = 0; a < d; a++) {
    acc.fill(0);
    for (let t = 0; t < nt; t++) {
      const ub = 2 * t * M, rb = 2 * (t * (1 + d) + 1 + a) * M;
      for (let j = 0; j < M; j++) acc[j] += u[ub + 2 * j] * rows[rb + 2 * j] + u[ub + 2 * j + 1] * rows[rb + 2 * j + 1];
    }
    g.set(acc, a * M);
  }
  return onPlanDevice(plan, out);
}

/**
 * The combination of rows runs on the host; on a CUDA plan its inputs are downloaded and the
 * result uploaded (one round trip per VJP; the transforms themselves stay on the device).
 */
function hostOf(t: Tensor, what: string): HostArray {
  return t.device === 'cpu' ? t.hostData(what) : t.toArraySync();
}

function onPlanDevice(plan: NufftPlan, host: Tensor): Tensor {
  if (plan.options.device === 'cpu') return host;
  const t = host.toSync(plan.options.device);
  host.dispose();
  return t;
}

/** Row 0 of fused-gradient rows [ntransf, 1+d, M], as a tensor of `shape`. */
function rowZero(plan: NufftPlan, rows: HostArray, shape: readonly number[]): Tensor {
  const o = plan.options, d = o.modes.length, M = plan.info.M;
  const out = zeros(shape, { dtype: o.dtype });
  const h = out.hostData('gradient');
  for (let t = 0; t < o.ntransf; t++) h.set(rows.subarray(2 * t * (1 + d) * M, 2 * (t * (1 + d) + 1) * M), 2 * t * M);
  return onPlanDevice(plan, out);
}

const T1_KEY = 'vjp:type2-gradient(-isign)';
const T2_ADJ_KEY = 'vjp:type1(-isign)';
const T2_ROWS_KEY = 'vjp:type2-gradient(isign)';

function t1Overrides(plan: NufftPlan) {
  return { type: 2 as const, isign: (-plan.options.isign) as 1 | -1, gradient: true };
}

function finishType1(c: Checked, rows: Tensor): NufftVjpResult {
  try {
    const r = hostOf(rows, 'rows');
    return { data: rowZero(c.plan, r, c.data.shape), points: pointGrad(c.plan, hostOf(c.data, 'c'), r) };
  } finally {
    rows.dispose();
  }
}

function finishType2(c: Checked, adj: Tensor, rows: Tensor, ownRows: boolean): NufftVjpResult {
  try {
    const data = sameShape(adj.shape, c.data.shape) ? adj : adj.reshape(c.data.shape);
    return { data, points: pointGrad(c.plan, hostOf(c.gradOut, 'gradOut'), hostOf(rows, 'rows')) };
  } finally {
    if (ownRows) rows.dispose();
  }
}

/**
 * VJP of a type-1 NUFFT f = type1(c) at the plan's points.
 *
 * @param plan a plain (gradient: false) type-1 plan with its points set — the forward's plan.
 * @param c the forward's strengths: complex [ntransf, M] ([M] when ntransf = 1).
 * @param gradOut ∂L/∂f in PyTorch's convention: complex [ntransf, N1..Nd] ([N1..Nd] when ntransf = 1).
 * @returns `data` = ∂L/∂c (c's shape) and `points` = ∂L/∂x, real [d, M] per radian.
 * Cost: one fused type-2 NUFFT (sign −isign) on gradOut, with a helper plan made on first use and
 * kept on `plan` (re-pointed after each setPoints, freed with the plan).
 */
export async function type1Vjp(plan: NufftPlan, c: Tensor, gradOut: Tensor): Promise<NufftVjpResult> {
  const k = check('nufft.type1Vjp', 1, plan, c, gradOut);
  const helper = await k.plan.helper(T1_KEY, t1Overrides(k.plan), false);
  return finishType1(k, await helper.execute(k.gradOut));
}

/** Synchronous {@link type1Vjp}. */
export function type1VjpSync(plan: NufftPlan, c: Tensor, gradOut: Tensor): NufftVjpResult {
  const k = check('nufft.type1VjpSync', 1, plan, c, gradOut);
  const helper = k.plan.helper(T1_KEY, t1Overrides(k.plan), true) as NufftPlan;
  return finishType1(k, helper.executeSync(k.gradOut));
}

/**
 * VJP of a type-2 NUFFT c = type2(f) at the plan's points.
 *
 * @param plan a plain (gradient: false) type-2 plan with its points set — the forward's plan.
 * @param f the forward's modes: complex [ntransf, N1..Nd] ([N1..Nd] when ntransf = 1).
 * @param gradOut ∂L/∂c in PyTorch's convention: complex [ntransf, M] ([M] when ntransf = 1).
 * @param opts.forwardRows the forward's gradient rows, when the forward ran with gradient: true.
 * @returns `data` = ∂L/∂f (f's shape) and `points` = ∂L/∂x, real [d, M] per radian.
 * Cost: one type-1 NUFFT (sign −isign) on gradOut, plus one fused type 2 (sign isign) on f
 * unless `forwardRows` is given. Helper plans are kept on `plan` and freed with it.
 */
export async function type2Vjp(plan: NufftPlan, f: Tensor, gradOut: Tensor, opts?: Type2VjpOptions): Promise<NufftVjpResult> {
  const k = check('nufft.type2Vjp', 2, plan, f, gradOut, opts);
  const isign = k.plan.options.isign;
  const adjPlan = await k.plan.helper(T2_ADJ_KEY, { type: 1, isign: (-isign) as 1 | -1, gradient: false }, false);
  const adj = await adjPlan.execute(k.gradOut);
  let rows = k.rows;
  if (!rows) {
    const rowPlan = await k.plan.helper(T2_ROWS_KEY, { type: 2, isign, gradient: true }, false);
    rows = await rowPlan.execute(k.data);
  }
  return finishType2(k, adj, rows, !k.rows);
}

/** Synchronous {@link type2Vjp}. */
export function type2VjpSync(plan: NufftPlan, f: Tensor, gradOut: Tensor, opts?: Type2VjpOptions): NufftVjpResult {
  const k = check('nufft.type2VjpSync', 2, plan, f, gradOut, opts);
  const isign = k.plan.options.isign;
  const adjPlan = k.plan.helper(T2_ADJ_KEY, { type: 1, isign: (-isign) as 1 | -1, gradient: false }, true) as NufftPlan;
  const adj = adjPlan.executeSync(k.gradOut);
  const rows = k.rows ?? (k.plan.helper(T2_ROWS_KEY, { type: 2, isign, gradient: true }, true) as NufftPlan).executeSync(k.data);
  return finishType2(k, adj, rows, !k.rows);
}

export { Tensor };
