/**
 * Backend adapters behind {@link NufftPlan}: one small interface ({@link NufftImpl}) served by the
 * pure-TypeScript core (js), the addon's NufftPlan object on the host (native) and on a GPU (cuda).
 * Everything here works on raw interleaved host arrays; validation happens in plan.ts.
 */
import type { Backend } from '../backend';
import { callNative, resolveBackend } from '../backend';
import { cudaUnavailableError } from '../cuda';
import { cudaIndex, type Device } from '../device';
import type { HostArray } from '../dtype';
import { ReconKernelsError, fromNativeError } from '../errors';
import { JsNufftCore } from '../js/nufft-core';
import { loadAddon } from '../loader';
import type { NativeAddon, NativeNufftOptions, NativeNufftPlan, NativeStorage } from '../native-types';
import { MAX_ELEMENTS } from '../shape';

/** Kernel and grid parameters every backend reports. */
export interface NufftKernelInfo {
  /** Kernel width w in fine-grid cells (includes the gradient increase). */
  width: number;
  /** Kaiser–Bessel shape parameter β. */
  beta: number;
  /** Upsampling factor σ: the fine grid is about σ·N per axis. */
  upsampfac: number;
  /** Fine (oversampled) grid size per axis, [n1..nd]. */
  fineGrid: number[];
  /** Width added so that gradient rows meet eps (0 for plain plans). */
  gradientWidthIncrease: number;
}

/**
 * Milliseconds spent in the phases of the latest setPoints (sortMs) and execute (the rest).
 * The native backend measures each phase; the js backend measures only sortMs and totalMs and
 * reports NaN for the phases it does not time separately.
 */
export interface NufftTimings {
  sortMs: number;
  spreadMs: number;
  fftMs: number;
  deconvolveMs: number;
  totalMs: number;
}

/** Everything a backend needs to build a plan (already validated). */
export interface NufftImplOptions {
  type: 1 | 2;
  modes: number[];
  ntransf: number;
  isign: 1 | -1;
  modeord: 0 | 1;
  eps: number;
  upsampfac: 2 | 1.25;
  gradient: boolean;
  dtype: 'complex64' | 'complex128';
  /** Number of independent point sets (points [P, d, M]; data [P, ntransf, ...]). */
  P: number;
  /** Plain kernel width per axis (overrides eps), or undefined. */
  width?: number[];
  /** Fine-grid size per axis (overrides σ·N), or undefined. */
  fineGrid?: number[];
}

/** @internal What a plan asks of its backend. */
export interface NufftImpl {
  readonly backend: Backend;
  readonly kernel: NufftKernelInfo;
  /** Host backends take host arrays; the cuda backend takes the tensors' storages. */
  setPoints(points: HostArray | NativeStorage, M: number, sync: boolean): void | Promise<void>;
  execute(input: HostArray | NativeStorage, output: HostArray | NativeStorage, sync: boolean): void | Promise<void>;
  timings(): NufftTimings;
  dispose(): void;
}

// ---------------------------------------------------------------------------------------------
// js

function mapJsError(op: string, e: unknown): ReconKernelsError {
  if (e instanceof ReconKernelsError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  if (/non-finite/i.test(msg)) return new ReconKernelsError('NON_FINITE', `${op}: ${msg}`, { cause: e });
  return new ReconKernelsError('INVALID_ARGUMENT', `${op}: ${msg}`, { cause: e });
}

class JsImpl implements NufftImpl {
  readonly backend: Backend = 'js';
  readonly kernel: NufftKernelInfo;
  #core: JsNufftCore;
  #t: NufftTimings = { sortMs: NaN, spreadMs: NaN, fftMs: NaN, deconvolveMs: NaN, totalMs: NaN };

  constructor(o: NufftImplOptions) {
    try {
      this.#core = new JsNufftCore({
        type: o.type, modes: o.modes, eps: o.eps, precision: o.dtype === 'complex64' ? 'float32' : 'float64',
        ntransf: o.ntransf, isign: o.isign, modeord: o.modeord, upsampfac: o.upsampfac, gradient: o.gradient,
        P: o.P, kernelWidth: o.width, fineGrid: o.fineGrid,
      });
    } catch (e) {
      throw mapJsError('nufft.plan', e);
    }
    const info = this.#core.info;
    // The core allocates the fine grid (float64, interleaved, ntransf of them) on first execute.
    const fine = info.fineGrid.reduce((a, b) => a * b, 1);
    if (2 * fine * o.ntransf > MAX_ELEMENTS) {
      throw new ReconKernelsError('SIZE_TOO_LARGE', `nufft.plan: the fine grid [${info.fineGrid.join(', ')}] × ntransf ${o.ntransf} is too large for the js backend; use fewer transforms per plan`);
    }
    this.kernel = { width: info.width, beta: info.beta, upsampfac: info.upsampfac, fineGrid: [...info.fineGrid], gradientWidthIncrease: info.gradientWidthIncrease ?? 0 };
  }

  setPoints(points: HostArray, M: number, sync: boolean): void | Promise<void> {
    const t0 = performance.now();
    try {
      this.#core.setPoints(points, M);
    } catch (e) {
      const err = mapJsError('nufft.setPoints', e);
      if (sync) throw err;
      return Promise.reject(err);
    }
    this.#t = { ...this.#t, sortMs: performance.now() - t0 };
    return sync ? undefined : Promise.resolve();
  }

  execute(input: HostArray, output: HostArray, sync: boolean): void | Promise<void> {
    const t0 = performance.now();
    try {
      this.#core.execute(input, output);
    } catch (e) {
      const err = mapJsError('nufft.execute', e);
      if (sync) throw err;
      return Promise.reject(err);
    }
    this.#t = { ...this.#t, totalMs: performance.now() - t0 };
    return sync ? undefined : Promise.resolve();
  }

  timings(): NufftTimings {
    return { ...this.#t };
  }

  dispose(): void {
    // Host memory only: the garbage collector frees it.
  }
}

// ---------------------------------------------------------------------------------------------
// native

type NativeNufftCtor = new (o: NativeNufftOptions) => NativeNufftPlan;

/** The addon's NufftPlan constructor, or null when the loaded build predates it. */
export function nativeNufftCtor(addon: NativeAddon | null): NativeNufftCtor | null {
  const ctor = (addon as unknown as { NufftPlan?: unknown } | null)?.NufftPlan;
  return typeof ctor === 'function' ? (ctor as NativeNufftCtor) : null;
}

function isHostArray(v: unknown): v is HostArray {
  return v instanceof Float32Array || v instanceof Float64Array;
}

/**
 * The addon's NufftPlan, on the CPU (device −1: native/nufft_cpu.cc) or on CUDA device N
 * (cuda/nufft_cuda.cu). A CUDA plan keeps its data on the device: execute takes DeviceBuffer
 * storages and refuses host arrays (an op runs where its tensors live); setPoints also takes a
 * host array (helper plans pass their parent's host copy), which the plan uploads once.
 */
class AddonImpl implements NufftImpl {
  readonly backend: Backend;
  readonly kernel: NufftKernelInfo;
  readonly #device: number;
  #plan: NativeNufftPlan;
  #disposed = false;

  constructor(ctor: NativeNufftCtor, o: NufftImplOptions, device: number) {
    this.backend = device < 0 ? 'native' : 'cuda';
    this.#device = device;
    try {
      // The same options for the CPU and CUDA plans (both take P, per-axis widths and fine grids);
      // P / fineGrid are passed only when used, so default plans send the original option set.
      const { P, width, fineGrid, ...rest } = o;
      this.#plan = new ctor({ ...rest, ...(P > 1 ? { P } : {}), width: width ?? 0, ...(fineGrid ? { fineGrid } : {}), threads: 0, device });
      const i = this.#plan.info;
      this.kernel = { width: i.width, beta: i.beta, upsampfac: i.upsampfac, fineGrid: [...i.fineGrid], gradientWidthIncrease: i.gradientWidthIncrease ?? 0 };
    } catch (e) {
      throw fromNativeError(e);
    }
  }

  setPoints(points: HostArray | NativeStorage, M: number, sync: boolean): void | Promise<void> {
    return callNative(sync, (s) => this.#plan.setPoints(points, M, s), () => undefined);
  }

  execute(input: HostArray | NativeStorage, output: HostArray | NativeStorage, sync: boolean): void | Promise<void> {
    if (this.#device >= 0 && (isHostArray(input) || isHostArray(output))) {
      const err = new ReconKernelsError('DEVICE_MISMATCH', `nufft.execute: the plan is on cuda:${this.#device} but the ${isHostArray(input) ? 'input' : 'output'} is a host array; move it with .to('cuda:${this.#device}')`);
      if (sync) throw err;
      return Promise.reject(err);
    }
    return callNative(sync, (s) => this.#plan.execute(input, output, s), () => undefined);
  }

  timings(): NufftTimings {
    try {
      return { ...this.#plan.timings() };
    } catch (e) {
      throw fromNativeError(e);
    }
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    try {
      this.#plan.dispose();
    } catch {
      // disposing twice or after a failed construction is harmless
    }
  }
}

// ---------------------------------------------------------------------------------------------
// selection

function envBackend(): string | undefined {
  const env = process.env.RECON_KERNELS_BACKEND;
  return env === undefined || env === '' || env === 'auto' ? undefined : env;
}

/**
 * Builds the backend for a plan on `device`. CUDA plans: CUDA_UNAVAILABLE (with the reason)
 * when CUDA cannot serve, CUFFT_UNAVAILABLE when cuFFT cannot be loaded, else the cuda adapter. Host plans:
 * the requested backend, else native when the addon loaded and has NufftPlan, else js. An
 * explicitly requested native backend whose addon lacks NufftPlan is BACKEND_UNAVAILABLE.
 */
export function createImpl(op: string, device: Device, backend: 'js' | 'native' | undefined, o: NufftImplOptions): NufftImpl {
  if (device !== 'cpu') {
    if (backend !== undefined) {
      throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: backend '${backend}' runs on the host, but the plan is for ${device}; leave backend out for CUDA plans`);
    }
    const addon = loadAddon().addon;
    if (!addon || !addon.cudaInfo().available) throw cudaUnavailableError();
    if (cudaIndex(device) >= addon.cudaInfo().devices.length) {
      throw new ReconKernelsError('INVALID_DEVICE', `${op}: ${device} does not exist: ${addon.cudaInfo().devices.length} CUDA device(s) present`);
    }
    const ctor = nativeNufftCtor(addon);
    if (!ctor) {
      const from = loadAddon().loadedFrom?.path ?? 'the loaded addon';
      throw new ReconKernelsError('BACKEND_UNAVAILABLE', `${op}: ${from} has no NufftPlan (an older build); rebuild it with 'npm run build:native'`);
    }
    return new AddonImpl(ctor, o, cudaIndex(device));
  }
  const explicit = backend ?? envBackend();
  const dispatch = resolveBackend(op, {}, { backend });
  if (dispatch.backend === 'native') {
    const ctor = nativeNufftCtor(dispatch.addon);
    if (ctor) return new AddonImpl(ctor, o, -1);
    if (explicit === 'native') {
      const from = loadAddon().loadedFrom?.path ?? 'the loaded addon';
      throw new ReconKernelsError('BACKEND_UNAVAILABLE', `${op}: the native backend was requested but ${from} has no NufftPlan (an older build); rebuild it with 'npm run build:native', or use backend 'js'`);
    }
  }
  return new JsImpl(o);
}

/** Whether the native backend can serve NUFFT plans in this process. */
export function nativeNufftAvailable(): boolean {
  return nativeNufftCtor(loadAddon().addon) !== null;
}
