/**
 * Conjugate gradient on the regularised normal equations (EᴴE + λI)·x = Eᴴ·y, with every vector
 * update on the data's device through lib/array/ops (EᴴE by the operator's `normal`).
 */
import { ReconKernelsError } from '../errors';
import * as ops from '../array/ops';
import type { Tensor } from '../tensor';
import { zeros } from '../tensor';
import type { Encoding } from './encoding';

/** Options of {@link cg}. */
export interface CgOptions {
  /** Iterations (default 10). */
  iterations?: number;
  /** Tikhonov weight λ ≥ 0 (default 0). */
  lambda?: number;
  /** Stop when ‖r‖/‖Eᴴy‖ falls below this (default 0: run all iterations). */
  tol?: number;
  /** Called after each iteration with the iteration number and the relative residual. */
  callback?: (iteration: number, relResidual: number, x: Tensor) => void;
}

const re = (v: number | ops.Complex): number => (typeof v === 'number' ? v : v.re);

/** Synchronous {@link cg}. */
export function cgSync(E: Encoding, kspace: Tensor, options: CgOptions = {}): Tensor {
  const iterations = options.iterations ?? 10, lambda = options.lambda ?? 0, tol = options.tol ?? 0;
  if (!Number.isSafeInteger(iterations) || iterations < 0) throw new ReconKernelsError('INVALID_ARGUMENT', `mri.cg: iterations must be a non-negative integer, got ${iterations}`);
  if (!(lambda >= 0)) throw new ReconKernelsError('INVALID_ARGUMENT', `mri.cg: lambda must be ≥ 0, got ${lambda}`);
  const b = E.adjointSync(kspace);
  const x = zeros(b.shape, { dtype: b.dtype, device: b.device });
  const r = ops.copySync(zeros(b.shape, { dtype: b.dtype, device: b.device }), b);
  const p = ops.copySync(zeros(b.shape, { dtype: b.dtype, device: b.device }), b);
  const bn = ops.normSync(b);
  let rr = bn * bn;
  for (let it = 1; it <= iterations && rr > 0; it++) {
    const Ap = E.normalSync(p);
    if (lambda > 0) ops.axpySync(lambda, p, Ap);
    const pAp = re(ops.dotSync(p, Ap));
    const alpha = rr / pAp;
    ops.axpySync(alpha, p, x);
    ops.axpySync(-alpha, Ap, r);
    Ap.dispose();
    const rrNew = ops.normSync(r) ** 2;
    const rel = Math.sqrt(rrNew) / bn;
    options.callback?.(it, rel, x);
    if (rel < tol) break;
    ops.scaleSync(p, rrNew / rr, { out: p });
    ops.axpySync(1, r, p);
    rr = rrNew;
  }
  b.dispose();
  r.dispose();
  p.dispose();
  return x;
}

/**
 * Reconstructs x from k-space y by CG on (EᴴE + λI)x = Eᴴy, starting from 0.
 *
 * @returns the image [...lead, N1..Nd] in the operator's dtype, on its device.
 */
export async function cg(E: Encoding, kspace: Tensor, options: CgOptions = {}): Promise<Tensor> {
  return cgSync(E, kspace, options);
}
