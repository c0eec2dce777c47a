'use strict';
const assert = require('assert');
const { rk, randomArray, backends, needCuda, caps, assertCode } = require('./helpers');

describe('tensor', function () {
  it('infers dtype, shape and device, and copies its input', async function () {
    const data = new Float32Array(randomArray(24));
    const t = rk.tensor(data, { shape: [2, 3, 4] });
    assert.strictEqual(t.dtype, 'float32');
    assert.deepStrictEqual(t.shape, [2, 3, 4]);
    assert.strictEqual(t.device, 'cpu');
    assert.strictEqual(t.numel, 24);
    const copy = await t.toArray();
    assert.deepStrictEqual(copy, data);
    data[0] += 1;
    assert.notStrictEqual((await t.toArray())[0], data[0]);
    assert.strictEqual(rk.tensor([1, 2, 3]).dtype, 'float64');
    assert.deepStrictEqual(rk.tensor(new Float64Array(6)).shape, [6]);
  });

  it('holds complex data interleaved', async function () {
    const re = randomArray(12);
    const t = rk.tensor(re, { shape: [2, 3], dtype: 'complex128' });
    assert.strictEqual(t.numel, 6);
    assert.strictEqual(t.byteLength, 96);
    assert.deepStrictEqual(await t.toArray(), re);
    const c64 = rk.tensor(re, { shape: [6], dtype: 'complex64' });
    assert.ok((await c64.toArray()) instanceof Float32Array);
  });

  it('zeros, reshape, dispose and Symbol.dispose', async function () {
    const z = rk.zeros([3, 4], { dtype: 'float64' });
    assert.ok((await z.toArray()).every((v) => v === 0));
    const r = z.reshape([12]);
    assert.deepStrictEqual(r.shape, [12]);
    z.dispose();
    assert.ok(z.disposed);
    await assertCode(() => z.toArray(), 'DISPOSED', 'toArray after dispose');
    assert.throws(() => z.toArraySync(), (e) => e.code === 'DISPOSED');
    const scoped = rk.zeros([2]);
    assert.strictEqual(typeof scoped[Symbol.dispose], 'function');
    scoped[Symbol.dispose]();
    assert.strictEqual(scoped.disposed, true);
  });

  it('rejects bad shapes, dtypes, devices and sizes with codes', async function () {
    await assertCode(() => rk.tensor(new Float64Array(5), { shape: [2, 3] }), 'INVALID_SHAPE', 'wrong element count');
    await assertCode(() => rk.tensor(new Float64Array(5), { dtype: 'complex64' }), 'INVALID_SHAPE', 'odd complex length');
    await assertCode(() => rk.tensor(new Float64Array(4), { dtype: 'int8' }), 'INVALID_DTYPE', 'unknown dtype');
    await assertCode(() => rk.tensor(new Float64Array(4), { shape: [2, -2] }), 'INVALID_SHAPE', 'negative size');
    await assertCode(() => rk.tensor(new Float64Array(4), { shape: [2, 2.5] }), 'INVALID_SHAPE', 'fractional size');
    await assertCode(() => rk.zeros([2 ** 20, 2 ** 20]), 'SIZE_TOO_LARGE', '2^40 elements');
    await assertCode(() => rk.zeros([4], { device: 'tpu' }), 'INVALID_DEVICE', 'unknown device');
    if (!caps.cuda.available) {
      const e = await assertCode(() => rk.zeros([4], { device: 'cuda' }), 'CUDA_UNAVAILABLE', 'cuda without a GPU');
      assert.ok(e.message.length > 30, 'the message says why');
    }
  });

  it('moves between host and CUDA devices', async function () {
    needCuda(this);
    const data = randomArray(1000);
    const t = rk.tensor(data, { shape: [10, 100], device: 'cuda' });
    assert.strictEqual(t.device, 'cuda:0');
    assert.deepStrictEqual(await t.toArray(), data);
    const back = await t.to('cpu');
    assert.deepStrictEqual(await back.toArray(), data);
    const copy = await t.to('cuda:0');
    t.dispose();
    assert.deepStrictEqual(copy.toArraySync(), data);
    await assertCode(() => t.to('cpu'), 'DISPOSED', 'to after dispose');
    await assertCode(() => rk.ops.add(copy, back), 'DEVICE_MISMATCH', 'mixed devices');
    await assertCode(() => rk.zeros([2], { device: 'cuda:99' }), 'INVALID_DEVICE', 'missing device');
    copy.dispose();
  });

  it('frees device memory on dispose and keeps working across many allocations', async function () {
    needCuda(this);
    // 200 × 64 MiB would exceed most GPUs if dispose leaked.
    for (let i = 0; i < 200; i++) {
      const t = rk.zeros([16, 1024, 1024], { dtype: 'float32', device: 'cuda' });
      t.dispose();
    }
    // Left to the finalizer: allocate without dispose, let GC collect.
    for (let i = 0; i < 50; i++) rk.zeros([4, 1024, 1024], { dtype: 'float32', device: 'cuda' });
    if (global.gc) global.gc();
    assert.ok(backends().includes('cuda'));
  });
});
