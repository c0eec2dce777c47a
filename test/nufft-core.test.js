'use strict';
// Pure-TS NUFFT core vs the exact direct sums (float64), plus FFT, kernel
// parameters and the standalone gridding functions. Inputs are fresh random
// each run (never zeros); sizes are small so the file runs in seconds.
const assert = require('assert');
const { relErr } = require('./nufft-test-utils');
const { fft, fftn, usesBluestein } = require('../dist/lib/js/fft.js');
const params = require('../dist/lib/nufft/params.js');
const { JsNufftCore, spread, interp } = require('../dist/lib/js/nufft-core.js');
const { directNudft1, directNudft2 } = require('../dist/lib/js/nudft.js');

const rnd = (n, T = Float64Array) => T.from({ length: n }, () => Math.random() * 2 - 1 || 0.5);
const prod = (a) => a.reduce((x, y) => x * y, 1);


/** Points spread over several periods to exercise folding. */
function randomPoints(d, M, T = Float64Array) {
  return T.from({ length: d * M }, () => (Math.random() * 2 - 1) * 3 * Math.PI);
}

function cdot(a, b) { // Σ conj(a)·b for interleaved complex
  let re = 0, im = 0;
  for (let i = 0; i < a.length; i += 2) {
    re += a[i] * b[i] + a[i + 1] * b[i + 1];
    im += a[i] * b[i + 1] - a[i + 1] * b[i];
  }
  return [re, im];
}

/**
 * Runs one NUFFT and the matching direct sum; returns per-row errors
 * (one entry for plain transforms / type 1, 1+d rows for gradient type 2).
 */
function runCase(o) {
  const { type, modes, M, eps, precision = 'float64', ntransf = 1, isign, modeord = 0, upsampfac, gradient = false } = o;
  const d = modes.length, nm = prod(modes), rows = gradient ? 1 + d : 1;
  const T = precision === 'float32' ? Float32Array : Float64Array;
  const pts = randomPoints(d, M, T);
  const plan = new JsNufftCore({ type, modes, eps, precision, ntransf, isign, modeord, upsampfac, gradient });
  plan.setPoints(pts, M);
  const common = { points: pts, M, modes, ntransf, isign: plan.info.isign, modeord, gradient };
  if (type === 1) {
    const c = rnd(2 * ntransf * rows * M, T);
    const out = new T(2 * ntransf * nm);
    plan.execute(c, out);
    return { errs: [relErr(out, directNudft1({ ...common, strengths: c }))], plan };
  }
  const f = rnd(2 * ntransf * nm, T);
  const out = new T(2 * ntransf * rows * M);
  plan.execute(f, out);
  const ref = directNudft2({ ...common, coefs: f });
  const errs = [];
  for (let r = 0; r < rows; r++) {
    // each row over all transforms
    let e = 0, n = 0;
    for (let t = 0; t < ntransf; t++) {
      const off = 2 * (t * rows + r) * M;
      for (let i = off; i < off + 2 * M; i++) { e += (out[i] - ref[i]) ** 2; n += ref[i] ** 2; }
    }
    errs.push(Math.sqrt(e / n));
  }
  return { errs, plan };
}

const SIZES = { 1: [[50], 400], 2: [[20, 17], 300], 3: [[8, 9, 7], 200] };

describe('js fft', () => {
  function dft(x, n, sign) {
    const y = new Float64Array(2 * n);
    for (let k = 0; k < n; k++) {
      let r = 0, i = 0;
      for (let j = 0; j < n; j++) {
        const a = (sign * 2 * Math.PI * ((j * k) % n)) / n, c = Math.cos(a), s = Math.sin(a);
        r += x[2 * j] * c - x[2 * j + 1] * s; i += x[2 * j] * s + x[2 * j + 1] * c;
      }
      y[2 * k] = r; y[2 * k + 1] = i;
    }
    return y;
  }

  it('matches the naive DFT for smooth, small-prime and Bluestein lengths, both signs', () => {
    assert.ok(usesBluestein(17) && !usesBluestein(2 * 3 * 5 * 7 * 11 * 13));
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 16, 17, 25, 30, 31, 60, 64, 97, 120, 143, 250]) {
      for (const sign of [1, -1]) {
        const x = rnd(2 * n), y = x.slice();
        fft(y, n, sign);
        assert.ok(relErr(y, dft(x, n, sign)) < 1e-13, `n=${n} sign=${sign}`);
      }
    }
  });

  it('batched 1-D and n-D transforms match per-axis naive DFTs', () => {
    const B = 3, n = 12, x = rnd(2 * B * n), y = x.slice();
    fft(y, n, -1, B);
    for (let b = 0; b < B; b++) {
      const ref = dft(x.subarray(2 * b * n, 2 * (b + 1) * n), n, -1);
      assert.ok(relErr(y.subarray(2 * b * n, 2 * (b + 1) * n), ref) < 1e-13);
    }
    for (const shape of [[6, 10], [5, 7, 4], [17, 6]]) {
      const tot = prod(shape), x2 = rnd(2 * 2 * tot), y2 = x2.slice();
      fftn(y2, shape, 1, 2);
      const z = x2.slice();
      let L = 1;
      for (let a = shape.length - 1; a >= 0; a--) {
        const m = shape[a], outer = (2 * tot) / (m * L), v = new Float64Array(2 * m);
        for (let o = 0; o < outer; o++) for (let l = 0; l < L; l++) {
          for (let j = 0; j < m; j++) { const i = 2 * ((o * m + j) * L + l); v[2 * j] = z[i]; v[2 * j + 1] = z[i + 1]; }
          const r = dft(v, m, 1);
          for (let j = 0; j < m; j++) { const i = 2 * ((o * m + j) * L + l); z[i] = r[2 * j]; z[i + 1] = r[2 * j + 1]; }
        }
        L *= m;
      }
      assert.ok(relErr(y2, z) < 1e-13, `shape ${shape}`);
    }
  });
});

describe('nufft params', () => {
  it('rejects eps below the precision limit with the limit in the message', () => {
    assert.throws(() => params.chooseKernel({ eps: 1e-13, dtype: 'float64' }), /1e-12/);
    assert.throws(() => params.chooseKernel({ eps: 5e-7, dtype: 'float32' }), /1e-6/);
    assert.throws(() => params.chooseKernel({ eps: 5e-5, dtype: 'float32', upsampfac: 1.25 }), /1e-4/);
    assert.throws(() => params.chooseKernel({ eps: 1e-11, upsampfac: 1.25 }), /1e-10/);
    assert.throws(() => params.chooseKernel({ eps: 1e-6, upsampfac: 1.5 }), /upsampfac/);
    assert.throws(() => new JsNufftCore({ type: 1, modes: [8], eps: 1e-13, precision: 'float64', ntransf: 1 }), /1e-12/);
  });

  it('fine grid is even, 2,3,5-smooth and ≥ max(σN, 2w)', () => {
    for (const N of [1, 7, 50, 101, 256]) {
      for (const s of [2, 1.25]) {
        const nf = params.fineGridSize(N, s, 7);
        assert.ok(nf % 2 === 0 && nf >= s * N && nf >= 14);
        let r = nf; for (const p of [2, 3, 5]) while (r % p === 0) r /= p;
        assert.strictEqual(r, 1);
      }
    }
    assert.strictEqual(params.fineGridSize(256, 2, 7), 512);
  });

  it('piecewise polynomial reproduces φ and dφ/dz', () => {
    const kp = params.chooseKernel({ eps: 1e-12 });
    const { width: w, degree, coeffs, dcoeffs } = kp.poly;
    let err = 0, derr = 0;
    const phi0 = params.kbKernel(0, kp.beta);
    for (let i = 0; i < 50; i++) {
      const u = Math.random() * 2 - 1;
      for (let j = 0; j < w; j++) {
        let v = 0, dv = 0;
        for (let p = 0; p <= degree; p++) { v = v * u + coeffs[p * w + j]; dv = dv * u + dcoeffs[p * w + j]; }
        const z = ((u + 1) / 2 + j - w / 2) / (w / 2);
        err = Math.max(err, Math.abs(v - params.kbKernel(z, kp.beta)) / phi0);
        derr = Math.max(derr, Math.abs(dv - params.kbKernelDerivative(z, kp.beta)) / (kp.beta * phi0));
      }
    }
    assert.ok(err < 1e-13 && derr < 1e-13, `${err} ${derr}`);
    const z = 0.3, h = 1e-5;
    const fd = (params.kbKernel(z + h, kp.beta) - params.kbKernel(z - h, kp.beta)) / (2 * h);
    assert.ok(Math.abs(fd - params.kbKernelDerivative(z, kp.beta)) < 1e-6 * Math.abs(fd));
  });

  it('the kernel polynomial adds under 5% of eps to values and derivatives, band edge included', () => {
    // 1-D interpolation of single modes f[k] = 1 (band edges included): the output's change when
    // the polynomial replaces the exact φ (and dφ/dz), relative to |c| = 1 and to |∂c| = |k|.
    const N = 64;
    for (const sigma of [2, 1.25]) {
      for (const eps of sigma === 2 ? [1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12] : [1e-2, 1e-4, 1e-6, 1e-8]) {
        for (const gradient of [false, true]) {
          const kp = params.chooseKernel({ eps, upsampfac: sigma, gradient });
          const { width: w, degree, coeffs, dcoeffs } = kp.poly;
          const nf = params.fineGridSize(N, sigma, w);
          const phat = params.kernelFourierSeries(w, kp.beta, nf, N);
          let worst = 0, worstD = 0;
          for (const k of [-N / 2, -N / 4, 1, N / 4 - 1, N / 2 - 1]) {
            for (let t = 0; t < 100; t++) {
              const y = Math.random() * nf, i0 = Math.ceil(y - w / 2), u = 2 * (i0 - (y - w / 2)) - 1;
              let vr = 0, vi = 0, gr = 0, gi = 0;
              for (let j = 0; j < w; j++) {
                let v = 0, dv = 0;
                for (let p = 0; p <= degree; p++) { v = v * u + coeffs[p * w + j]; dv = dv * u + dcoeffs[p * w + j]; }
                const z = ((u + 1) / 2 + j - w / 2) / (w / 2);
                const dv0 = v - params.kbKernel(z, kp.beta);
                const dd0 = (dv - params.kbKernelDerivative(z, kp.beta)) * (2 / w) * (nf / (2 * Math.PI));
                const ang = (2 * Math.PI * k * (i0 + j)) / nf, c = Math.cos(ang) / phat[k + N / 2], s = Math.sin(ang) / phat[k + N / 2];
                vr += c * dv0; vi += s * dv0; gr += c * dd0; gi += s * dd0;
              }
              worst = Math.max(worst, Math.hypot(vr, vi));
              worstD = Math.max(worstD, Math.hypot(gr, gi) / Math.abs(k));
            }
          }
          assert.ok(worst <= 0.05 * eps, `σ ${sigma} eps ${eps} w ${w} deg ${degree}: fit adds ${worst} to values`);
          if (gradient) assert.ok(worstD <= 0.05 * eps, `σ ${sigma} eps ${eps} w ${w} deg ${degree}: fit adds ${worstD} to derivatives`);
        }
      }
    }
  });

  it('kernelFourierSeries matches the discrete sum it stands for', () => {
    const kp = params.chooseKernel({ eps: 1e-9 }), w = kp.width, nf = 40, N = 20;
    const phat = params.kernelFourierSeries(w, kp.beta, nf, N);
    const y = 7.3;
    for (let i = 0; i < N; i++) {
      const k = i - N / 2;
      let re = 0;
      for (let g = Math.ceil(y - w / 2); g <= y + w / 2; g++) {
        re += params.kbKernel((g - y) / (w / 2), kp.beta) * Math.cos((2 * Math.PI * k * (g - y)) / nf);
      }
      assert.ok(Math.abs(re - phat[i]) < 1e-8 * phat[N / 2], `k=${k}`);
    }
  });
});

describe('JsNufftCore accuracy vs direct NUDFT', function () {
  this.timeout(20000);
  const epsList = [1e-2, 1e-4, 1e-6, 1e-9, 1e-12];
  for (const d of [1, 2, 3]) {
    for (const type of [1, 2]) {
      it(`d=${d} type ${type} float64: error ≤ 2·eps and falls with eps`, () => {
        const [modes, M] = SIZES[d];
        let prev = Infinity;
        for (const eps of epsList) {
          const { errs: [e] } = runCase({ type, modes, M, eps });
          assert.ok(e <= 2 * eps, `eps=${eps} err=${e}`);
          assert.ok(e < prev, `error did not fall at eps=${eps}: ${e} vs ${prev}`);
          prev = e;
        }
      });
    }
  }

  it('both modeords, both isigns, odd and even N, ntransf > 1', () => {
    for (const d of [1, 2, 3]) {
      const modes = d === 1 ? [31] : d === 2 ? [12, 9] : [6, 5, 8];
      for (const type of [1, 2]) for (const modeord of [0, 1]) for (const isign of [1, -1]) {
        const { errs: [e] } = runCase({ type, modes, M: 150, eps: 1e-7, ntransf: 3, modeord, isign });
        assert.ok(e <= 2e-7, `d=${d} type=${type} modeord=${modeord} isign=${isign}: ${e}`);
      }
    }
  });

  it('float32 precision down to its limit 1e-6', () => {
    for (const d of [1, 2, 3]) for (const type of [1, 2]) for (const eps of [1e-2, 1e-3, 1e-5, 1e-6]) {
      const [modes, M] = SIZES[d];
      const { errs: [e] } = runCase({ type, modes, M, eps, precision: 'float32', ntransf: 2 });
      assert.ok(e <= 2 * eps, `d=${d} type=${type} eps=${eps}: ${e}`);
    }
  });

  it('upsampfac 1.25 meets eps down to its limit 1e-10', () => {
    for (const d of [1, 2]) for (const type of [1, 2]) for (const eps of [1e-3, 1e-6, 1e-10]) {
      const modes = d === 1 ? [80] : [24, 20];
      const { errs: [e], plan } = runCase({ type, modes, M: 300, eps, upsampfac: 1.25 });
      assert.strictEqual(plan.info.upsampfac, 1.25);
      assert.ok(e <= 2 * eps, `d=${d} type=${type} eps=${eps}: ${e}`);
    }
  });

  it('reports plan info', () => {
    const p = new JsNufftCore({ type: 2, modes: [256, 256], eps: 1e-6, precision: 'float64', ntransf: 1 });
    assert.deepStrictEqual(p.info.fineGrid, [512, 512]);
    assert.strictEqual(p.info.width, 7);
    assert.strictEqual(p.info.isign, -1);
    assert.ok(p.info.beta > 0 && p.info.gradientWidthIncrease === undefined);
  });
});

describe('JsNufftCore adjointness', () => {
  it('⟨type1(c), f⟩ = ⟨c, type2(f)⟩ with opposite isigns (plain and gradient)', () => {
    for (const d of [1, 2, 3]) for (const gradient of [false, true]) for (const s of [1, -1]) {
      const modes = d === 1 ? [21] : d === 2 ? [10, 9] : [6, 7, 5], M = 120, nt = 2;
      const rows = gradient ? 1 + d : 1;
      const pts = randomPoints(d, M);
      const p1 = new JsNufftCore({ type: 1, modes, eps: 1e-4, precision: 'float64', ntransf: nt, isign: s, gradient });
      const p2 = new JsNufftCore({ type: 2, modes, eps: 1e-4, precision: 'float64', ntransf: nt, isign: -s, gradient });
      p1.setPoints(pts, M); p2.setPoints(pts, M);
      const c = rnd(2 * nt * rows * M), f = rnd(2 * nt * prod(modes));
      const F = new Float64Array(f.length), C = new Float64Array(c.length);
      p1.execute(c, F); p2.execute(f, C);
      const [a, b] = [cdot(F, f), cdot(c, C)];
      const scale = Math.hypot(...a);
      assert.ok(Math.hypot(a[0] - b[0], a[1] - b[1]) < 1e-12 * scale, `d=${d} grad=${gradient} s=${s}`);
    }
  });
});

describe('JsNufftCore fused gradient', function () {
  this.timeout(20000);
  for (const d of [1, 2, 3]) {
    it(`d=${d}: value and every derivative row meet eps (both types)`, () => {
      const [modes, M] = SIZES[d];
      for (const type of [1, 2]) for (const eps of [1e-3, 1e-6, 1e-10]) {
        const { errs, plan } = runCase({ type, modes, M, eps, gradient: true });
        assert.strictEqual(plan.info.gradientWidthIncrease, 1);
        assert.strictEqual(errs.length, type === 1 ? 1 : 1 + d);
        errs.forEach((e, r) => assert.ok(e <= 2 * eps, `type=${type} eps=${eps} row=${r}: ${e}`));
      }
    });
  }

  it('gradient with modeord 1, flipped isign, ntransf 2, float32 and σ = 1.25', () => {
    for (const type of [1, 2]) {
      for (const [opts, eps] of [[{ modeord: 1, isign: type === 1 ? -1 : 1, ntransf: 2 }, 1e-8],
        [{ precision: 'float32' }, 1e-5], [{ precision: 'float32' }, 1e-6], [{ upsampfac: 1.25 }, 1e-7]]) {
        const { errs } = runCase({ type, modes: [11, 14], M: 200, eps, gradient: true, ...opts });
        errs.forEach((e, r) => assert.ok(e <= 2 * eps, `${JSON.stringify(opts)} type=${type} row=${r}: ${e}`));
      }
    }
  });
});

describe('gridding spread / interp', () => {
  it('spread of one point is the separable KB kernel on the periodic grid', () => {
    const kernel = params.chooseKernel({ eps: 1e-6 }), w = kernel.width, n = [16, 20];
    const pts = Float64Array.of(-0.1, 3.0); // x near the wrap on axis 0
    const grid = spread({ points: pts, M: 1, gridSize: n, strengths: Float64Array.of(0.5, -2), kernel });
    for (let g0 = 0; g0 < n[0]; g0++) for (let g1 = 0; g1 < n[1]; g1++) {
      const dist = (g, x, m) => { let t = g - ((x / (2 * Math.PI)) * m); t -= m * Math.round(t / m); return t / (w / 2); };
      const phi = params.kbKernel(dist(g0, pts[0], n[0]), kernel.beta) * params.kbKernel(dist(g1, pts[1], n[1]), kernel.beta);
      const i = 2 * (g0 * n[1] + g1);
      // polynomial evaluation is accurate to 1e-3·eps relative to φ(0) per axis
      const tol = 1e-8 * params.kbKernel(0, kernel.beta) ** 2;
      assert.ok(Math.abs(grid[i] - 0.5 * phi) <= tol && Math.abs(grid[i + 1] + 2 * phi) <= tol, `${g0},${g1}`);
    }
  });

  it('interp is the adjoint of spread, gradient rows included', () => {
    for (const d of [1, 2, 3]) for (const gradient of [false, true]) {
      const gridSize = d === 1 ? [30] : d === 2 ? [16, 18] : [10, 12, 14], M = 50, nt = 2;
      const pts = randomPoints(d, M), rows = gradient ? 1 + d : 1;
      const c = rnd(2 * nt * rows * M), g = rnd(2 * nt * prod(gridSize));
      const common = { points: pts, M, gridSize, ntransf: nt, eps: 1e-5, gradient };
      const S = spread({ ...common, strengths: c }), I = interp({ ...common, grid: g });
      const [a, b] = [cdot(S, g), cdot(c, I)];
      assert.ok(Math.hypot(a[0] - b[0], a[1] - b[1]) < 1e-12 * Math.hypot(...a), `d=${d} grad=${gradient}`);
    }
  });

  it('interp gradient rows match finite differences in the point coordinates', () => {
    const gridSize = [14, 16], M = 5, g = rnd(2 * prod(gridSize)), pts = randomPoints(2, M);
    const common = { M, gridSize, eps: 1e-10 };
    const I = interp({ ...common, points: pts, grid: g, gradient: true });
    const h = 1e-6;
    for (let a = 0; a < 2; a++) {
      const pp = pts.slice(), pm = pts.slice();
      for (let j = 0; j < M; j++) { pp[a * M + j] += h; pm[a * M + j] -= h; }
      const vp = interp({ ...common, points: pp, grid: g }), vm = interp({ ...common, points: pm, grid: g });
      for (let i = 0; i < 2 * M; i++) {
        const fd = (vp[i] - vm[i]) / (2 * h), an = I[2 * (1 + a) * M + i];
        assert.ok(Math.abs(fd - an) < 1e-5 * (Math.abs(an) + Math.abs(I[i])), `axis ${a} i ${i}: ${fd} vs ${an}`);
      }
    }
  });
});

describe('JsNufftCore validation', () => {
  it('rejects non-finite points, wrong output type and short buffers', () => {
    const p = new JsNufftCore({ type: 1, modes: [8, 8], eps: 1e-4, precision: 'float32', ntransf: 1 });
    assert.throws(() => p.setPoints(Float32Array.of(0, 1, NaN, 2), 2), /non-finite/);
    assert.throws(() => p.setPoints(Float64Array.of(0, Infinity, 1, 2), 2), /non-finite/);
    assert.throws(() => p.execute(new Float32Array(4), new Float32Array(128)), /setPoints/);
    p.setPoints(Float32Array.of(0, 1, 2, 3), 2);
    assert.throws(() => p.execute(new Float32Array(4), new Float64Array(128)), /Float32Array/);
    assert.throws(() => p.execute(new Float32Array(2), new Float32Array(128)), /input/);
    assert.throws(() => p.execute(new Float32Array(4), new Float32Array(100)), /output/);
    assert.throws(() => new JsNufftCore({ type: 1, modes: [4, 4, 4, 4], eps: 1e-6, precision: 'float64', ntransf: 1 }), /modes/);
  });
});
