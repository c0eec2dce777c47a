/**
 * @internal The MRI building blocks on tensors, run where the tensors live: the addon's mriOp
 * (native CPU or CUDA, cuda/mri.h) or the js loops of ./js. Every call returns void when sync,
 * else a Promise; the tensors must be on the context's device and of consistent dtypes (the
 * callers in lib/mri make them so).
 */
import { callNative, resolveBackend } from '../backend';
import type { Device } from '../device';
import { isComplex, realDType } from '../dtype';
import { ReconKernelsError } from '../errors';
import { loadAddon } from '../loader';
import type { NativeAddon, NativeMriOpArgs } from '../native-types';
import type { Tensor } from '../tensor';
import { castJs, combineJs, expandJs, weightJs } from './js';

/** Where the MRI ops of an operator run. */
export interface MriContext {
  engine: 'js' | 'native' | 'cuda';
  device: Device;
  /** The addon, for native and cuda. */
  addon: NativeAddon | null;
  /** The host backend the operator's NUFFT plans are asked for (cpu only; undefined = default). */
  backend?: 'js' | 'native';
}

function hasMri(a: NativeAddon | null): boolean {
  return !!a && typeof a.mriOp === 'function' && typeof a.MriToeplitz === 'function';
}

/**
 * The context for an operator whose data live like `like` (its device), with `backend` forcing
 * the host backend. CUDA needs an addon with the MRI ops (BACKEND_UNAVAILABLE otherwise); a host
 * addon without them falls back to js unless native was asked for explicitly.
 */
export function mriContext(op: string, like: Tensor, backend?: 'js' | 'native'): MriContext {
  const onHost = like.device === 'cpu';
  const d = resolveBackend(op, { trajectory: like }, onHost ? { backend } : {});
  if (d.backend === 'js') return { engine: 'js', device: 'cpu', addon: null, backend: onHost ? backend : undefined };
  if (!hasMri(d.addon)) {
    const explicit = backend ?? process.env.RECON_KERNELS_BACKEND;
    if (d.backend === 'cuda' || explicit === 'native') {
      const from = loadAddon().loadedFrom?.path ?? 'the loaded addon';
      throw new ReconKernelsError('BACKEND_UNAVAILABLE', `${op}: ${from} has no MRI ops (an older build); rebuild it with 'npm run build:native'${d.backend === 'cuda' ? '' : ", or use backend 'js'"}`);
    }
    return { engine: 'js', device: 'cpu', addon: null, backend: onHost ? backend : undefined };
  }
  return { engine: d.backend, device: d.device, addon: d.addon, backend: onHost ? backend : undefined };
}

function run(ctx: MriContext, sync: boolean, args: NativeMriOpArgs): void | Promise<void> {
  const f = ctx.addon!.mriOp!;
  return callNative(sync, (s) => (s ? f(args, true) : f(args, false)), () => undefined);
}

function base(op: number, dtype: 'float32' | 'float64'): Omit<NativeMriOpArgs, 'in' | 'out'> {
  return { op, dtype, B: 1, C: 1, N: 0, scale: 1, inReal: false, accumulate: false, inDtype: dtype, outDtype: dtype, threads: 0 };
}

function done(sync: boolean): void | Promise<void> {
  return sync ? undefined : Promise.resolve();
}

/**
 * out[b, c, n] = scale·S[c, n]·x[b, n] for B images of N pixels (no smaps: C = 1). out complex
 * [B, C, N]; x complex or real (xReal) of out's precision; smaps complex [C, N].
 */
export function expand(ctx: MriContext, sync: boolean, a: { x: Tensor; xReal: boolean; smaps: Tensor | null; out: Tensor; B: number; C: number; N: number; scale: number }): void | Promise<void> {
  const C = a.smaps ? a.C : 1;
  if (ctx.engine === 'js') {
    expandJs(a.B, C, a.N, a.scale, a.smaps?.hostData('smaps') ?? null, a.x.hostData('x'), a.xReal, a.out.hostData('out'));
    return done(sync);
  }
  return run(ctx, sync, { ...base(0, realDType(a.out.dtype)), B: a.B, C, N: a.N, scale: a.scale, inReal: a.xReal, map: a.smaps?.storage('smaps'), in: a.x.storage('x'), out: a.out.storage('out') });
}

/** out[b, n] = (accumulate ? out : 0) + scale·Σ_c conj(S[c, n])·z[b, c, n] (no smaps: C = 1). */
export function combine(ctx: MriContext, sync: boolean, a: { z: Tensor; smaps: Tensor | null; out: Tensor; B: number; C: number; N: number; scale: number; accumulate?: boolean }): void | Promise<void> {
  const C = a.smaps ? a.C : 1, acc = a.accumulate ?? false;
  if (ctx.engine === 'js') {
    combineJs(a.B, C, a.N, a.scale, acc, a.smaps?.hostData('smaps') ?? null, a.z.hostData('z'), a.out.hostData('out'));
    return done(sync);
  }
  return run(ctx, sync, { ...base(1, realDType(a.out.dtype)), B: a.B, C, N: a.N, scale: a.scale, accumulate: acc, map: a.smaps?.storage('smaps'), in: a.z.storage('z'), out: a.out.storage('out') });
}

/** out[p, t, m] = scale·w[p, m]·y[p, t, m] (no w: 1); w real [P, M] of out's precision; y complex or real (yReal). */
export function weight(ctx: MriContext, sync: boolean, a: { y: Tensor; yReal: boolean; w: Tensor | null; out: Tensor; P: number; T: number; M: number; scale: number }): void | Promise<void> {
  if (ctx.engine === 'js') {
    weightJs(a.P, a.T, a.M, a.scale, a.w?.hostData('w') ?? null, a.y.hostData('y'), a.yReal, a.out.hostData('out'));
    return done(sync);
  }
  return run(ctx, sync, { ...base(2, realDType(a.out.dtype)), B: a.P, C: a.T, N: a.M, scale: a.scale, inReal: a.yReal, map: a.w?.storage('w'), in: a.y.storage('y'), out: a.out.storage('out') });
}

/** dst = scale·src, element for element, between precisions (both real or both complex, same count). */
export function cast(ctx: MriContext, sync: boolean, a: { src: Tensor; dst: Tensor; scale?: number }): void | Promise<void> {
  const n = a.src.numel * (isComplex(a.src.dtype) ? 2 : 1), scale = a.scale ?? 1;
  if (ctx.engine === 'js') {
    castJs(n, scale, a.src.hostData('src'), a.dst.hostData('dst'));
    return done(sync);
  }
  const args = { ...base(3, realDType(a.dst.dtype)), N: n, scale, inDtype: realDType(a.src.dtype), outDtype: realDType(a.dst.dtype), in: a.src.storage('src'), out: a.dst.storage('dst') };
  return run(ctx, sync, args);
}
