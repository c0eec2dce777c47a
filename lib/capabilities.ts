import { type Backend, defaultHostBackend } from './backend';
import { cudaUnavailableReason } from './cuda';
import { type LoadAttempt, loadAddon } from './loader';
import type { NativeBuildInfo, NativeCudaDevice } from './native-types';

/** What this process can run, and why anything it cannot run is missing. */
export interface Capabilities {
  /** Backends that can serve now, fastest first. */
  backends: Backend[];
  /** The backend host tensors use unless told otherwise. */
  defaultHostBackend: 'js' | 'native';
  addon: {
    loaded: boolean;
    /** Path of the loaded .node. */
    path?: string;
    source?: LoadAttempt['source'];
    /** The first load error when nothing loaded. */
    error?: string;
    attempts: LoadAttempt[];
    build?: NativeBuildInfo;
  };
  cuda: {
    /** CUDA code is compiled into the loaded addon. */
    compiled: boolean;
    available: boolean;
    /** Why CUDA is unavailable (empty when available). */
    reason: string;
    runtimeVersion?: number;
    driverVersion?: number;
    devices: NativeCudaDevice[];
  };
  cufft: {
    loaded: boolean;
    /** cufftGetVersion(), e.g. 12000. */
    version?: number;
    path?: string;
    /** dlopen error text when it did not load. */
    error?: string;
    /** Every path or soname tried, in order. */
    searched: string[];
  };
}

/**
 * Reports the backends, the CUDA devices (or why CUDA is unavailable), whether cuFFT loads
 * (and its version, or the dlopen error and the paths searched), and the addon's load errors.
 * Probing cuFFT dlopens it once per process.
 */
export function capabilities(): Capabilities {
  const { addon, loadedFrom, attempts } = loadAddon();
  const cudaInfo = addon?.cudaInfo();
  const cuda: Capabilities['cuda'] = cudaInfo
    ? {
        compiled: cudaInfo.compiled,
        available: cudaInfo.available,
        reason: cudaInfo.available ? '' : cudaUnavailableReason(),
        runtimeVersion: cudaInfo.runtimeVersion,
        driverVersion: cudaInfo.driverVersion,
        devices: cudaInfo.devices,
      }
    : { compiled: false, available: false, reason: cudaUnavailableReason(), devices: [] };
  const cufftInfo = addon?.cufftInfo();
  const cufft: Capabilities['cufft'] = cufftInfo
    ? {
        loaded: cufftInfo.loaded,
        version: cufftInfo.loaded ? cufftInfo.version : undefined,
        path: cufftInfo.loaded ? cufftInfo.path : undefined,
        error: cufftInfo.loaded ? undefined : cufftInfo.error,
        searched: cufftInfo.searched,
      }
    : { loaded: false, error: 'the native addon did not load', searched: [] };
  const backends: Backend[] = [];
  if (cuda.available) backends.push('cuda');
  if (addon) backends.push('native');
  backends.push('js');
  return {
    backends,
    defaultHostBackend: defaultHostBackend(),
    addon: {
      loaded: !!addon,
      path: loadedFrom?.path,
      source: loadedFrom?.source,
      error: addon ? undefined : attempts.find((a) => a.error)?.error,
      attempts,
      build: addon?.buildInfo(),
    },
    cuda,
    cufft,
  };
}
