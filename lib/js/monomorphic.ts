/**
 * Per-element-type copies of a js kernel. V8 specialises typed-array access on the array types
 * a function has seen; one kernel that sees both Float32Array and Float64Array goes polymorphic
 * and runs about 2x slower. Each copy is compiled from the function's own source, so it has its
 * own feedback and stays monomorphic. The function must not reference outer variables.
 */
const copies = new Map<Function, Map<string, Function>>();

export function monomorphic<F extends (...args: never[]) => unknown>(fn: F, elementType: string): F {
  let byType = copies.get(fn);
  if (!byType) {
    byType = new Map();
    copies.set(fn, byType);
  }
  let copy = byType.get(elementType);
  if (!copy) {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    copy = new Function(`return (${fn.toString()});`)() as Function;
    byType.set(elementType, copy);
  }
  return copy as F;
}
