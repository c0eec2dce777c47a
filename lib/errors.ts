/**
 * Machine-readable reasons an operation can fail. Every error thrown or rejected by this
 * library is a {@link ReconKernelsError} carrying one of these codes.
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_DTYPE'
  | 'INVALID_SHAPE'
  | 'INVALID_DEVICE'
  | 'DEVICE_MISMATCH'
  | 'DTYPE_MISMATCH'
  | 'DISPOSED'
  | 'SIZE_TOO_LARGE'
  | 'NON_FINITE'
  | 'BACKEND_UNAVAILABLE'
  | 'CUDA_UNAVAILABLE'
  | 'CUFFT_UNAVAILABLE'
  | 'CUDA_ERROR'
  | 'OUT_OF_MEMORY'
  | 'NATIVE_ERROR';

/** The one error type of the library: `code` says what went wrong, the message how to fix it. */
export class ReconKernelsError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReconKernelsError';
    this.code = code;
  }
}

const KNOWN_CODES = new Set<string>([
  'INVALID_ARGUMENT', 'INVALID_DTYPE', 'INVALID_SHAPE', 'INVALID_DEVICE', 'DEVICE_MISMATCH',
  'DTYPE_MISMATCH', 'DISPOSED', 'SIZE_TOO_LARGE', 'NON_FINITE', 'BACKEND_UNAVAILABLE',
  'CUDA_UNAVAILABLE', 'CUFFT_UNAVAILABLE', 'CUDA_ERROR', 'OUT_OF_MEMORY', 'NATIVE_ERROR',
]);

/** Turns whatever the addon threw (an Error with a string `code`) into a ReconKernelsError. */
export function fromNativeError(e: unknown): ReconKernelsError {
  if (e instanceof ReconKernelsError) return e;
  const err = e as { code?: unknown; message?: unknown };
  const code = typeof err?.code === 'string' && KNOWN_CODES.has(err.code) ? (err.code as ErrorCode) : 'NATIVE_ERROR';
  const message = typeof err?.message === 'string' ? err.message : String(e);
  return new ReconKernelsError(code, message, { cause: e });
}
