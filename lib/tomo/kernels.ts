/**
 * @internal One call of a tomography kernel on whatever backend the tensors select: the js
 * functions of lib/js/tomo.ts, or the addon's tomoOp (native CPU or CUDA).
 */
import { callNative, type Dispatch } from '../backend';
import { tomoAdjointJs, tomoFilterJs, tomoForwardJs, tomoRecipJs, tomoTvDualJs, tomoTvGradTJs } from '../js/tomo';
import type { NativeTomoArgs } from '../native-types';
import type { Tensor } from '../tensor';
import type { Geometry } from './geometry';

export const TOMO_OP = { forward: 0, adjoint: 1, filter: 2, tvDual: 3, tvGradT: 4, recip: 5 } as const;
export type TomoOpName = keyof typeof TOMO_OP;

export interface KernelCall {
  op: TomoOpName;
  dispatch: Dispatch;
  g: Geometry;
  /** Volume dims for the TV ops (default the geometry's). */
  dims?: [number, number, number];
  x: Tensor;
  out: Tensor;
  /** float64 table on the tensors' device (forward / adjoint). */
  geom?: Tensor;
  filt?: Tensor;
  N?: number;
  lines?: number;
  sigma?: number;
  lambda?: number;
  eps?: number;
  gather?: boolean;
}

/** Runs the kernel; resolves (or returns) the device time in ms when CUDA reports one. */
export function runKernel(c: KernelCall, sync: boolean): number | undefined | Promise<number | undefined> {
  const { g, dispatch } = c;
  const [Z, Y, X] = c.dims ?? [g.Z, g.Y, g.X];
  if (dispatch.backend === 'js') {
    const x = c.x.hostData('x');
    const out = c.out.hostData('out');
    const d = { Z: g.Z, Y: g.Y, X: g.X, R: g.R, A: g.A, U: g.U };
    switch (c.op) {
      case 'forward':
        tomoForwardJs(d, g.table, x, out);
        break;
      case 'adjoint':
        tomoAdjointJs(d, g.table, x, out);
        break;
      case 'filter':
        tomoFilterJs(c.lines!, g.U, c.N!, c.filt!.hostData('filt'), x, out);
        break;
      case 'tvDual':
        tomoTvDualJs(Z, Y, X, x, out, c.sigma!, c.lambda!);
        break;
      case 'tvGradT':
        tomoTvGradTJs(Z, Y, X, x, out);
        break;
      case 'recip':
        tomoRecipJs(c.x.numel, c.eps!, x, out);
        break;
    }
    return sync ? undefined : Promise.resolve(undefined);
  }
  const addon = dispatch.addon!;
  const tv = c.op === 'tvDual' || c.op === 'tvGradT';
  const args: NativeTomoArgs = {
    op: TOMO_OP[c.op],
    dtype: c.x.dtype as 'float32' | 'float64',
    Z: tv ? Z : g.Z,
    Y: tv ? Y : g.Y,
    X: tv ? X : g.X,
    R: g.R,
    A: g.A,
    U: g.U,
    nnz: g.nnz,
    N: c.N ?? 1,
    lines: c.op === 'recip' ? c.x.numel : c.lines ?? 0,
    sigma: c.sigma ?? 0,
    lambda: c.lambda ?? 0,
    eps: c.eps ?? 0,
    gather: c.gather ?? false,
    x: c.x.storage('x'),
    out: c.out.storage('out'),
    geom: c.geom?.storage('geom'),
    filt: c.filt?.storage('filt'),
    threads: 0,
  };
  return callNative(sync, (s) => (s ? addon.tomoOp(args, true) : addon.tomoOp(args, false)), (r) => (r.deviceMs >= 0 ? r.deviceMs : undefined));
}
