import { cudaUnavailableError } from './cuda';
import { cudaIndex, type Device } from './device';
import { ReconKernelsError, fromNativeError as fromNative } from './errors';
import { loadAddon } from './loader';
import type { NativeAddon } from './native-types';
import type { Tensor } from './tensor';

/** The three implementations of every kernel family. */
export type Backend = 'cuda' | 'native' | 'js';

/** Chooses a host backend; CUDA tensors always run on 'cuda'. */
export interface BackendOptions {
  /** Force the backend for host tensors; overrides RECON_KERNELS_BACKEND. */
  backend?: 'js' | 'native';
}

export interface Dispatch {
  backend: Backend;
  device: Device;
  /** The addon, when backend is 'native' or 'cuda'. */
  addon: NativeAddon | null;
}

function hostBackendFromEnv(): 'js' | 'native' | undefined {
  const env = process.env.RECON_KERNELS_BACKEND;
  if (env === undefined || env === '' || env === 'auto') return undefined;
  if (env === 'js' || env === 'native') return env;
  throw new ReconKernelsError('INVALID_ARGUMENT', `RECON_KERNELS_BACKEND=${env} is not a host backend; use 'js', 'native' or 'auto'`);
}

/** The backend host tensors run on by default: native when the addon loaded, else js. */
export function defaultHostBackend(): 'js' | 'native' {
  return hostBackendFromEnv() ?? (loadAddon().addon ? 'native' : 'js');
}

/**
 * Where an op on these tensors runs: on their CUDA device if they live on one (all must share
 * it), otherwise on the forced or default host backend.
 */
export function resolveBackend(op: string, tensors: Record<string, Tensor | undefined>, options: BackendOptions = {}): Dispatch {
  let device: Device | undefined;
  let first = '';
  for (const [name, t] of Object.entries(tensors)) {
    if (!t) continue;
    if (t.disposed) throw new ReconKernelsError('DISPOSED', `${op}: ${name} was disposed; it can no longer be used`);
    if (device === undefined) {
      device = t.device;
      first = name;
    } else if (t.device !== device) {
      throw new ReconKernelsError('DEVICE_MISMATCH', `${op}: ${name} is on ${t.device} but ${first} is on ${device}; move them to one device with .to()`);
    }
  }
  device ??= 'cpu';
  const { addon, attempts } = loadAddon();
  if (device !== 'cpu') {
    if (options.backend !== undefined) {
      throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: backend '${options.backend}' runs on host tensors, but the inputs are on ${device}`);
    }
    if (!addon || !addon.cudaInfo().available) throw cudaUnavailableError();
    if (cudaIndex(device) >= addon.cudaInfo().devices.length) throw new ReconKernelsError('INVALID_DEVICE', `${op}: ${device} does not exist`);
    return { backend: 'cuda', device, addon };
  }
  const requested = options.backend ?? hostBackendFromEnv();
  if (requested !== undefined && requested !== 'js' && requested !== 'native') {
    throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: backend ${JSON.stringify(requested)} is not a host backend; use 'js' or 'native'`);
  }
  const backend = requested ?? (addon ? 'native' : 'js');
  if (backend === 'native' && !addon) {
    const why = attempts.map((a) => `${a.path}: ${a.error}`).join('; ');
    throw new ReconKernelsError('BACKEND_UNAVAILABLE', `${op}: the native backend was requested but the addon did not load (${why})`);
  }
  return { backend, device: 'cpu', addon: backend === 'native' ? addon : null };
}

/** Runs a native call in its sync or async form and maps its errors to ReconKernelsError. */
export function callNative<R, T>(sync: boolean, call: (sync: boolean) => R | Promise<R>, finish: (r: R) => T): T | Promise<T> {
  if (sync) {
    let r: R;
    try {
      r = call(true) as R;
    } catch (e) {
      throw fromNative(e);
    }
    return finish(r);
  }
  let p: Promise<R>;
  try {
    p = call(false) as Promise<R>;
  } catch (e) {
    return Promise.reject(fromNative(e));
  }
  return p.then(finish, (e) => Promise.reject(fromNative(e)));
}


/**
 * Runs `f` and returns its result as a Promise; a synchronous throw (validation, a sync native
 * failure) becomes a rejection, so a Promise API never throws at the call site.
 */
export function promiseOf<T>(f: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(f());
  } catch (e) {
    return Promise.reject(e);
  }
}
