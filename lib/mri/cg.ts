/**
 * Conjugate gradient on the regularised normal equations (EᴴE + λI)·x = Eᴴ·y. Every vector lives
 * on the operator's device for the whole solve (EᴴE by the operator's `normal`, updates and
 * reductions by lib/array/ops); only the scalars ‖r‖² and ⟨p, Ap⟩ come back to the host.
 */
import * as ops from '../array/ops';
import { ReconKernelsError } from '../errors';
import { type Tensor, zeros } from '../tensor';
import type { Encoding } from './encoding';
import { drive } from './util';

/** Options of {@link cg}. */
export interface CgOptions {
  /** Iterations (default 10). */
  iterations?: number;
  /** Tikhonov weight λ ≥ 0 (default 0). */
  lambda?: number;
  /** Stop when ‖r‖/‖Eᴴy‖ falls below this (default 0: run all iterations). */
  tol?: number;
  /** Called after each iteration with the iteration number, the relative residual and the iterate (on the device; do not dispose it). */
  callback?: (iteration: number, relResidual: number, x: Tensor) => void;
}

const re = (v: number | ops.Complex): number => (typeof v === 'number' ? v : v.re);

function* cgSteps(E: Encoding, kspace: Tensor, options: CgOptions, sync: boolean): Generator<unknown, Tensor, unknown> {
  const iterations = options.iterations ?? 10, lambda = options.lambda ?? 0, tol = options.tol ?? 0;
  if (!Number.isSafeInteger(iterations) || iterations < 0) throw new ReconKernelsError('INVALID_ARGUMENT', `mri.cg: iterations must be a non-negative integer, got ${iterations}`);
  if (!(lambda >= 0) || !Number.isFinite(lambda)) throw new ReconKernelsError('INVALID_ARGUMENT', `mri.cg: lambda must be a finite number ≥ 0, got ${lambda}`);
  if (!(tol >= 0)) throw new ReconKernelsError('INVALID_ARGUMENT', `mri.cg: tol must be ≥ 0, got ${tol}`);
  const o = sync
    ? { normal: (t: Tensor) => E.normalSync(t), copy: ops.copySync, axpy: ops.axpySync, dot: ops.dotSync, norm: ops.normSync }
    : { normal: (t: Tensor) => E.normal(t), copy: ops.copy, axpy: ops.axpy, dot: ops.dot, norm: ops.norm };
  const b = (yield sync ? E.adjointSync(kspace) : E.adjoint(kspace)) as Tensor;
  const like = { dtype: b.dtype, device: b.device };
  const live: Tensor[] = [b];
  const x = zeros(b.shape, like);
  let ok = false;
  try {
    const r = zeros(b.shape, like), p = zeros(b.shape, like);
    live.push(r, p);
    yield o.copy(r, b);
    yield o.copy(p, b);
    const bn = (yield o.norm(b)) as number;
    let rr = bn * bn;
    for (let it = 1; it <= iterations && rr > 0; it++) {
      const Ap = (yield o.normal(p)) as Tensor;
      let pAp: number;
      try {
        if (lambda > 0) yield o.axpy(lambda, p, Ap);
        pAp = re((yield o.dot(p, Ap)) as number | ops.Complex);
        if (!(pAp > 0)) break;  // p = 0 to rounding: nothing left to gain
        const alpha = rr / pAp;
        yield o.axpy(alpha, p, x);
        yield o.axpy(-alpha, Ap, r);
      } finally {
        Ap.dispose();
      }
      const rn = (yield o.norm(r)) as number;
      const rrNew = rn * rn, rel = rn / bn;
      options.callback?.(it, rel, x);
      if (rel < tol) break;
      // p ← r + β·p in one pass (out aliases an input element for element)
      yield o.axpy(rrNew / rr, p, r, { out: p });
      rr = rrNew;
    }
    ok = true;
    return x;
  } finally {
    if (!ok) x.dispose();
    for (const t of live) t.dispose();
  }
}

/** Synchronous {@link cg}. */
export function cgSync(E: Encoding, kspace: Tensor, options: CgOptions = {}): Tensor {
  return drive(true, () => cgSteps(E, kspace, options, true));
}

/**
 * Reconstructs x from k-space y by CG on (EᴴE + λI)x = Eᴴy, starting from 0, on the operator's
 * device (one `normal` and a few array ops per iteration; `toeplitz: true` makes `normal` cheap).
 *
 * @param kspace [...lead, C, M] as {@link Encoding.adjoint} takes it.
 * @returns the image [...lead, N1..Nd] in the operator's dtype, on its device.
 */
export function cg(E: Encoding, kspace: Tensor, options: CgOptions = {}): Promise<Tensor> {
  return drive(false, () => cgSteps(E, kspace, options, false));
}
