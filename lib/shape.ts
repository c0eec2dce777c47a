import { ReconKernelsError } from './errors';

/**
 * Largest element count a tensor may have. Host tensors are bounded by the JS engine's typed
 * array length; device tensors use 64-bit indexing but we keep the same bound so every backend
 * can hold every tensor.
 */
export const MAX_ELEMENTS = 2 ** 32 - 1;

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

/** Validates a shape: non-negative integers, product within {@link MAX_ELEMENTS}. */
export function checkShape(shape: unknown, what: string): number[] {
  if (!Array.isArray(shape)) throw new ReconKernelsError('INVALID_SHAPE', `${what}: shape must be an array of non-negative integers, got ${String(shape)}`);
  let n = 1;
  for (const s of shape) {
    if (!Number.isSafeInteger(s) || s < 0) {
      throw new ReconKernelsError('INVALID_SHAPE', `${what}: shape [${shape.join(', ')}] must hold non-negative integers`);
    }
    n *= s;
  }
  if (n > MAX_ELEMENTS) {
    throw new ReconKernelsError('SIZE_TOO_LARGE', `${what}: shape [${shape.join(', ')}] has ${n} elements, more than the limit ${MAX_ELEMENTS}; split the work into batches`);
  }
  return [...shape];
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function fmtShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}
