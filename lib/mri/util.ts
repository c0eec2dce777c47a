/** Helpers shared by the MRI operators: host copies, same-memory tensors, and the sync/async driver. */
import type { HostArray } from '../dtype';
import type { NativeDeviceBuffer } from '../native-types';
import { Tensor } from '../tensor';

/** The tensor's data on the host (a copy for device tensors). */
export function hostOf(t: Tensor): HostArray {
  return t.device === 'cpu' ? t.hostData() : t.toSync('cpu').hostData();
}

/**
 * A second Tensor over the same memory (host array or device buffer) with another shape of the
 * same element count. Exactly one of the two may ever be disposed: lib/mri uses it to hand a
 * result it made to the caller under its final shape (the original is dropped), or to pass a
 * caller's tensor to a plan under the plan's shape (the alias is dropped). Unlike
 * Tensor.reshape it never copies device memory.
 */
export function alias(t: Tensor, shape: readonly number[]): Tensor {
  if (t.device === 'cpu') return t.reshape(shape);
  return new Tensor(t.dtype, shape, t.device, null, t.storage() as NativeDeviceBuffer);
}

/**
 * Runs a pipeline written as a generator whose every `yield` hands over one step's result (a
 * value, or a Promise when async): synchronously (sync steps), or awaiting each step, so that
 * forward / adjoint / normal / cg are written once for their Promise and *Sync forms. A step's
 * rejection is thrown into the generator, so its try/finally blocks free temporaries either way.
 */
export function drive<T>(sync: true, steps: () => Generator<unknown, T, unknown>): T;
export function drive<T>(sync: false, steps: () => Generator<unknown, T, unknown>): Promise<T>;
export function drive<T>(sync: boolean, steps: () => Generator<unknown, T, unknown>): T | Promise<T> {
  if (sync) {
    const g = steps();
    let r = g.next();
    while (!r.done) r = g.next(r.value);
    return r.value;
  }
  return (async () => {
    const g = steps();
    let r = g.next();
    while (!r.done) {
      let v: unknown;
      try {
        v = await r.value;
      } catch (e) {
        r = g.throw(e);
        continue;
      }
      r = g.next(v);
    }
    return r.value;
  })();
}
