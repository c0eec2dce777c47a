import { addon } from './loader';
import { cudaUnavailableError } from './cuda';
import { type DType, type HostArray, allocHost, bytesPerScalar, checkDType, realDType, scalarsPerElement } from './dtype';
import { type Device, type DeviceSpec, cudaIndex, parseDevice } from './device';
import { ReconKernelsError, fromNativeError } from './errors';
import type { NativeDeviceBuffer, NativeStorage } from './native-types';
import { type Shape, checkShape, fmtShape, numel } from './shape';

const disposeSymbol: typeof Symbol.dispose = (Symbol as { dispose?: typeof Symbol.dispose }).dispose ?? (Symbol.for('nodejs.dispose') as typeof Symbol.dispose);

/**
 * An n-dimensional array of one dtype on one device. Shapes are row-major (last axis fastest);
 * complex elements are interleaved (re, im).
 *
 * Host tensors keep their data in a Float32Array / Float64Array; CUDA tensors in device memory
 * owned by a native object that frees it on {@link Tensor.dispose} or, as a safety net, in its
 * finalizer, and that reports its size to V8 as external memory. Any use after dispose throws
 * a ReconKernelsError with code 'DISPOSED'.
 */
export class Tensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly device: Device;
  #host: HostArray | null;
  #dev: NativeDeviceBuffer | null;
  #disposed = false;

  /** @internal Use {@link tensor} or {@link zeros}. */
  constructor(dtype: DType, shape: readonly number[], device: Device, host: HostArray | null, dev: NativeDeviceBuffer | null) {
    this.dtype = dtype;
    this.shape = Object.freeze([...shape]);
    this.device = device;
    this.#host = host;
    this.#dev = dev;
  }

  /** Number of elements (complex elements count once). */
  get numel(): number {
    return numel(this.shape);
  }

  /** Size of the data in bytes. */
  get byteLength(): number {
    return this.numel * scalarsPerElement(this.dtype) * bytesPerScalar(this.dtype);
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** @internal The memory behind the tensor, for the backends. */
  storage(what = 'tensor'): NativeStorage {
    this.#assertLive(what);
    return (this.#host ?? this.#dev)!;
  }

  /** @internal Host data, for the js backend and host-side checks. */
  hostData(what = 'tensor'): HostArray {
    this.#assertLive(what);
    if (!this.#host) throw new ReconKernelsError('INVALID_DEVICE', `${what} lives on ${this.device}; copy it to the host with .to('cpu') first`);
    return this.#host;
  }

  #assertLive(what: string): void {
    if (this.#disposed) throw new ReconKernelsError('DISPOSED', `${what} was disposed; it can no longer be used`);
  }

  /** A copy of this tensor on `device` (a new tensor, also when the device is the same). */
  async to(device: DeviceSpec): Promise<Tensor> {
    return this.#to(device, false);
  }

  /** Synchronous {@link Tensor.to}: blocks the event loop for the copy. */
  toSync(device: DeviceSpec): Tensor {
    return this.#to(device, true) as Tensor;
  }

  #to(deviceSpec: DeviceSpec, sync: boolean): Tensor | Promise<Tensor> {
    const target = parseDevice(deviceSpec);
    this.#assertLive('tensor');
    try {
      if (target === 'cpu') {
        const host = allocHost(this.dtype, this.numel);
        if (this.#host) {
          host.set(this.#host);
          return sync ? new Tensor(this.dtype, this.shape, 'cpu', host, null) : Promise.resolve(new Tensor(this.dtype, this.shape, 'cpu', host, null));
        }
        const done = () => new Tensor(this.dtype, this.shape, 'cpu', host, null);
        if (sync) {
          this.#dev!.download(host, true);
          return done();
        }
        return this.#dev!.download(host, false).then(done, (e) => Promise.reject(fromNativeError(e)));
      }
      const buf = allocDevice(target, this.byteLength);
      const done = () => new Tensor(this.dtype, this.shape, target, null, buf);
      if (this.#host) {
        if (sync) {
          buf.upload(this.#host, true);
          return done();
        }
        return buf.upload(this.#host, false).then(done, (e) => {
          buf.free();
          throw fromNativeError(e);
        });
      }
      if (cudaIndex(target) !== cudaIndex(this.device)) {
        // Peer copies are not wired up: stage through the host.
        const host = allocHost(this.dtype, this.numel);
        this.#dev!.download(host, true);
        buf.upload(host, true);
        return sync ? done() : Promise.resolve(done());
      }
      if (sync) {
        buf.copyFrom(this.#dev!, this.byteLength, true);
        return done();
      }
      return buf.copyFrom(this.#dev!, this.byteLength, false).then(done, (e) => {
        buf.free();
        throw fromNativeError(e);
      });
    } catch (e) {
      throw fromNativeError(e);
    }
  }

  /** A host copy of the data: Float32Array for float32/complex64, Float64Array otherwise. */
  async toArray(): Promise<HostArray> {
    this.#assertLive('tensor');
    if (this.#host) return this.#host.slice();
    const t = await this.to('cpu');
    return t.#host!;
  }

  /** Synchronous {@link Tensor.toArray}. */
  toArraySync(): HostArray {
    this.#assertLive('tensor');
    if (this.#host) return this.#host.slice();
    return this.toSync('cpu').#host!;
  }

  /**
   * A tensor of another shape with the same number of elements. On the host it shares the
   * data (like a view); on CUDA it is a device copy, so disposing one never frees the other.
   */
  reshape(shape: readonly number[]): Tensor {
    const s = checkShape(shape, 'reshape');
    this.#assertLive('tensor');
    if (numel(s) !== this.numel) {
      throw new ReconKernelsError('INVALID_SHAPE', `reshape: cannot view ${fmtShape(this.shape)} (${this.numel} elements) as ${fmtShape(s)}`);
    }
    if (this.#host) return new Tensor(this.dtype, s, 'cpu', this.#host, null);
    const copy = this.toSync(this.device);
    return new Tensor(this.dtype, s, this.device, null, copy.#dev);
  }

  /** Frees device memory now (host data is left to the garbage collector). Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#dev?.free();
    this.#dev = null;
    this.#host = null;
  }

  [disposeSymbol](): void {
    this.dispose();
  }

  toString(): string {
    return `Tensor(${this.dtype}, ${fmtShape(this.shape)}, ${this.device}${this.#disposed ? ', disposed' : ''})`;
  }
}

/** Allocates zeroed device memory, or explains why CUDA cannot serve. */
export function allocDevice(device: Device, bytes: number): NativeDeviceBuffer {
  const a = addon();
  if (!a) throw cudaUnavailableError();
  const info = a.cudaInfo();
  if (!info.available) throw cudaUnavailableError();
  const index = cudaIndex(device);
  if (index >= info.devices.length) {
    throw new ReconKernelsError('INVALID_DEVICE', `device ${device} does not exist: ${info.devices.length} CUDA device(s) present`);
  }
  try {
    return new a.DeviceBuffer(index, Math.max(bytes, 1));
  } catch (e) {
    throw fromNativeError(e);
  }
}

/** Options shared by the tensor factories. */
export interface TensorOptions {
  /** Row-major shape. Defaults to 1-D over the data. */
  shape?: readonly number[];
  /** Defaults to the array's type: float32 for Float32Array, float64 otherwise. */
  dtype?: DType;
  /** 'cpu' (default), 'cuda' or 'cuda:N'. */
  device?: DeviceSpec;
}

/**
 * Makes a tensor from data (copied). Complex dtypes take interleaved (re, im) data of twice the
 * element count. Data of the other precision is converted.
 *
 * @example tensor(new Float32Array(8 * 8 * 8), { shape: [8, 8, 8] })
 */
export function tensor(data: Float32Array | Float64Array | ArrayLike<number>, options: TensorOptions = {}): Tensor {
  const dtype: DType = options.dtype !== undefined ? checkDType(options.dtype, 'tensor') : data instanceof Float32Array ? 'float32' : 'float64';
  const spe = scalarsPerElement(dtype);
  if (data.length % spe !== 0) {
    throw new ReconKernelsError('INVALID_SHAPE', `tensor: ${dtype} data must hold interleaved (re, im) pairs, got an odd length ${data.length}`);
  }
  const shape = checkShape(options.shape ?? [data.length / spe], 'tensor');
  const n = numel(shape);
  if (n * spe !== data.length) {
    throw new ReconKernelsError('INVALID_SHAPE', `tensor: shape ${fmtShape(shape)} of ${dtype} needs ${n * spe} scalars, data has ${data.length}`);
  }
  const host = allocHost(dtype, n);
  host.set(data);
  const device = parseDevice(options.device);
  const t = new Tensor(dtype, shape, 'cpu', host, null);
  return device === 'cpu' ? t : t.toSync(device);
}

/** A zero-filled tensor. */
export function zeros(shape: readonly number[], options: { dtype?: DType; device?: DeviceSpec } = {}): Tensor {
  const s = checkShape(shape, 'zeros');
  const dtype = checkDType(options.dtype ?? 'float32', 'zeros');
  const device = parseDevice(options.device);
  if (device === 'cpu') return new Tensor(dtype, s, 'cpu', allocHost(dtype, numel(s)), null);
  const bytes = numel(s) * scalarsPerElement(dtype) * bytesPerScalar(dtype);
  return new Tensor(dtype, s, device, null, allocDevice(device, bytes));
}

/** @internal An uninitialised-in-spirit (zeroed) tensor like `t`, possibly of another shape/dtype. */
export function emptyLike(t: Tensor, shape: Shape = t.shape, dtype: DType = t.dtype): Tensor {
  return zeros(shape, { dtype, device: t.device });
}

export { realDType };
