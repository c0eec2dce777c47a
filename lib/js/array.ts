/**
 * Array ops on host data in plain TypeScript (the js backend). Semantics match
 * cuda/array_ops.h: n counts elements, complex data is interleaved (re, im), reductions
 * accumulate in float64.
 */
import type { HostArray } from '../dtype';

/** Op codes shared with the addon (cuda/array_ops.h, enum ArrayOp). */
export const ARRAY_OP = {
  fill: 0, copy: 1, add: 2, sub: 3, mul: 4, scale: 5, axpy: 6, clamp: 7, sum: 8, dot: 9, norm: 10,
} as const;
export type ArrayOpName = keyof typeof ARRAY_OP;

export interface JsArrayOpArgs {
  op: ArrayOpName;
  complex: boolean;
  n: number;
  alpha: number;
  beta: number;
  a?: HostArray;
  b?: HostArray;
  out?: HostArray;
}

/** Runs one op; returns [re, im] for reductions (im 0 for real data), else [0, 0]. */
export function arrayOpJs(args: JsArrayOpArgs): [number, number] {
  const { op, complex, alpha, beta } = args;
  const a = args.a!;
  const b = args.b!;
  const out = args.out!;
  const m = args.n * (complex ? 2 : 1);
  switch (op) {
    case 'fill':
      if (complex) {
        for (let i = 0; i < m; i += 2) {
          out[i] = alpha;
          out[i + 1] = beta;
        }
      } else out.fill(alpha);
      return [0, 0];
    case 'copy':
      if (out !== a) out.set(a.subarray(0, m));
      return [0, 0];
    case 'add':
      for (let i = 0; i < m; i++) out[i] = a[i] + b[i];
      return [0, 0];
    case 'sub':
      for (let i = 0; i < m; i++) out[i] = a[i] - b[i];
      return [0, 0];
    case 'mul':
      if (complex) {
        for (let i = 0; i < m; i += 2) {
          const ar = a[i], ai = a[i + 1], br = b[i], bi = b[i + 1];
          out[i] = ar * br - ai * bi;
          out[i + 1] = ar * bi + ai * br;
        }
      } else for (let i = 0; i < m; i++) out[i] = a[i] * b[i];
      return [0, 0];
    case 'scale':
      if (complex) {
        for (let i = 0; i < m; i += 2) {
          const ar = a[i], ai = a[i + 1];
          out[i] = alpha * ar - beta * ai;
          out[i + 1] = alpha * ai + beta * ar;
        }
      } else for (let i = 0; i < m; i++) out[i] = alpha * a[i];
      return [0, 0];
    case 'axpy':
      if (complex) {
        for (let i = 0; i < m; i += 2) {
          const ar = a[i], ai = a[i + 1];
          out[i] = alpha * ar - beta * ai + b[i];
          out[i + 1] = alpha * ai + beta * ar + b[i + 1];
        }
      } else for (let i = 0; i < m; i++) out[i] = alpha * a[i] + b[i];
      return [0, 0];
    case 'clamp':
      for (let i = 0; i < m; i++) {
        const x = a[i];
        out[i] = x < alpha ? alpha : x > beta ? beta : x;
      }
      return [0, 0];
    case 'sum': {
      let re = 0, im = 0;
      if (complex) {
        for (let i = 0; i < m; i += 2) {
          re += a[i];
          im += a[i + 1];
        }
      } else for (let i = 0; i < m; i++) re += a[i];
      return [re, im];
    }
    case 'dot': {
      let re = 0, im = 0;
      if (complex) {
        for (let i = 0; i < m; i += 2) {
          const ar = a[i], ai = a[i + 1], br = b[i], bi = b[i + 1];
          re += ar * br + ai * bi;
          im += ar * bi - ai * br;
        }
      } else for (let i = 0; i < m; i++) re += a[i] * b[i];
      return [re, im];
    }
    case 'norm': {
      let s = 0;
      for (let i = 0; i < m; i++) s += a[i] * a[i];
      return [Math.sqrt(s), 0];
    }
  }
}
