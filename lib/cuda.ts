import { ReconKernelsError } from './errors';
import { loadAddon } from './loader';

/** Why CUDA cannot serve, in one sentence that says what to do about it. */
export function cudaUnavailableReason(): string {
  const { addon, attempts } = loadAddon();
  if (!addon) {
    const why = attempts.map((a) => `${a.source} ${a.path}: ${a.error}`).join('; ');
    return `the native addon did not load (${why}); rebuild it with 'npm run build:native' on a machine with nvcc`;
  }
  const info = addon.cudaInfo();
  if (!info.compiled) return "the addon was built without CUDA (nvcc was not found at build time); rebuild with 'npm run build:native' where nvcc is on PATH";
  if (!info.available) return info.reason;
  return '';
}

export function cudaUnavailableError(): ReconKernelsError {
  return new ReconKernelsError('CUDA_UNAVAILABLE', `CUDA is unavailable: ${cudaUnavailableReason()}`);
}
