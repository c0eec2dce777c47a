'use strict';
// Shared test helpers: the backends present, fresh random data, tolerant comparisons, and the
// policy for CUDA tests (they skip without a GPU unless RECON_KERNELS_REQUIRE_CUDA=1).
const assert = require('assert');
const rk = require('..');

const SEED = Number(process.env.RK_TEST_SEED || Math.floor(Math.random() * 2 ** 31));
let state = SEED >>> 0;
/** Uniform [0, 1) from a mulberry32 stream; the seed is printed once so a failure can be replayed. */
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
if (!process.env.RK_TEST_SEED_PRINTED) {
  process.env.RK_TEST_SEED_PRINTED = '1';
  console.log(`  random seed ${SEED} (replay with RK_TEST_SEED=${SEED})`);
}

/** n values in [lo, hi) as a Float64Array. */
function randomArray(n, lo = -1, hi = 1) {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * random();
  return a;
}

const caps = rk.capabilities();
const cudaRequired = process.env.RECON_KERNELS_REQUIRE_CUDA === '1';

/** Backends to test: js always, native when the addon loaded, cuda when a GPU is usable. */
function backends() {
  const list = ['js'];
  if (caps.addon.loaded) list.push('native');
  if (caps.cuda.available) list.push('cuda');
  return list;
}

/** Call inside a CUDA-only test: skips without CUDA, or fails if CUDA is required. */
function needCuda(ctx) {
  if (caps.cuda.available) return;
  if (cudaRequired) assert.fail(`RECON_KERNELS_REQUIRE_CUDA=1 but CUDA is unavailable: ${caps.cuda.reason}`);
  ctx.skip();
}

/** Makes a tensor for `backend`: on the GPU for cuda, on the host otherwise. */
function make(backend, data, shape, dtype) {
  return rk.tensor(data, { shape, dtype, device: backend === 'cuda' ? 'cuda' : 'cpu' });
}

/** Options that pin a host backend (cuda tensors need none). */
function opts(backend, extra = {}) {
  return backend === 'cuda' ? { ...extra } : { ...extra, backend };
}

/** Asserts |a − b| ≤ rtol·|b| + atol elementwise, with atol defaulting to rtol·max|b|. */
function assertClose(actual, expected, rtol, what, atol) {
  assert.strictEqual(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) maxRef = Math.max(maxRef, Math.abs(expected[i]));
  const tol0 = atol ?? rtol * maxRef;
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    const tol = rtol * Math.abs(expected[i]) + tol0;
    if (!(err <= tol) && (worst < 0 || err > worstErr)) {
      worst = i;
      worstErr = err;
    }
  }
  if (worst >= 0) {
    assert.fail(`${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (|err| ${worstErr.toExponential(3)}, rtol ${rtol}, max|ref| ${maxRef.toExponential(3)})`);
  }
}

function assertScalarClose(actual, expected, rtol, what) {
  const err = Math.abs(actual - expected);
  assert.ok(err <= rtol * Math.abs(expected) + 1e-300, `${what}: ${actual} vs ${expected} (rel err ${(err / Math.abs(expected)).toExponential(3)} > ${rtol})`);
}

/** Asserts that `fn` (sync or async) throws a ReconKernelsError with `code`. */
async function assertCode(fn, code, what) {
  let err;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err, `${what}: expected a ${code} error, nothing was thrown`);
  assert.ok(err instanceof rk.ReconKernelsError, `${what}: expected a ReconKernelsError, got ${err && err.constructor && err.constructor.name}: ${err && err.message}`);
  assert.strictEqual(err.code, code, `${what}: expected code ${code}, got ${err.code} (${err.message})`);
  return err;
}

module.exports = { rk, random, randomArray, caps, backends, needCuda, make, opts, assertClose, assertScalarClose, assertCode, cudaRequired, SEED };
