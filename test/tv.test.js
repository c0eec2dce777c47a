'use strict';
const assert = require('assert');
const { rk, randomArray, random, backends, needCuda, make, opts, assertClose, assertScalarClose, assertCode, caps } = require('./helpers');
const { sq3dRef, l1Ref, iso3dRef } = require('./tv-reference');

const SHAPES = [
  [33, 57, 18],
  [3, 32, 32, 32],
  [2, 3, 16, 16, 16],
  [1, 32, 32],
];
const numel = (s) => s.reduce((a, b) => a * b, 1);

// Values are drawn with some structure (a smooth ramp plus noise) so differences of both signs
// and of different sizes appear.
function volume(shape) {
  const n = numel(shape);
  const noise = randomArray(n, -1, 1);
  for (let i = 0; i < n; i++) noise[i] += 0.001 * (i % 97);
  return noise;
}

async function run(backend, kind, x, shape, dtype, extra = {}) {
  const vol = make(backend, x, shape, dtype);
  try {
    const o = opts(backend, { grad: true, ...extra });
    const r = kind === 'sq' ? await rk.tv.sq3d(vol, o) : kind === 'iso' ? await rk.tv.iso3d(vol, o) : await rk.tv.l1_3d(vol, o);
    assert.deepStrictEqual([...r.grad.shape], shape);
    assert.strictEqual(r.grad.dtype, dtype);
    assert.strictEqual(r.grad.device, vol.device);
    const grad = await r.grad.toArray();
    r.grad.dispose();
    return { loss: r.loss, grad };
  } finally {
    vol.dispose();
  }
}

function reference(kind, x, shape, extra = {}) {
  if (kind === 'sq') return sq3dRef(x, shape);
  if (kind === 'iso') return iso3dRef(x, shape, extra.eps);
  return l1Ref(x, shape, extra.weights);
}

function checkLoss(kind, got, want, rtol, what) {
  if (kind === 'l1') for (let a = 0; a < 3; a++) assertScalarClose(got[a], want[a], rtol, `${what} loss[${a}]`);
  else assertScalarClose(got, want, rtol, `${what} loss`);
}

describe('tv: values and gradients against a float64 reference', function () {
  for (const backend of ['js', 'native', 'cuda']) {
    describe(`backend ${backend}`, function () {
      before(function () {
        if (backend === 'cuda') needCuda(this);
        else if (!backends().includes(backend)) this.skip();
      });
      for (const shape of SHAPES) {
        for (const kind of ['sq', 'iso', 'l1']) {
          for (const dtype of ['float64', 'float32']) {
            it(`${kind} ${dtype} [${shape}]`, async function () {
              let x = volume(shape);
              if (dtype === 'float32') x = Float64Array.from(new Float32Array(x));
              const extra = kind === 'l1' ? { weights: [0.5 + random(), 0.5 + random(), 0.5 + random()] } : kind === 'iso' ? { eps: 1e-6 } : {};
              const want = reference(kind, x, shape, extra);
              const got = await run(backend, kind, x, shape, dtype, extra);
              const [rv, rg] = dtype === 'float64' ? [1e-10, 1e-9] : [1e-5, 1e-4];
              checkLoss(kind, got.loss, want.loss, rv, `${backend} ${kind}`);
              assertClose(got.grad, want.grad, rg, `${backend} ${kind} grad`);
            });
          }
        }
      }
    });
  }
});

describe('tv: gradients against central finite differences (float64)', function () {
  const shape = [2, 5, 6, 7];
  for (const backend of ['js', 'native', 'cuda']) {
    for (const kind of ['sq', 'iso', 'l1']) {
      it(`${backend} ${kind}`, async function () {
        if (backend === 'cuda') needCuda(this);
        else if (!backends().includes(backend)) this.skip();
        const x = volume(shape);
        const weights = [0.7, 1.3, 0.9];
        const extra = kind === 'l1' ? { weights } : kind === 'iso' ? { eps: 1e-4 } : {};
        const { grad } = await run(backend, kind, x, shape, 'float64', extra);
        const lossOf = async (y) => {
          const r = await run(backend, kind, y, shape, 'float64', extra);
          return kind === 'l1' ? r.loss[0] * weights[0] + r.loss[1] * weights[1] + r.loss[2] * weights[2] : r.loss;
        };
        const h = 1e-6;
        for (let k = 0; k < 12; k++) {
          const i = Math.floor(random() * x.length);
          const xp = Float64Array.from(x);
          const xm = Float64Array.from(x);
          xp[i] += h;
          xm[i] -= h;
          const fd = ((await lossOf(xp)) - (await lossOf(xm))) / (2 * h);
          assert.ok(Math.abs(fd - grad[i]) <= 1e-6 * Math.max(1, Math.abs(fd)), `${kind} voxel ${i}: analytic ${grad[i]} vs finite difference ${fd}`);
        }
      });
    }
  }
});

describe('tv: backends agree and edge cases', function () {
  it('native and cuda match js on a float32 batch volume', async function () {
    const shape = [2, 9, 10, 11];
    const x = Float64Array.from(new Float32Array(volume(shape)));
    const others = backends().filter((b) => b !== 'js');
    if (others.length === 0) this.skip();
    for (const kind of ['sq', 'iso', 'l1']) {
      const ref = await run('js', kind, x, shape, 'float32');
      for (const b of others) {
        const got = await run(b, kind, x, shape, 'float32');
        checkLoss(kind, got.loss, ref.loss, 1e-5, `${b} vs js ${kind}`);
        assertClose(got.grad, ref.grad, 1e-4, `${b} vs js ${kind} grad`);
      }
    }
  });

  it('iso3d of a volume with a spatial size of 1 is 0 with a zero gradient', async function () {
    for (const b of backends()) {
      const got = await run(b, 'iso', volume([3, 1, 8]), [3, 1, 8], 'float64');
      assert.strictEqual(got.loss, 0);
      assert.ok(got.grad.every((g) => g === 0), `${b}: gradient not zero`);
    }
  });

  it('l1 uses sign(0) = 0 on flat regions', async function () {
    const shape = [4, 4, 4];
    const x = new Float64Array(64).fill(0.25);
    x[21] = 1.25;
    for (const b of backends()) {
      const got = await run(b, 'l1', x, shape, 'float64');
      const want = l1Ref(x, shape);
      assertClose(got.grad, want.grad, 0, `${b} l1 grad`, 1e-15);
      assert.deepStrictEqual(got.loss, [2, 2, 2]);
    }
  });

  it('backward variants scale by the upstream gradient', async function () {
    const shape = [5, 6, 7];
    const x = volume(shape);
    for (const b of backends()) {
      const vol = make(b, x, shape, 'float64');
      const g1 = await (await rk.tv.sq3dBackward(vol, 2.5, opts(b))).toArray();
      assertClose(g1, sq3dRef(x, shape).grad.map((v) => 2.5 * v), 1e-12, `${b} sq3dBackward`);
      const g2 = await (await rk.tv.iso3dBackward(vol, -3, opts(b, { eps: 1e-6 }))).toArray();
      assertClose(g2, iso3dRef(x, shape, 1e-6).grad.map((v) => -3 * v), 1e-10, `${b} iso3dBackward`);
      const w = [0.5, 2, -1];
      const g3 = rk.tv.l1_3dBackwardSync(vol, w, opts(b)).toArraySync();
      assertClose(g3, l1Ref(x, shape, w).grad, 1e-12, `${b} l1_3dBackwardSync`);
      vol.dispose();
    }
  });

  it('writes the gradient into a caller-owned out tensor', async function () {
    const shape = [2, 5, 6, 7];
    const x = volume(shape);
    for (const b of backends()) {
      const vol = make(b, x, shape, 'float64');
      const out = rk.zeros(shape, { dtype: 'float64', device: vol.device });
      const r = await rk.tv.iso3d(vol, opts(b, { grad: true, out }));
      assert.strictEqual(r.grad, out);
      assertClose(await out.toArray(), iso3dRef(x, shape).grad, 1e-10, `${b} iso3d into out`);
      const g = await rk.tv.sq3dBackward(vol, 1, opts(b, { out }));
      assert.strictEqual(g, out);
      assertClose(await out.toArray(), sq3dRef(x, shape).grad, 1e-12, `${b} sq3dBackward into out`);
      await assertCode(() => rk.tv.sq3d(vol, opts(b, { grad: true, out: rk.zeros([2, 5, 6], { dtype: 'float64', device: vol.device }) })), 'INVALID_SHAPE', 'out of another shape');
      await assertCode(() => rk.tv.sq3d(vol, opts(b, { grad: true, out: rk.zeros(shape, { dtype: 'float32', device: vol.device }) })), 'INVALID_DTYPE', 'out of another dtype');
      vol.dispose();
      out.dispose();
    }
  });

  it('Sync variants equal the Promise versions', async function () {
    const shape = [6, 7, 8];
    const x = volume(shape);
    for (const b of backends()) {
      const vol = make(b, x, shape, 'float32');
      const a = rk.tv.iso3dSync(vol, opts(b, { grad: true }));
      const p = await rk.tv.iso3d(vol, opts(b, { grad: true }));
      assert.strictEqual(a.loss, p.loss);
      assert.deepStrictEqual(a.grad.toArraySync(), await p.grad.toArray());
      assert.strictEqual(rk.tv.sq3dSync(vol, opts(b)).loss, (await rk.tv.sq3d(vol, opts(b))).loss);
      assert.deepStrictEqual(rk.tv.l1_3dSync(vol, opts(b)).loss, (await rk.tv.l1_3d(vol, opts(b))).loss);
      vol.dispose();
    }
  });

  it('the native backend runs off the main thread (the event loop keeps turning)', async function () {
    if (!caps.addon.loaded) this.skip();
    // A blocking call would finish before the first setImmediate fires (0 ticks).
    const shape = [200, 200, 200];
    const vol = rk.tensor(volume(shape), { shape, dtype: 'float32' });
    let ticks = 0;
    let done = false;
    const spin = () => {
      if (done) return;
      ticks++;
      setImmediate(spin);
    };
    setImmediate(spin);
    const r = await rk.tv.iso3d(vol, { backend: 'native', grad: true });
    done = true;
    assert.ok(ticks >= 1, 'the event loop did not turn while the op ran');
    assert.ok(Number.isFinite(r.loss));
  });
});

describe('tv: bad input', function () {
  it('rejects with typed errors', async function () {
    const vol = rk.tensor(randomArray(4 * 5 * 6), { shape: [4, 5, 6] });
    await assertCode(() => rk.tv.sq3d(rk.tensor(randomArray(8), { shape: [2, 2, 1], dtype: 'complex64' })), 'INVALID_DTYPE', 'complex volume');
    await assertCode(() => rk.tv.iso3d(rk.tensor(randomArray(20), { shape: [4, 5] })), 'INVALID_SHAPE', '2-D volume');
    await assertCode(() => rk.tv.iso3d(vol, { eps: NaN }), 'NON_FINITE', 'NaN eps');
    await assertCode(() => rk.tv.iso3d(vol, { eps: -1 }), 'INVALID_ARGUMENT', 'negative eps');
    await assertCode(() => rk.tv.l1_3d(vol, { weights: [1, 2] }), 'INVALID_ARGUMENT', 'two weights');
    await assertCode(() => rk.tv.sq3dBackward(vol, Infinity), 'NON_FINITE', 'infinite gradOut');
    await assertCode(() => rk.tv.sq3d(new Float32Array(27)), 'INVALID_ARGUMENT', 'a typed array instead of a Tensor');
    await assertCode(() => rk.tv.sq3d(vol, { backend: 'gpu' }), 'INVALID_ARGUMENT', 'unknown backend');
    assert.throws(() => rk.tv.sq3dSync(vol, { grad: 'yes' }), (e) => e.code === 'INVALID_ARGUMENT');
    vol.dispose();
    await assertCode(() => rk.tv.sq3d(vol), 'DISPOSED', 'disposed volume');
  });

  it('a forced native backend without the addon says why', async function () {
    if (caps.addon.loaded) this.skip();
    const vol = rk.tensor(randomArray(27), { shape: [3, 3, 3] });
    await assertCode(() => rk.tv.sq3d(vol, { backend: 'native' }), 'BACKEND_UNAVAILABLE', 'native without addon');
  });
});
