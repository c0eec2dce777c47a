import { ReconKernelsError } from './errors';

/** Element types. Complex data is interleaved (re, im) in a real array of twice the length. */
export type DType = 'float32' | 'float64' | 'complex64' | 'complex128';

/** The host storage behind a tensor of a dtype. */
export type HostArray = Float32Array | Float64Array;

export const DTYPES: readonly DType[] = ['float32', 'float64', 'complex64', 'complex128'];

/** Real scalars per element: 2 for complex dtypes. */
export function scalarsPerElement(dtype: DType): 1 | 2 {
  return dtype === 'complex64' || dtype === 'complex128' ? 2 : 1;
}

export function isComplex(dtype: DType): boolean {
  return scalarsPerElement(dtype) === 2;
}

/** The real scalar type underneath a dtype. */
export function realDType(dtype: DType): 'float32' | 'float64' {
  return dtype === 'float32' || dtype === 'complex64' ? 'float32' : 'float64';
}

export function bytesPerScalar(dtype: DType): 4 | 8 {
  return realDType(dtype) === 'float32' ? 4 : 8;
}

export function allocHost(dtype: DType, elements: number): HostArray {
  const n = elements * scalarsPerElement(dtype);
  return realDType(dtype) === 'float32' ? new Float32Array(n) : new Float64Array(n);
}

export function checkDType(value: unknown, what: string): DType {
  if (typeof value === 'string' && (DTYPES as readonly string[]).includes(value)) return value as DType;
  throw new ReconKernelsError('INVALID_DTYPE', `${what}: unknown dtype ${JSON.stringify(value)}; use one of ${DTYPES.join(', ')}`);
}
