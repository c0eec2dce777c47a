/**
 * Non-uniform FFTs (types 1 and 2, d = 1, 2, 3) with FINUFFT's conventions, row-major like
 * numpy, on any backend:
 *
 *   type 1 (points → modes):  f[k] = Σ_j c_j·exp(isign·i·k·x_j),   default isign +1
 *   type 2 (modes → points):  c_j = Σ_k f[k]·exp(isign·i·k·x_j),   default isign −1
 *
 * k·x = Σ_a k_a·x_{j,a}; no normalisation (type 2 with −isign is the adjoint of type 1).
 * Points x are real [d, M] in radians, any finite values, periodic with period 2π; modes
 * `[N1, ..., Nd]` pair with point rows 1..d and k_a runs over −⌊N_a/2⌋ … ⌈N_a/2⌉−1 (modeord 0)
 * or FFT order (modeord 1). Mode tensors are [ntransf, N1, ..., Nd], strengths/values
 * [ntransf, M] (the batch axis may be left out when ntransf = 1), complex64 with float32 points
 * or complex128 with float64 points. eps is a relative ℓ2 error target.
 *
 * Kernel: Kaiser–Bessel, width w = ⌈log10(1/eps)⌉ + 1 fine-grid cells at σ = 2 (wider at
 * σ = 1.25; `plan.info` reports w, β and the fine grid). Cost per transform: O(M·w^d) for
 * spreading/interpolation plus one FFT of the σ·N fine grid, plus O(M) per setPoints.
 *
 * @example
 *   using plan = nufft.plan({ type: 1, modes: [256, 256], eps: 1e-6, dtype: 'complex128' });
 *   await plan.setPoints(points);      // float64 [2, M]
 *   const f = await plan.execute(c);   // complex128 [M] → [256, 256]
 */
import type { BackendOptions } from '../backend';
import { ReconKernelsError } from '../errors';
import { fmtShape } from '../shape';
import type { Tensor } from '../tensor';
import { checkObject, checkTensor, describe } from '../validate';
import { NufftPlan, type NufftDType, type NufftExecuteOptions, type NufftPlanOptions } from './plan';

export { NufftPlan, type NufftDType, type NufftExecuteOptions, type NufftPlanInfo, type NufftPlanOptions } from './plan';
export type { NufftKernelInfo, NufftTimings } from './backends';
export { nativeNufftAvailable } from './backends';
export { type NufftVjpResult, type Type2VjpOptions, type1Vjp, type1VjpSync, type2Vjp, type2VjpSync } from './vjp';
export { epsLimit } from './params';

/**
 * Makes a NUFFT plan (kernel choice, fine-grid sizes, deconvolution factors; on the native
 * backend also the FFT plan). Set points with `setPoints`, then `execute` as often as needed.
 *
 * @param options see {@link NufftPlanOptions}: `type` and `modes` are required; eps 1e-6 (or the dtype's limit at upsampfac 1.25),
 *   dtype 'complex64', device 'cpu', ntransf 1, isign +1 (type 1) / −1 (type 2), modeord 0,
 *   upsampfac 2 and gradient false by default.
 * @throws ReconKernelsError INVALID_ARGUMENT (bad option, eps below the dtype's limit — the
 *   message names it), INVALID_DEVICE, BACKEND_UNAVAILABLE (native requested but the addon lacks
 *   the NUFFT; CUDA NUFFT not built yet), CUDA_UNAVAILABLE (a CUDA plan without CUDA).
 */
export function plan(options: NufftPlanOptions): NufftPlan {
  return new NufftPlan(options, 'nufft.plan');
}

/** Options of the one-call helpers {@link type1} and {@link type2}. */
export interface NufftCallOptions extends BackendOptions, NufftExecuteOptions {
  /** Relative ℓ2 error target (default 1e-6; see {@link NufftPlanOptions.eps}). */
  eps?: number;
  isign?: 1 | -1;
  modeord?: 0 | 1;
  upsampfac?: 2 | 1.25;
  /** Fused value + gradient (see {@link NufftPlanOptions.gradient}). */
  gradient?: boolean;
}

const COMPLEX = ['complex64', 'complex128'] as const;

function callOptions(op: string, options: unknown): Record<string, unknown> {
  const o = checkObject(op, 'options', options);
  for (const k of ['type', 'modes', 'ntransf', 'dtype', 'device']) {
    if (o[k] !== undefined) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: option ${k} is taken from the tensors; leave it out`);
  }
  return o;
}

function pointDim(op: string, points: unknown): number {
  const p = checkTensor(op, 'points', points, ['float32', 'float64', 'complex64', 'complex128'], 1);
  if (p.shape.length === 1) return 1;
  if (p.shape.length !== 2 || p.shape[0] < 1 || p.shape[0] > 3) {
    throw new ReconKernelsError('INVALID_SHAPE', `${op}: points have shape ${fmtShape(p.shape)}; expected [d, M] with d = 1, 2 or 3`);
  }
  return p.shape[0];
}

function type1Setup(op: string, points: unknown, c: unknown, modes: unknown, options: unknown): { plan: NufftPlan; points: Tensor; input: Tensor; out?: Tensor } {
  const o = callOptions(op, options);
  const x = checkTensor(op, 'c', c, COMPLEX, 1);
  if (!Array.isArray(modes)) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: modes must be an array [N1, ..., Nd], got ${describe(modes)}`);
  const gradient = o.gradient === true;
  const plainDims = gradient ? 2 : 1;
  const ntransf = x.shape.length === plainDims + 1 ? x.shape[0] : 1;
  const p = plan({ ...(o as object), type: 1, modes: modes as number[], ntransf, dtype: x.dtype as NufftDType, device: x.device } as NufftPlanOptions);
  return { plan: p, points: points as Tensor, input: x, out: o.out as Tensor | undefined };
}

function type2Setup(op: string, points: unknown, f: unknown, options: unknown): { plan: NufftPlan; points: Tensor; input: Tensor; out?: Tensor } {
  const o = callOptions(op, options);
  const d = pointDim(op, points);
  const x = checkTensor(op, 'f', f, COMPLEX, 1);
  let modes: number[], ntransf: number;
  if (x.shape.length === d) {
    modes = [...x.shape];
    ntransf = 1;
  } else if (x.shape.length === d + 1) {
    modes = x.shape.slice(1);
    ntransf = x.shape[0];
  } else {
    throw new ReconKernelsError('INVALID_SHAPE', `${op}: f has shape ${fmtShape(x.shape)}; with ${d}-D points expected [ntransf, N1..N${d}] or [N1..N${d}]`);
  }
  const p = plan({ ...(o as object), type: 2, modes, ntransf, dtype: x.dtype as NufftDType, device: x.device } as NufftPlanOptions);
  return { plan: p, points: points as Tensor, input: x, out: o.out as Tensor | undefined };
}

/**
 * One-call type-1 NUFFT: f[k] = Σ_j c_j·exp(isign·i·k·x_j) (makes a plan, runs it, frees it).
 *
 * @param points real [d, M] radians (float32 with complex64 c, float64 with complex128).
 * @param c complex strengths [ntransf, M] or [M] ([ntransf, 1+d, M] / [1+d, M] with gradient).
 * @param modes [N1, ..., Nd].
 * @returns complex [ntransf, N1..Nd] ([N1..Nd] when c has no batch axis), on c's device.
 * Cost: a plan setup plus one transform; reuse a plan for repeated calls.
 */
export async function type1(points: Tensor, c: Tensor, modes: readonly number[], options?: NufftCallOptions): Promise<Tensor> {
  const s = type1Setup('nufft.type1', points, c, modes, options);
  try {
    await s.plan.setPoints(s.points);
    return await s.plan.execute(s.input, { out: s.out });
  } finally {
    s.plan.dispose();
  }
}

/** Synchronous {@link type1}. */
export function type1Sync(points: Tensor, c: Tensor, modes: readonly number[], options?: NufftCallOptions): Tensor {
  const s = type1Setup('nufft.type1Sync', points, c, modes, options);
  try {
    s.plan.setPointsSync(s.points);
    return s.plan.executeSync(s.input, { out: s.out });
  } finally {
    s.plan.dispose();
  }
}

/**
 * One-call type-2 NUFFT: c_j = Σ_k f[k]·exp(isign·i·k·x_j); modes and ntransf come from f's
 * shape ([ntransf, N1..Nd] or [N1..Nd], d = points.shape[0]).
 *
 * @param points real [d, M] radians (float32 with complex64 f, float64 with complex128).
 * @param f complex modes.
 * @returns complex [ntransf, M] ([M] when f has no batch axis); [ntransf, 1+d, M] with gradient.
 */
export async function type2(points: Tensor, f: Tensor, options?: NufftCallOptions): Promise<Tensor> {
  const s = type2Setup('nufft.type2', points, f, options);
  try {
    await s.plan.setPoints(s.points);
    return await s.plan.execute(s.input, { out: s.out });
  } finally {
    s.plan.dispose();
  }
}

/** Synchronous {@link type2}. */
export function type2Sync(points: Tensor, f: Tensor, options?: NufftCallOptions): Tensor {
  const s = type2Setup('nufft.type2Sync', points, f, options);
  try {
    s.plan.setPointsSync(s.points);
    return s.plan.executeSync(s.input, { out: s.out });
  } finally {
    s.plan.dispose();
  }
}
