'use strict';
// Batched point sets (points [P, d, M]) and per-axis kernel control (width per axis, fineGrid)
// on every host backend: batched plans equal per-set plans; per-axis widths meet info.expectedError (within 1.5×, it is a typical value)
// against the direct NUDFT.
const assert = require('assert');
const { rk, randomArray, backends, assertClose, assertCode } = require('./helpers');
const { directNudft1, directNudft2 } = require('../dist/lib/js/nudft');

const host = backends().filter((b) => b !== 'cuda');
const rel = (a, b) => {
  let e = 0, n = 0;
  for (let i = 0; i < b.length; i++) { e += (a[i] - b[i]) ** 2; n += b[i] ** 2; }
  return Math.sqrt(e / n);
};

describe('nufft batched point sets and per-axis kernels', function () {
  this.timeout(120000);
  for (const backend of host) {
    for (const dtype of ['complex128', 'complex64']) {
      it(`${backend} ${dtype}: P = 3 sets in one plan equal 3 plans (d = 1, 2, 3; types 1 and 2)`, () => {
        const rdt = dtype === 'complex64' ? 'float32' : 'float64';
        for (const modes of [[20], [12, 10], [8, 10, 6]]) {
          const d = modes.length, P = 3, M = 150, nt = 2, nm = modes.reduce((a, b) => a * b, 1);
          const pts = randomArray(P * d * M, -5, 5);
          for (const type of [1, 2]) {
            const inLen = type === 1 ? nt * M : nt * nm;
            const input = randomArray(P * 2 * inLen);
            const plan = rk.nufft.plan({ type, modes, ntransf: nt, dtype, backend, P });
            plan.setPointsSync(rk.tensor(pts, { shape: [P, d, M], dtype: rdt }));
            const out = plan.executeSync(rk.tensor(input, { shape: type === 1 ? [P, nt, M] : [P, nt, ...modes], dtype }));
            assert.deepStrictEqual(out.shape, type === 1 ? [P, nt, ...modes] : [P, nt, M]);
            const got = out.toArraySync();
            for (let p = 0; p < P; p++) {
              const q = rk.nufft.plan({ type, modes, ntransf: nt, dtype, backend });
              q.setPointsSync(rk.tensor(pts.slice(p * d * M, (p + 1) * d * M), { shape: [d, M], dtype: rdt }));
              const ref = q.executeSync(rk.tensor(input.slice(p * 2 * inLen, (p + 1) * 2 * inLen), { shape: type === 1 ? [nt, M] : [nt, ...modes], dtype })).toArraySync();
              assertClose(got.subarray(p * ref.length, (p + 1) * ref.length), ref, dtype === 'complex64' ? 1e-5 : 1e-12, `set ${p} d=${d} type ${type}`);
              q.dispose();
            }
            plan.dispose();
          }
        }
      });
    }

    it(`${backend}: per-axis widths and fine grids meet info.expectedError (direct NUDFT)`, () => {
      const cases = [
        { modes: [16, 20, 24], width: [4, 6, 6] },
        { modes: [16, 20, 24], width: [8, 5, 7] },
        { modes: [32, 30], width: [3, 9] },
        { modes: [32, 30], width: [6, 6], fineGrid: [50, 64] },
        { modes: [32, 30], width: 8, fineGrid: [48, 40] },
        { modes: [40], width: [10] },
      ];
      for (const c of cases) {
        const d = c.modes.length, M = 250, nm = c.modes.reduce((a, b) => a * b, 1);
        const pts = randomArray(d * M, -3.2, 3.2);
        const f = randomArray(2 * nm), s = randomArray(2 * M);
        const p2 = rk.nufft.plan({ type: 2, modes: c.modes, dtype: 'complex128', backend, width: c.width, fineGrid: c.fineGrid });
        const p1 = rk.nufft.plan({ type: 1, modes: c.modes, dtype: 'complex128', backend, width: c.width, fineGrid: c.fineGrid });
        const pt = rk.tensor(pts, { shape: [d, M], dtype: 'float64' });
        p2.setPointsSync(pt);
        p1.setPointsSync(pt);
        const info = p2.info;
        const w = typeof c.width === 'number' ? new Array(d).fill(c.width) : c.width;
        assert.deepStrictEqual(info.widths, w);
        if (c.fineGrid) assert.deepStrictEqual(info.fineGrid, c.fineGrid);
        const e2 = rel(p2.executeSync(rk.tensor(f, { shape: c.modes, dtype: 'complex128' })).toArraySync(), directNudft2({ points: pts, M, modes: c.modes, isign: -1, coefs: f }));
        const e1 = rel(p1.executeSync(rk.tensor(s, { shape: [M], dtype: 'complex128' })).toArraySync(), directNudft1({ points: pts, M, modes: c.modes, isign: 1, strengths: s }));
        // expectedError is a typical value, not a bound: over 400 random draws per width (1-D,
        // widths 8-12) the error reached 1.06× of it, so allow 1.5×.
        assert.ok(e2 <= 1.5 * info.expectedError && e1 <= 1.5 * info.expectedError, `${JSON.stringify(c)}: errors ${e1.toExponential(2)}, ${e2.toExponential(2)} vs expected ${info.expectedError.toExponential(2)}`);
        assert.ok(e2 > info.expectedError / 100, `${JSON.stringify(c)}: estimate ${info.expectedError} far too pessimistic (error ${e2})`);
        p1.dispose();
        p2.dispose();
      }
    });

    it(`${backend}: bad width / fineGrid / P are INVALID_ARGUMENT`, async () => {
      await assertCode(() => rk.nufft.plan({ type: 1, modes: [16, 16], backend, width: [4] }), 'INVALID_ARGUMENT', 'width length');
      await assertCode(() => rk.nufft.plan({ type: 1, modes: [16, 16], backend, width: 1 }), 'INVALID_ARGUMENT', 'width 1');
      await assertCode(() => rk.nufft.plan({ type: 1, modes: [16, 16], backend, fineGrid: [34, 32] }), 'INVALID_ARGUMENT', 'not smooth');
      await assertCode(() => rk.nufft.plan({ type: 1, modes: [16, 16], backend, fineGrid: [16, 32] }), 'INVALID_ARGUMENT', 'not above N');
      await assertCode(() => rk.nufft.plan({ type: 1, modes: [16, 16], backend, P: 0 }), 'INVALID_ARGUMENT', 'P 0');
      const plan = rk.nufft.plan({ type: 1, modes: [16, 16], backend, P: 2 });
      await assertCode(() => plan.setPointsSync(rk.tensor(randomArray(20), { shape: [2, 10], dtype: 'float32' })), 'INVALID_SHAPE', '[d, M] points for P = 2');
      plan.dispose();
    });
  }
});
