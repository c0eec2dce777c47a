/**
 * The parallel-beam projection operator A (Joseph's method) and its exact transpose Aᵀ.
 * See lib/tomo/geometry.ts for the conventions.
 */
import { type BackendOptions, type Dispatch, promiseOf, resolveBackend } from '../backend';
import type { Device } from '../device';
import { ReconKernelsError } from '../errors';
import { fmtShape, sameShape } from '../shape';
import { type Tensor, tensor, zeros } from '../tensor';
import { checkNumber, checkObject, checkTensor } from '../validate';
import type { Geometry } from './geometry';
import { runKernel, type KernelCall } from './kernels';

/** Options of forward / adjoint. */
export interface ApplyOptions extends BackendOptions {
  /** Write the result here (right shape, same dtype and device) instead of a new tensor. */
  out?: Tensor;
  /**
   * Adjoint only, native backend: 'gather' runs the voxel-driven gather the CUDA kernel uses
   * (same weights, other summation order), for testing that arithmetic on the CPU. Default
   * 'scatter'.
   */
  adjointMode?: 'scatter' | 'gather';
}

/** Options of {@link ParallelBeamOperator.norm}. */
export interface NormOptions extends BackendOptions {
  /** Power iterations. Default 30. */
  iterations?: number;
  /** Default 'float64' on the host, 'float32' on CUDA. */
  dtype?: 'float32' | 'float64';
  /** Where to run. Default 'cpu'. */
  device?: Device;
}

const FLOATS = ['float32', 'float64'] as const;


/** A parallel-beam projector: make one with tomo.parallelBeam(). */
export class ParallelBeamOperator {
  /** [Z, Y, X]. */
  readonly volumeShape: readonly [number, number, number];
  /** [rows, angles, cols]. */
  readonly sinogramShape: readonly [number, number, number];
  readonly angles: Float64Array;
  readonly voxelSize: number;
  readonly pixelSize: readonly [number, number];
  /** @internal */
  readonly geometry: Geometry;
  #tables = new Map<string, Tensor>();
  #norm: number | undefined;

  /** @internal Use tomo.parallelBeam(). */
  constructor(g: Geometry) {
    this.geometry = g;
    this.volumeShape = Object.freeze([g.Z, g.Y, g.X]) as readonly [number, number, number];
    this.sinogramShape = Object.freeze([g.R, g.A, g.U]) as readonly [number, number, number];
    this.angles = g.angles;
    this.voxelSize = g.voxelSize;
    this.pixelSize = Object.freeze([...g.pixelSize]) as readonly [number, number];
  }

  /** @internal The geometry table on `device` (uploaded once per device). */
  table(device: Device): Tensor {
    let t = this.#tables.get(device);
    if (!t || t.disposed) {
      t = tensor(this.geometry.table, { dtype: 'float64', device });
      this.#tables.set(device, t);
    }
    return t;
  }

  /** Frees the geometry tables uploaded to GPUs. The operator stays usable (they are re-made). */
  dispose(): void {
    for (const t of this.#tables.values()) t.dispose();
    this.#tables.clear();
  }

  /** @internal Checks an input/out pair and runs forward or adjoint. */
  apply(op: 'forward' | 'adjoint', opName: string, input: unknown, options: unknown, sync: boolean): Tensor | Promise<Tensor> {
    const o = checkObject(opName, 'options', options) as ApplyOptions;
    const x = checkTensor(opName, op === 'forward' ? 'vol' : 'sino', input, FLOATS);
    const g = this.geometry;
    const full = op === 'forward' ? [g.Z, g.Y, g.X] : [g.R, g.A, g.U];
    const outFull = op === 'forward' ? [g.R, g.A, g.U] : [g.Z, g.Y, g.X];
    const flat = x.shape.length === 2 && full[0] === 1;
    if (!sameShape(x.shape, full) && !(flat && sameShape(x.shape, full.slice(1)))) {
      const what = op === 'forward' ? 'volume' : 'sinogram';
      throw new ReconKernelsError('INVALID_SHAPE', `${opName}: ${what} has shape ${fmtShape(x.shape)} but the operator's ${what} is ${fmtShape(full)}`);
    }
    const outShape = flat && outFull[0] === 1 ? outFull.slice(1) : outFull;
    let out: Tensor;
    if (o.out !== undefined) {
      out = checkTensor(opName, 'out', o.out, FLOATS);
      if (out.dtype !== x.dtype) throw new ReconKernelsError('DTYPE_MISMATCH', `${opName}: out is ${out.dtype} but the input is ${x.dtype}`);
      if (out.numel !== outShape.reduce((a, b) => a * b, 1)) {
        throw new ReconKernelsError('INVALID_SHAPE', `${opName}: out has shape ${fmtShape(out.shape)}, expected ${fmtShape(outShape)}`);
      }
      if (out === x) throw new ReconKernelsError('INVALID_ARGUMENT', `${opName}: out must not be the input`);
    }
    if (o.adjointMode !== undefined && o.adjointMode !== 'scatter' && o.adjointMode !== 'gather') {
      throw new ReconKernelsError('INVALID_ARGUMENT', `${opName}: adjointMode must be 'scatter' or 'gather'`);
    }
    const dispatch = resolveBackend(opName, { [op === 'forward' ? 'vol' : 'sino']: x, out: o.out }, { backend: o.backend });
    out = o.out ?? zeros(outShape, { dtype: x.dtype, device: x.device });
    const call: KernelCall = { op, dispatch, g, x, out, geom: dispatch.backend === 'js' ? undefined : this.table(x.device), gather: o.adjointMode === 'gather' };
    try {
      const r = runKernel(call, sync);
      if (r instanceof Promise) {
        return r.then(
          () => out,
          (e) => {
            if (out !== o.out) out.dispose();
            throw e;
          },
        );
      }
      return out;
    } catch (e) {
      if (out !== o.out) out.dispose();
      throw e;
    }
  }

  /** A·vol: the sinogram [rows, angles, cols] of line integrals ([angles, cols] for a [Y, X] input when rows = 1). */
  forward(vol: Tensor, options?: ApplyOptions): Promise<Tensor> {
    return promiseOf(() => this.apply('forward', 'tomo.forward', vol, options, false));
  }

  /** Synchronous {@link forward}. */
  forwardSync(vol: Tensor, options?: ApplyOptions): Tensor {
    return this.apply('forward', 'tomo.forwardSync', vol, options, true) as Tensor;
  }

  /** Aᵀ·sino: the exact transpose of {@link forward} (⟨Ax, y⟩ = ⟨x, Aᵀy⟩ to rounding). */
  adjoint(sino: Tensor, options?: ApplyOptions): Promise<Tensor> {
    return promiseOf(() => this.apply('adjoint', 'tomo.adjoint', sino, options, false));
  }

  /** Synchronous {@link adjoint}. */
  adjointSync(sino: Tensor, options?: ApplyOptions): Tensor {
    return this.apply('adjoint', 'tomo.adjointSync', sino, options, true) as Tensor;
  }

  /** ‖A‖₂ (the largest singular value) by power iteration on AᵀA; cached per operator for the defaults. */
  normSync(options?: NormOptions): number {
    const o = checkObject('tomo.norm', 'options', options) as NormOptions;
    const iters = o.iterations === undefined ? 30 : checkNumber('tomo.norm', 'iterations', o.iterations, { positive: true });
    const defaults = o.iterations === undefined && o.dtype === undefined && o.device === undefined;
    if (defaults && this.#norm !== undefined) return this.#norm;
    const device = o.device ?? 'cpu';
    const dtype = o.dtype ?? (device === 'cpu' ? 'float64' : 'float32');
    const g = this.geometry;
    const n = g.Z * g.Y * g.X;
    const init = new Float64Array(n);
    let s = 12345;
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      init[i] = 0.5 + s / 2 ** 32;
    }
    let x = tensor(init, { shape: [g.Z, g.Y, g.X], dtype, device });
    const be = { backend: o.backend };
    const sino = zeros([g.R, g.A, g.U], { dtype, device });
    let est = 0;
    try {
      for (let k = 0; k < Math.round(iters); k++) {
        const nx = normOf(x, be);
        if (nx === 0) break;
        scaleInPlace(x, 1 / nx, be);
        this.forwardSync(x, { ...be, out: sino });
        const y = this.adjointSync(sino, be);
        est = Math.sqrt(normOf(y, be));
        x.dispose();
        x = y;
      }
    } finally {
      x.dispose();
      sino.dispose();
    }
    if (defaults) this.#norm = est;
    return est;
  }

  /** Promise form of {@link normSync}. */
  norm(options?: NormOptions): Promise<number> {
    return promiseOf(() => this.normSync(options));
  }
}

// Small wrappers over the array ops (imported lazily to keep the module graph simple).
import * as ops from '../array/ops';
function normOf(t: Tensor, be: BackendOptions): number {
  return ops.normSync(t, be);
}
function scaleInPlace(t: Tensor, a: number, be: BackendOptions): void {
  ops.scaleSync(t, a, { ...be, out: t });
}

export type { Dispatch };
