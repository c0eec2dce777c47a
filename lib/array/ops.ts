/**
 * The array ops iterative solvers need, on every backend: fill, copy, add, sub, mul, scale,
 * axpy, clamp, sum, dot, norm. Operands must share dtype, device and element count (shapes may
 * differ when the counts agree). Complex dtypes are supported by all but clamp; complex
 * scalars are written { re, im }. Reductions accumulate in float64.
 */
import { type BackendOptions, callNative, promiseOf, resolveBackend } from '../backend';
import { isComplex, realDType } from '../dtype';
import { ReconKernelsError } from '../errors';
import { ARRAY_OP, type ArrayOpName, arrayOpJs } from '../js/array';
import { fmtShape } from '../shape';
import { type Tensor, zeros } from '../tensor';
import { checkNumber, checkTensor } from '../validate';

/** A real number, or a complex one as { re, im } (for complex tensors). */
export type Scalar = number | { re: number; im: number };

/** A complex reduction result. */
export interface Complex {
  re: number;
  im: number;
}

/** Options of element-wise ops that produce a tensor. */
export interface OutOptions extends BackendOptions {
  /** Write the result here (same dtype, device, element count) instead of a new tensor. */
  out?: Tensor;
}

const ALL = ['float32', 'float64', 'complex64', 'complex128'] as const;

function scalar(op: string, name: string, v: unknown, complex: boolean): [number, number] {
  if (typeof v === 'object' && v !== null && 're' in v) {
    const c = v as { re: unknown; im: unknown };
    if (!complex) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: ${name} is complex but the tensors are real`);
    return [checkNumber(op, `${name}.re`, c.re), checkNumber(op, `${name}.im`, c.im ?? 0)];
  }
  return [checkNumber(op, name, v), 0];
}

interface Request {
  op: string;
  code: ArrayOpName;
  a?: Tensor;
  b?: Tensor;
  out?: Tensor;
  alpha: number;
  beta: number;
  backend?: 'js' | 'native';
}

function operand(op: string, name: string, t: unknown, like?: Tensor): Tensor {
  const x = checkTensor(op, name, t, ALL);
  if (like) {
    if (x.dtype !== like.dtype) throw new ReconKernelsError('DTYPE_MISMATCH', `${op}: ${name} has dtype ${x.dtype} but the first operand has ${like.dtype}`);
    if (x.numel !== like.numel) {
      throw new ReconKernelsError('INVALID_SHAPE', `${op}: ${name} has shape ${fmtShape(x.shape)} (${x.numel} elements), the first operand ${fmtShape(like.shape)} (${like.numel})`);
    }
  }
  return x;
}

function run(req: Request, sync: boolean): [number, number] | Promise<[number, number]> {
  const { op, code, a, b, out, alpha, beta } = req;
  const like = (a ?? out)!;
  const dispatch = resolveBackend(op, { a, b, out }, { backend: req.backend });
  const complex = isComplex(like.dtype);
  if (dispatch.backend === 'js') {
    const r = arrayOpJs({ op: code, complex, n: like.numel, alpha, beta, a: a?.hostData('a'), b: b?.hostData('b'), out: out?.hostData('out') });
    return sync ? r : Promise.resolve(r);
  }
  const addon = dispatch.addon!;
  const args = {
    op: ARRAY_OP[code],
    dtype: realDType(like.dtype),
    complex,
    n: like.numel,
    alpha,
    beta,
    a: a?.storage('a'),
    b: b?.storage('b'),
    out: out?.storage('out'),
    threads: 0,
  };
  return callNative(sync, (s) => (s ? addon.arrayOp(args, true) : addon.arrayOp(args, false)), (r) => [r.values[0], r.values[1]] as [number, number]);
}

function outFor(op: string, o: OutOptions | undefined, like: Tensor): Tensor {
  if (o?.out !== undefined) return operand(op, 'out', o.out, like);
  return zeros(like.shape, { dtype: like.dtype, device: like.device });
}


function elementwise(name: ArrayOpName, sync: boolean, build: () => Request): Tensor | Promise<Tensor> {
  const req = build();
  const r = run(req, sync);
  return r instanceof Promise ? r.then(() => req.out!) : req.out!;
}

function reduce<T>(sync: boolean, build: () => Request, finish: (r: [number, number]) => T): T | Promise<T> {
  const r = run(build(), sync);
  return r instanceof Promise ? r.then(finish) : finish(r);
}

// --- element-wise -------------------------------------------------------------------------

function fillReq(op: string, t: Tensor, value: Scalar, o?: BackendOptions): Request {
  const x = operand(op, 't', t);
  const [alpha, beta] = scalar(op, 'value', value, isComplex(x.dtype));
  return { op, code: 'fill', out: x, alpha, beta, backend: o?.backend };
}
/** Sets every element of `t` to `value` in place; resolves to `t`. */
export const fill = (t: Tensor, value: Scalar, o?: BackendOptions): Promise<Tensor> => promiseOf(() => elementwise('fill', false, () => fillReq('ops.fill', t, value, o)));
/** Synchronous {@link fill}. */
export const fillSync = (t: Tensor, value: Scalar, o?: BackendOptions): Tensor => elementwise('fill', true, () => fillReq('ops.fillSync', t, value, o)) as Tensor;

function copyReq(op: string, dst: Tensor, src: Tensor, o?: BackendOptions): Request {
  const s = operand(op, 'src', src);
  const d = operand(op, 'dst', dst, s);
  return { op, code: 'copy', a: s, out: d, alpha: 0, beta: 0, backend: o?.backend };
}
/** Copies src into dst (same dtype, device and element count); resolves to dst. */
export const copy = (dst: Tensor, src: Tensor, o?: BackendOptions): Promise<Tensor> => promiseOf(() => elementwise('copy', false, () => copyReq('ops.copy', dst, src, o)));
/** Synchronous {@link copy}. */
export const copySync = (dst: Tensor, src: Tensor, o?: BackendOptions): Tensor => elementwise('copy', true, () => copyReq('ops.copySync', dst, src, o)) as Tensor;

function binReq(op: string, code: ArrayOpName, a: Tensor, b: Tensor, o?: OutOptions): Request {
  const x = operand(op, 'a', a);
  const y = operand(op, 'b', b, x);
  return { op, code, a: x, b: y, out: outFor(op, o, x), alpha: 0, beta: 0, backend: o?.backend };
}
/** a + b, element-wise. */
export const add = (a: Tensor, b: Tensor, o?: OutOptions): Promise<Tensor> => promiseOf(() => elementwise('add', false, () => binReq('ops.add', 'add', a, b, o)));
/** Synchronous {@link add}. */
export const addSync = (a: Tensor, b: Tensor, o?: OutOptions): Tensor => elementwise('add', true, () => binReq('ops.addSync', 'add', a, b, o)) as Tensor;
/** a − b, element-wise. */
export const sub = (a: Tensor, b: Tensor, o?: OutOptions): Promise<Tensor> => promiseOf(() => elementwise('sub', false, () => binReq('ops.sub', 'sub', a, b, o)));
/** Synchronous {@link sub}. */
export const subSync = (a: Tensor, b: Tensor, o?: OutOptions): Tensor => elementwise('sub', true, () => binReq('ops.subSync', 'sub', a, b, o)) as Tensor;
/** a · b, element-wise (the complex product for complex dtypes). */
export const mul = (a: Tensor, b: Tensor, o?: OutOptions): Promise<Tensor> => promiseOf(() => elementwise('mul', false, () => binReq('ops.mul', 'mul', a, b, o)));
/** Synchronous {@link mul}. */
export const mulSync = (a: Tensor, b: Tensor, o?: OutOptions): Tensor => elementwise('mul', true, () => binReq('ops.mulSync', 'mul', a, b, o)) as Tensor;

function scaleReq(op: string, a: Tensor, alpha: Scalar, o?: OutOptions): Request {
  const x = operand(op, 'a', a);
  const [re, im] = scalar(op, 'alpha', alpha, isComplex(x.dtype));
  return { op, code: 'scale', a: x, out: outFor(op, o, x), alpha: re, beta: im, backend: o?.backend };
}
/** alpha · a. */
export const scale = (a: Tensor, alpha: Scalar, o?: OutOptions): Promise<Tensor> => promiseOf(() => elementwise('scale', false, () => scaleReq('ops.scale', a, alpha, o)));
/** Synchronous {@link scale}. */
export const scaleSync = (a: Tensor, alpha: Scalar, o?: OutOptions): Tensor => elementwise('scale', true, () => scaleReq('ops.scaleSync', a, alpha, o)) as Tensor;

function axpyReq(op: string, alpha: Scalar, x: Tensor, y: Tensor, o?: OutOptions): Request {
  const xx = operand(op, 'x', x);
  const yy = operand(op, 'y', y, xx);
  const [re, im] = scalar(op, 'alpha', alpha, isComplex(xx.dtype));
  const out = o?.out !== undefined ? operand(op, 'out', o.out, xx) : yy;
  return { op, code: 'axpy', a: xx, b: yy, out, alpha: re, beta: im, backend: o?.backend };
}
/** y ← alpha·x + y in place (BLAS axpy), or into `out` when given; resolves to the result. */
export const axpy = (alpha: Scalar, x: Tensor, y: Tensor, o?: OutOptions): Promise<Tensor> => promiseOf(() => elementwise('axpy', false, () => axpyReq('ops.axpy', alpha, x, y, o)));
/** Synchronous {@link axpy}. */
export const axpySync = (alpha: Scalar, x: Tensor, y: Tensor, o?: OutOptions): Tensor => elementwise('axpy', true, () => axpyReq('ops.axpySync', alpha, x, y, o)) as Tensor;

function clampReq(op: string, a: Tensor, min: number, max: number, o?: OutOptions): Request {
  const x = checkTensor(op, 'a', a, ['float32', 'float64']);
  const lo = typeof min === 'number' && min === -Infinity ? -Infinity : checkNumber(op, 'min', min);
  const hi = typeof max === 'number' && max === Infinity ? Infinity : checkNumber(op, 'max', max);
  if (lo > hi) throw new ReconKernelsError('INVALID_ARGUMENT', `${op}: min ${lo} is greater than max ${hi}`);
  return { op, code: 'clamp', a: x, out: outFor(op, o, x), alpha: lo, beta: hi, backend: o?.backend };
}
/** min(max(a, min), max), element-wise; real dtypes; ±Infinity leaves a side open. */
export const clamp = (a: Tensor, min: number, max: number, o?: OutOptions): Promise<Tensor> => promiseOf(() => elementwise('clamp', false, () => clampReq('ops.clamp', a, min, max, o)));
/** Synchronous {@link clamp}. */
export const clampSync = (a: Tensor, min: number, max: number, o?: OutOptions): Tensor => elementwise('clamp', true, () => clampReq('ops.clampSync', a, min, max, o)) as Tensor;

// --- reductions ---------------------------------------------------------------------------

function complexOrReal(t: Tensor): (r: [number, number]) => number | Complex {
  return isComplex(t.dtype) ? (r) => ({ re: r[0], im: r[1] }) : (r) => r[0];
}

/** Σ a (a number; { re, im } for complex tensors). */
export function sum(a: Tensor, o?: BackendOptions): Promise<number | Complex> {
  return promiseOf(() => {
    const x = operand('ops.sum', 'a', a);
    return reduce(false, () => ({ op: 'ops.sum', code: 'sum', a: x, alpha: 0, beta: 0, backend: o?.backend }), complexOrReal(x));
  });
}
/** Synchronous {@link sum}. */
export function sumSync(a: Tensor, o?: BackendOptions): number | Complex {
  const x = operand('ops.sumSync', 'a', a);
  return reduce(true, () => ({ op: 'ops.sumSync', code: 'sum', a: x, alpha: 0, beta: 0, backend: o?.backend }), complexOrReal(x)) as number | Complex;
}

/** Σ conj(a)·b (a number; { re, im } for complex tensors). */
export function dot(a: Tensor, b: Tensor, o?: BackendOptions): Promise<number | Complex> {
  return promiseOf(() => {
    const x = operand('ops.dot', 'a', a);
    const y = operand('ops.dot', 'b', b, x);
    return reduce(false, () => ({ op: 'ops.dot', code: 'dot', a: x, b: y, alpha: 0, beta: 0, backend: o?.backend }), complexOrReal(x));
  });
}
/** Synchronous {@link dot}. */
export function dotSync(a: Tensor, b: Tensor, o?: BackendOptions): number | Complex {
  const x = operand('ops.dotSync', 'a', a);
  const y = operand('ops.dotSync', 'b', b, x);
  return reduce(true, () => ({ op: 'ops.dotSync', code: 'dot', a: x, b: y, alpha: 0, beta: 0, backend: o?.backend }), complexOrReal(x)) as number | Complex;
}

/** √(Σ |a|²), the Euclidean norm. */
export function norm(a: Tensor, o?: BackendOptions): Promise<number> {
  return promiseOf(() => {
    const x = operand('ops.norm', 'a', a);
    return reduce(false, () => ({ op: 'ops.norm', code: 'norm', a: x, alpha: 0, beta: 0, backend: o?.backend }), (r) => r[0]);
  });
}
/** Synchronous {@link norm}. */
export function normSync(a: Tensor, o?: BackendOptions): number {
  const x = operand('ops.normSync', 'a', a);
  return reduce(true, () => ({ op: 'ops.normSync', code: 'norm', a: x, alpha: 0, beta: 0, backend: o?.backend }), (r) => r[0]) as number;
}
