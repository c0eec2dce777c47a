'use strict';
const assert = require('assert');
const { rk, randomArray, random, backends, make, opts, assertClose, assertScalarClose, assertCode } = require('./helpers');

const n = 1037;

describe('array ops on every backend', function () {
  for (const backend of ['js', 'native', 'cuda']) {
    for (const dtype of ['float32', 'float64', 'complex64', 'complex128']) {
      it(`${backend} ${dtype}`, async function () {
        if (!backends().includes(backend)) {
          if (backend === 'cuda') require('./helpers').needCuda(this);
          this.skip();
        }
        const complex = dtype.startsWith('complex');
        const m = complex ? 2 * n : n;
        const round = (a) => (dtype === 'float32' || dtype === 'complex64' ? Float64Array.from(new Float32Array(a)) : a);
        const xa = round(randomArray(m));
        const xb = round(randomArray(m));
        const rtol = dtype === 'float32' || dtype === 'complex64' ? 1e-6 : 1e-14;
        const a = make(backend, xa, [n], dtype);
        const b = make(backend, xb, [n], dtype);
        const o = opts(backend);
        const get = (t) => t.toArray();
        const alpha = complex ? { re: 0.5 + random(), im: random() - 0.5 } : 0.5 + random();
        const [ar, ai] = complex ? [alpha.re, alpha.im] : [alpha, 0];
        const cmul = (x, y, i) => [x[i] * y[i] - x[i + 1] * y[i + 1], x[i] * y[i + 1] + x[i + 1] * y[i]];

        assertClose(await get(await rk.ops.add(a, b, o)), xa.map((v, i) => v + xb[i]), rtol, 'add');
        assertClose(await get(await rk.ops.sub(a, b, o)), xa.map((v, i) => v - xb[i]), rtol, 'sub');
        const prod = new Float64Array(m);
        for (let i = 0; i < m; i += complex ? 2 : 1) {
          if (complex) [prod[i], prod[i + 1]] = cmul(xa, xb, i);
          else prod[i] = xa[i] * xb[i];
        }
        assertClose(await get(await rk.ops.mul(a, b, o)), prod, 4 * rtol, 'mul');
        const scaled = new Float64Array(m);
        for (let i = 0; i < m; i += complex ? 2 : 1) {
          if (complex) [scaled[i], scaled[i + 1]] = [ar * xa[i] - ai * xa[i + 1], ar * xa[i + 1] + ai * xa[i]];
          else scaled[i] = ar * xa[i];
        }
        assertClose(await get(await rk.ops.scale(a, alpha, o)), scaled, 4 * rtol, 'scale');
        const y = make(backend, xb, [n], dtype);
        const r = await rk.ops.axpy(alpha, a, y, o);
        assert.strictEqual(r, y, 'axpy works in place on y');
        assertClose(await get(y), scaled.map((v, i) => v + xb[i]), 4 * rtol, 'axpy');
        const dst = rk.zeros([n], { dtype, device: a.device });
        await rk.ops.copy(dst, a, o);
        assert.deepStrictEqual(await get(dst), await get(a));
        await rk.ops.fill(dst, complex ? { re: 1.5, im: -2 } : 1.5, o);
        const filled = await get(dst);
        assert.strictEqual(filled[0], 1.5);
        if (complex) assert.strictEqual(filled[m - 1], -2);

        let sre = 0, sim = 0, dre = 0, dim = 0, nn = 0;
        for (let i = 0; i < m; i += complex ? 2 : 1) {
          sre += xa[i];
          nn += xa[i] * xa[i];
          if (complex) {
            sim += xa[i + 1];
            nn += xa[i + 1] * xa[i + 1];
            dre += xa[i] * xb[i] + xa[i + 1] * xb[i + 1];
            dim += xa[i] * xb[i + 1] - xa[i + 1] * xb[i];
          } else dre += xa[i] * xb[i];
        }
        const s = await rk.ops.sum(a, o);
        const d = rk.ops.dotSync(a, b, o);
        if (complex) {
          assertScalarClose(s.re, sre, 1e-9, 'sum re');
          assertScalarClose(s.im, sim, 1e-9, 'sum im');
          assertScalarClose(d.re, dre, 1e-9, 'dot re');
          assertScalarClose(d.im, dim, 1e-9, 'dot im');
        } else {
          assertScalarClose(s, sre, 1e-9, 'sum');
          assertScalarClose(d, dre, 1e-9, 'dot');
        }
        assertScalarClose(await rk.ops.norm(a, o), Math.sqrt(nn), 1e-12, 'norm');
        if (!complex) {
          const c = rk.ops.clampSync(a, -0.5, 0.25, o);
          assertClose(await get(c), xa.map((v) => Math.min(Math.max(v, -0.5), 0.25)), 0, 'clamp', 0);
          const open = await rk.ops.clamp(a, 0, Infinity, o);
          assertClose(await get(open), xa.map((v) => Math.max(v, 0)), 0, 'clamp open', 0);
        }
        for (const t of [a, b, y, dst]) t.dispose();
      });
    }
  }

  it('rejects mismatched operands', async function () {
    const a = rk.tensor(randomArray(6), { shape: [6] });
    const b = rk.tensor(randomArray(5), { shape: [5] });
    const c = rk.tensor(new Float32Array(6), { shape: [6] });
    await assertCode(() => rk.ops.add(a, b), 'INVALID_SHAPE', 'sizes differ');
    await assertCode(() => rk.ops.add(a, c), 'DTYPE_MISMATCH', 'dtypes differ');
    await assertCode(() => rk.ops.clamp(rk.tensor(randomArray(4), { dtype: 'complex128' }), 0, 1), 'INVALID_DTYPE', 'complex clamp');
    await assertCode(() => rk.ops.clamp(a, 1, 0), 'INVALID_ARGUMENT', 'min > max');
    await assertCode(() => rk.ops.scale(a, { re: 1, im: 1 }), 'INVALID_ARGUMENT', 'complex scalar on real data');
    await assertCode(() => rk.ops.scale(a, NaN), 'NON_FINITE', 'NaN scalar');
    b.dispose();
    await assertCode(() => rk.ops.norm(b), 'DISPOSED', 'disposed operand');
  });
});
