import { ReconKernelsError } from './errors';
import type { DType } from './dtype';
import { fmtShape } from './shape';
import { Tensor } from './tensor';

/** Checks that `value` is a live Tensor of one of `dtypes` with at least `minDims` axes. */
export function checkTensor(op: string, name: string, value: unknown, dtypes: readonly DType[], minDims = 0): Tensor {
  if (!(value instanceof Tensor)) {
    throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: ${name} must be a Tensor (make one with tensor() or zeros()), got ${describe(value)}`);
  }
  if (value.disposed) throw new ReconKernelsError('DISPOSED', `${op}: ${name} was disposed; it can no longer be used`);
  if (!dtypes.includes(value.dtype)) {
    throw new ReconKernelsError('INVALID_DTYPE', `${op}: ${name} has dtype ${value.dtype}; expected ${dtypes.join(' or ')}`);
  }
  if (value.shape.length < minDims) {
    throw new ReconKernelsError('INVALID_SHAPE', `${op}: ${name} has shape ${fmtShape(value.shape)}; expected at least ${minDims} axes`);
  }
  return value;
}

/** A finite number (optionally > 0 or >= 0). */
export function checkNumber(op: string, name: string, value: unknown, opts: { positive?: boolean; nonNegative?: boolean } = {}): number {
  if (typeof value !== 'number') {
    throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: ${name} must be a number, got ${describe(value)}`);
  }
  if (!Number.isFinite(value)) throw new ReconKernelsError('NON_FINITE', `${op}: ${name} must be finite, got ${value}`);
  if (opts.positive && !(value > 0)) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: ${name} must be > 0, got ${value}`);
  if (opts.nonNegative && !(value >= 0)) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: ${name} must be >= 0, got ${value}`);
  return value;
}

/** Exactly `n` finite numbers. */
export function checkNumbers(op: string, name: string, value: unknown, n: number): number[] {
  if (!Array.isArray(value) && !ArrayBuffer.isView(value)) {
    throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: ${name} must be an array of ${n} numbers, got ${describe(value)}`);
  }
  const arr = Array.from(value as ArrayLike<unknown>);
  if (arr.length !== n) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: ${name} must hold ${n} numbers, got ${arr.length}`);
  return arr.map((v, i) => checkNumber(op, `${name}[${i}]`, v));
}

export function checkObject(op: string, name: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object') {
    throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: ${name} must be an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Tensor) return value.toString();
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}
