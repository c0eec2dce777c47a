'use strict';
// CUDA NUFFT (cuda/nufft_cuda.cu) through the addon's NufftPlan on a device: vs the exact direct
// sums (1-3 D, both types, gradient, f32/f64, ntransf > 1, modeord/isign, σ = 1.25), vs the native
// plan, split bins, host-array uploads, batched point sets (P > 1) and per-axis widths / fine
// grids (vs P separate plans, direct sums and the native plan's info), errors, cuFFT missing
// (child process), memory freed on dispose; plus the public nufft.plan on 'cuda'. Skips without a
// GPU (needCuda), fails when RECON_KERNELS_REQUIRE_CUDA=1 and CUDA is unusable.
const assert = require('assert');
const path = require('path');
const { execFileSync } = require('child_process');
const { rk, needCuda } = require('./helpers');
const { addon: loadAddon } = require('../dist/lib/loader');
const { directNudft1, directNudft2 } = require('../dist/lib/js/nudft.js');

const addon = loadAddon();
const { relErr, rowErrs, makeAddonPlan } = require('./nufft-test-utils');
const makePlan = (o, device = 0) => makeAddonPlan(addon, o, device);
const prod = (a) => a.reduce((x, y) => x * y, 1);
const rnd = (n, T = Float64Array) => T.from({ length: n }, () => Math.random() * 2 - 1 || 0.5);
const randomPoints = (d, M, T = Float64Array) => T.from({ length: d * M }, () => (Math.random() * 2 - 1) * 3 * Math.PI);

/** The addon's NufftPlan with P, per-axis width and fineGrid passed through; device −1 is the CPU. */
function makeAxisPlan(o, device) {
  return new addon.NufftPlan({
    type: o.type, modes: o.modes, ntransf: o.ntransf ?? 1, isign: o.type === 1 ? 1 : -1, modeord: 0, eps: o.eps ?? 1e-6,
    upsampfac: o.upsampfac ?? 2, gradient: !!o.gradient, dtype: o.dtype ?? 'complex128', width: o.width ?? 0, threads: 0,
    device, ...(o.P !== undefined ? { P: o.P } : {}), ...(o.fineGrid ? { fineGrid: o.fineGrid } : {}),
  });
}

/** A DeviceBuffer on cuda:0 holding `host` (or zeros of `n` reals of host's type). */
function devFrom(host) {
  const b = new addon.DeviceBuffer(0, Math.max(host.byteLength, 1));
  if (host.length) b.upload(host, true);
  return b;
}

/**
 * One transform on the GPU. pointsOnHost: pass the points as a host typed array (the plan
 * uploads them). Returns { out (host copy), input, pts, plan }.
 */
function runGpu(o, pts, input, pointsOnHost = false) {
  const { type, modes, M, ntransf = 1, gradient = false } = o;
  const d = modes.length, rows = gradient ? 1 + d : 1, nm = prod(modes);
  const T = o.dtype === 'complex64' ? Float32Array : Float64Array;
  const plan = makePlan(o);
  const bufs = [];
  try {
    const pbuf = pointsOnHost ? pts : devFrom(pts);
    if (!pointsOnHost) bufs.push(pbuf);
    plan.setPoints(pbuf, M, true);
    const outLen = type === 2 ? 2 * ntransf * rows * M : 2 * ntransf * nm;
    const ib = devFrom(input), ob = new addon.DeviceBuffer(0, Math.max(outLen * T.BYTES_PER_ELEMENT, 1));
    bufs.push(ib, ob);
    plan.execute(ib, ob, true);
    const out = new T(outLen);
    if (outLen) ob.download(out, true);
    return { out, plan };
  } finally {
    for (const b of bufs) b.free();
  }
}

/** Sets points (M per set) and executes `plan` on cuda:0 buffers; returns a host copy of the output. */
function execOnGpu(plan, pts, M, input, outLen, T) {
  const bufs = [devFrom(pts), devFrom(input), new addon.DeviceBuffer(0, Math.max(outLen * T.BYTES_PER_ELEMENT, 1))];
  try {
    plan.setPoints(bufs[0], M, true);
    plan.execute(bufs[1], bufs[2], true);
    const out = new T(outLen);
    bufs[2].download(out, true);
    return out;
  } finally {
    for (const b of bufs) b.free();
  }
}

/** GPU transform vs the direct sum: per-row errors. */
function vsDirect(o, pointsOnHost = false) {
  const { type, modes, M, ntransf = 1, gradient = false, modeord = 0 } = o;
  const d = modes.length, rows = gradient ? 1 + d : 1, nm = prod(modes);
  const T = o.dtype === 'complex64' ? Float32Array : Float64Array;
  const isign = o.isign ?? (type === 1 ? 1 : -1);
  const pts = o.points ?? randomPoints(d, M, T);
  const input = rnd(type === 1 ? 2 * ntransf * rows * M : 2 * ntransf * nm, T);
  const { out, plan } = runGpu({ ...o, isign }, pts, input, pointsOnHost);
  const common = { points: pts, M, modes, ntransf, isign, modeord, gradient };
  const errs = type === 1 ? [relErr(out, directNudft1({ ...common, strengths: input }))]
    : rowErrs(out, directNudft2({ ...common, coefs: input }), ntransf, rows, M);
  return { errs, plan };
}

const SIZES = { 1: [[50], 400], 2: [[20, 17], 300], 3: [[8, 9, 7], 200] };

describe('cuda NUFFT plan (addon)', function () {
  this.timeout(120000);
  beforeEach(function () {
    needCuda(this);
    if (!addon || !addon.NufftPlan) assert.fail('the addon has no NufftPlan');
  });

  for (const d of [1, 2, 3]) {
    const [modes, M] = SIZES[d];
    for (const type of [1, 2]) {
      for (const gradient of [false, true]) {
        it(`${d}-D type ${type}${gradient ? ' gradient' : ''}: f64 / f32 / ntransf 3 + modeord 1 + flipped isign / σ 1.25 vs direct sums`, () => {
          const cases = [
            { dtype: 'complex128', eps: 1e-9 },
            { dtype: 'complex64', eps: 1e-5 },
            { dtype: 'complex128', eps: 1e-6, ntransf: 3, modeord: 1, isign: type === 1 ? -1 : 1 },
            { dtype: 'complex128', eps: 1e-8, upsampfac: 1.25 },
            { dtype: 'complex128', eps: 1e-12 },
          ];
          for (const c of cases) {
            const { errs, plan } = vsDirect({ type, modes, M, gradient, ...c }, c.dtype === 'complex64');
            const tol = c.dtype === 'complex64' ? 20 * c.eps : 10 * c.eps;
            for (const e of errs) assert.ok(e < tol, `${JSON.stringify(c)} w=${plan.info.width}: errors ${errs.map((x) => x.toExponential(2))}`);
            const t = plan.timings();
            for (const k of ['sortMs', 'spreadMs', 'fftMs', 'deconvolveMs', 'totalMs']) assert.ok(t[k] >= 0, `timing ${k} = ${t[k]}`);
            plan.dispose();
          }
        });
      }
    }
  }

  it('agrees with the native plan to ~1e-12 (f64) on larger grids, incl. wide kernels', function () {
    const cfgs = [
      { modes: [1000], M: 20000, eps: 1e-9 },
      { modes: [120, 90], M: 20000, eps: 1e-9, modeord: 1 },
      { modes: [40, 36, 30], M: 20000, eps: 1e-6, ntransf: 2 },
      { modes: [48, 20], M: 5000, eps: 1e-10, upsampfac: 1.25 }, // w = 18: KW 32 path
      { modes: [18, 16, 12], M: 5000, eps: 1e-10, upsampfac: 1.25, gradient: true }, // w = 19, 3-D
    ];
    for (const cfg of cfgs) {
      for (const type of [1, 2]) {
        for (const gradient of cfg.gradient ? [true] : [false, true]) {
          const o = { ...cfg, type, gradient };
          const d = cfg.modes.length, rows = gradient ? 1 + d : 1, nm = prod(cfg.modes), ntransf = cfg.ntransf ?? 1;
          const pts = randomPoints(d, cfg.M);
          const input = rnd(type === 1 ? 2 * ntransf * rows * cfg.M : 2 * ntransf * nm);
          const { out, plan } = runGpu(o, pts, input);
          const cpu = makePlan(o, -1);
          cpu.setPoints(pts, cfg.M, true);
          const ref = new Float64Array(out.length);
          cpu.execute(input, ref, true);
          assert.deepStrictEqual(plan.info.fineGrid, cpu.info.fineGrid);
          assert.strictEqual(plan.info.width, cpu.info.width);
          const e = relErr(out, ref);
          assert.ok(e < 1e-12, `${JSON.stringify(o)}: cuda vs native ${e}`);
          plan.dispose();
          cpu.dispose();
        }
      }
    }
  });

  it('clustered points (bins split into several subproblems), points on bin and period edges', () => {
    for (const d of [1, 2, 3]) {
      const modes = SIZES[d][0], M = 3000;
      const pts = new Float64Array(d * M);
      for (let i = 0; i < d * M; i++) pts[i] = 0.3 + 1e-3 * Math.random(); // one bin
      for (let j = 0; j < 40; j++) for (let a = 0; a < d; a++) pts[a * M + j] = [0, -0, 2 * Math.PI, -2 * Math.PI, Math.PI, -Math.PI, 1e-17, 2 * Math.PI - 1e-15][j % 8] + 2 * Math.PI * ((j % 5) - 2);
      for (const type of [1, 2]) {
        for (const gradient of [false, true]) {
          const { errs } = vsDirect({ type, modes, M, gradient, eps: 1e-9, points: pts });
          for (const e of errs) assert.ok(e < 1e-8, `${d}-D type ${type} grad ${gradient}: ${errs}`);
        }
      }
    }
  });

  it('async setPoints / execute, re-setting points with another M, M = 0', async () => {
    const plan = makePlan({ type: 1, modes: [12, 10], eps: 1e-6 });
    for (const M of [100, 7, 0, 250]) {
      const pts = randomPoints(2, M), c = rnd(2 * M);
      const pb = devFrom(pts), cb = devFrom(c), ob = new addon.DeviceBuffer(0, 2 * 120 * 8);
      await plan.setPoints(pb, M, false);
      await plan.execute(cb, ob, false);
      const out = new Float64Array(240);
      ob.download(out, true);
      if (M === 0) assert.ok(out.every((v) => v === 0));
      else assert.ok(relErr(out, directNudft1({ points: pts, M, modes: [12, 10], strengths: c, isign: 1 })) < 1e-5);
      for (const b of [pb, cb, ob]) b.free();
    }
    plan.dispose();
  });

  it('errors: NON_FINITE points, wrong dtype, short buffers, disposed', () => {
    const plan = makePlan({ type: 2, modes: [8, 8], eps: 1e-6 });
    const bad = randomPoints(2, 10);
    bad[13] = NaN;
    const pb = devFrom(bad);
    assert.throws(() => plan.setPoints(pb, 10, true), (e) => e.code === 'NON_FINITE' && /index 13/.test(e.message));
    assert.throws(() => plan.execute(pb, pb, true), (e) => e.code === 'INVALID_ARGUMENT'); // no points yet
    assert.throws(() => plan.setPoints(new Float32Array(20), 10, true), (e) => e.code === 'INVALID_DTYPE');
    assert.throws(() => plan.setPoints(pb, 11, true), (e) => e.code === 'INVALID_SHAPE');
    plan.setPoints(randomPoints(2, 10), 10, true); // host points: uploaded by the plan
    const small = new addon.DeviceBuffer(0, 8);
    assert.throws(() => plan.execute(small, pb, true), (e) => e.code === 'INVALID_SHAPE');
    pb.free();
    small.free();
    plan.dispose();
    assert.throws(() => plan.setPoints(bad, 10, true), (e) => e.code === 'DISPOSED');
  });

  it('batched errors: bad P / widths / fine grids as on the CPU, short [P, d, M] points, NON_FINITE flat index', () => {
    const bads = [
      { type: 1, modes: [16, 16], P: 0 },
      { type: 1, modes: [16, 16], width: [4, 17] },
      { type: 1, modes: [16, 16], fineGrid: [34, 32] },
      { type: 1, modes: [16, 16], fineGrid: [16, 32] },
      { type: 1, modes: [16, 16], width: [12, 12], fineGrid: [20, 32] },
    ];
    for (const o of bads) {
      let cpuMsg = null;
      assert.throws(() => makeAxisPlan(o, -1), (e) => { cpuMsg = e.message; return e.code === 'INVALID_ARGUMENT'; });
      assert.throws(() => makeAxisPlan(o, 0), (e) => e.code === 'INVALID_ARGUMENT' && e.message === cpuMsg, JSON.stringify(o));
    }
    const plan = makeAxisPlan({ type: 2, modes: [8, 8], P: 2 }, 0);
    const pts = randomPoints(2 * 2, 10);
    const short = devFrom(pts.subarray(0, 2 * 10));
    assert.throws(() => plan.setPoints(short, 10, true), (e) => e.code === 'INVALID_SHAPE');
    pts[2 * 10 + 13] = NaN; // set 1, row 1, point 3
    const pb = devFrom(pts);
    assert.throws(() => plan.setPoints(pb, 10, true), (e) => e.code === 'NON_FINITE' && /index 33\b/.test(e.message));
    short.free();
    pb.free();
    plan.dispose();
  });

  for (const dtype of ['complex128', 'complex64']) {
    it(`batched P = 3 (${dtype}, 2-D and 3-D, types 1 and 2, ntransf 2): equal to 3 plans and to direct sums within 2·eps`, () => {
      const T = dtype === 'complex64' ? Float32Array : Float64Array;
      const eps = dtype === 'complex64' ? 1e-4 : 1e-9;
      const rounding = dtype === 'complex64' ? 2e-6 : 1e-12;
      for (const modes of [[20, 17], [8, 9, 7]]) {
        const P = 3, nt = 2, M = 1500, d = modes.length, nm = prod(modes);
        const pts = randomPoints(P * d, M, T);
        // Set 1 crowds into one bin (more points than one spreading subproblem takes), plus points
        // on period edges.
        for (let i = d * M; i < 2 * d * M; i++) pts[i] = i % 9 === 0 ? [0, 2 * Math.PI, -Math.PI][i % 3] : 0.3 + Math.random();
        for (const type of [1, 2]) {
          const setIn = type === 1 ? 2 * nt * M : 2 * nt * nm, setOut = type === 1 ? 2 * nt * nm : 2 * nt * M;
          const input = rnd(P * setIn, T);
          const batched = makeAxisPlan({ type, modes, ntransf: nt, eps, dtype, P }, 0);
          const out = execOnGpu(batched, pts, M, input, P * setOut, T);
          batched.dispose();
          const single = makeAxisPlan({ type, modes, ntransf: nt, eps, dtype }, 0);
          for (let p = 0; p < P; p++) {
            const ps = pts.subarray(p * d * M, (p + 1) * d * M), xs = input.subarray(p * setIn, (p + 1) * setIn);
            const got = out.subarray(p * setOut, (p + 1) * setOut);
            const ref = execOnGpu(single, ps, M, xs, setOut, T);
            const eSep = relErr(got, ref);
            assert.ok(eSep < rounding, `${d}-D type ${type} set ${p}: batched vs separate plan ${eSep}`);
            const common = { points: ps, M, modes, ntransf: nt };
            const exact = type === 1 ? directNudft1({ ...common, isign: 1, strengths: xs }) : directNudft2({ ...common, isign: -1, coefs: xs });
            const e = relErr(got, exact);
            assert.ok(e <= 2 * eps, `${d}-D type ${type} set ${p}: ${e.toExponential(2)} vs direct, eps ${eps}`);
          }
          single.dispose();
        }
      }
    });
  }

  it('per-axis widths and fine grids: info equals the native plan\'s (widths, betas, fine grid)', () => {
    const cases = [
      { type: 1, modes: [16, 20, 24], width: [4, 6, 6] },
      { type: 2, modes: [16, 20, 24], width: [8, 5, 7], P: 2 },
      { type: 1, modes: [32, 30], width: [3, 9], P: 3 },
      { type: 2, modes: [32, 30], width: [6, 6], fineGrid: [50, 64] },
      { type: 1, modes: [32, 30], fineGrid: [48, 40] },
      { type: 2, modes: [12, 10, 14], width: [4, 6, 5], gradient: true },
      { type: 1, modes: [16, 20, 24], width: [4, 6, 6], dtype: 'complex64', eps: 1e-5 },
      { type: 1, modes: [40], eps: 1e-9 },
    ];
    for (const o of cases) {
      const cpu = makeAxisPlan(o, -1), gpu = makeAxisPlan(o, 0);
      assert.deepStrictEqual(gpu.info, cpu.info, JSON.stringify(o));
      assert.strictEqual(gpu.info.widths.length, o.modes.length);
      cpu.dispose();
      gpu.dispose();
    }
  });

  it('per-axis widths [4, 6, 6] (3-D) and per-axis fine grids: types 1 and 2 meet info.expectedError (direct sums), equal the native plan', () => {
    const cases = [
      { modes: [16, 20, 24], width: [4, 6, 6] },
      { modes: [16, 20, 24], width: [4, 6, 6], P: 2 },
      { modes: [32, 30], width: [6, 6], fineGrid: [50, 64] },
    ];
    for (const c of cases) {
      const P = c.P ?? 1, d = c.modes.length, M = 400, nm = prod(c.modes);
      const pts = randomPoints(P * d, M);
      const ptsShape = P > 1 ? [P, d, M] : [d, M];
      for (const type of [1, 2]) {
        const inShape = type === 1 ? (P > 1 ? [P, M] : [M]) : (P > 1 ? [P, ...c.modes] : c.modes);
        const x = rnd(2 * prod(inShape));
        const opts = { type, modes: c.modes, dtype: 'complex128', width: c.width, fineGrid: c.fineGrid, ...(P > 1 ? { P } : {}) };
        const gpu = rk.nufft.plan({ ...opts, device: 'cuda' });
        gpu.setPointsSync(rk.tensor(pts, { shape: ptsShape, dtype: 'float64', device: 'cuda' }));
        const got = gpu.executeSync(rk.tensor(x, { shape: inShape, dtype: 'complex128', device: 'cuda' })).toArraySync();
        const cpu = rk.nufft.plan({ ...opts, backend: 'native' });
        cpu.setPointsSync(rk.tensor(pts, { shape: ptsShape, dtype: 'float64' }));
        const ref = cpu.executeSync(rk.tensor(x, { shape: inShape, dtype: 'complex128' })).toArraySync();
        assert.deepStrictEqual(gpu.info.widths, c.width);
        if (c.fineGrid) assert.deepStrictEqual(gpu.info.fineGrid, c.fineGrid);
        assert.strictEqual(gpu.info.expectedError, cpu.info.expectedError);
        assert.ok(relErr(got, ref) < 1e-12, `${JSON.stringify(c)} type ${type}: cuda vs native ${relErr(got, ref)}`);
        const setIn = x.length / P, setOut = got.length / P;
        for (let p = 0; p < P; p++) {
          const common = { points: pts.subarray(p * d * M, (p + 1) * d * M), M, modes: c.modes };
          const xs = x.subarray(p * setIn, (p + 1) * setIn);
          const exact = type === 1 ? directNudft1({ ...common, isign: 1, strengths: xs }) : directNudft2({ ...common, isign: -1, coefs: xs });
          const e = relErr(got.subarray(p * setOut, (p + 1) * setOut), exact);
          assert.ok(e <= 1.5 * gpu.info.expectedError, `${JSON.stringify(c)} type ${type} set ${p}: ${e.toExponential(2)} vs expected ${gpu.info.expectedError.toExponential(2)}`);
        }
        gpu.dispose();
        cpu.dispose();
      }
    }
  });

  it('frees its device memory on dispose (60 × 2 GiB fine grids)', () => {
    const modes = [256, 256, 256];
    const input = new addon.DeviceBuffer(0, 2 * prod(modes) * 8);
    const pts = devFrom(randomPoints(3, 1000));
    const out = new addon.DeviceBuffer(0, 2 * 1000 * 8);
    try {
      for (let i = 0; i < 60; i++) {
        const plan = makePlan({ type: 2, modes, eps: 1e-6 });
        plan.setPoints(pts, 1000, true);
        plan.execute(input, out, true); // allocates the 512³ complex128 grid (2 GiB)
        plan.dispose();
      }
    } finally {
      input.free();
      pts.free();
      out.free();
    }
  });

  it('a missing cuFFT is CUFFT_UNAVAILABLE, naming what was searched (child process)', () => {
    const root = path.join(__dirname, '..');
    const script = `
      const rk = require(${JSON.stringify(root)});
      const { addon } = require(${JSON.stringify(path.join(root, 'dist/lib/loader'))});
      const out = {};
      try {
        new (addon().NufftPlan)({ type: 1, modes: [8], ntransf: 1, isign: 1, modeord: 0, eps: 1e-6, upsampfac: 2, gradient: false, dtype: 'complex128', width: 0, threads: 0, device: 0 });
      } catch (e) { out.addon = { code: e.code, message: e.message }; }
      try { rk.nufft.plan({ type: 1, modes: [8], device: 'cuda' }); } catch (e) { out.api = { code: e.code, message: e.message }; }
      process.stdout.write(JSON.stringify(out));`;
    const res = JSON.parse(execFileSync(process.execPath, ['-e', script], { env: { ...process.env, RECON_KERNELS_CUFFT: '/nonexistent/libcufft.so' }, encoding: 'utf8' }));
    for (const k of ['addon', 'api']) {
      assert.ok(res[k], `${k}: no error thrown`);
      assert.strictEqual(res[k].code, 'CUFFT_UNAVAILABLE', `${k}: ${JSON.stringify(res[k])}`);
      assert.match(res[k].message, /\/nonexistent\/libcufft\.so/);
    }
  });
});

describe('cuda NUFFT plan (public nufft.plan on cuda)', function () {
  this.timeout(60000);
  beforeEach(function () {
    needCuda(this);
  });

  it('type 1 and type 2 on cuda tensors match the cpu plan; host tensors are DEVICE_MISMATCH', async () => {
    for (const type of [1, 2]) {
      const modes = [24, 20], M = 500, dtype = 'complex128';
      const ptsHost = rk.tensor(randomPoints(2, M), { shape: [2, M], dtype: 'float64' });
      const inShape = type === 1 ? [M] : modes;
      const x = rk.tensor(rnd(2 * prod(inShape)), { shape: inShape, dtype });
      const cpu = rk.nufft.plan({ type, modes, dtype, eps: 1e-9 });
      await cpu.setPoints(ptsHost);
      const ref = await cpu.execute(x);
      const gpu = rk.nufft.plan({ type, modes, dtype, eps: 1e-9, device: 'cuda' });
      assert.strictEqual(gpu.info.backend, 'cuda');
      const ptsDev = await ptsHost.to('cuda');
      await gpu.setPoints(ptsDev);
      const xd = await x.to('cuda');
      const yd = await gpu.execute(xd);
      assert.strictEqual(yd.device, 'cuda:0');
      const y = await yd.to('cpu');
      assert.ok(relErr(y.hostData(), ref.hostData()) < 1e-12);
      await assert.rejects(gpu.execute(x), (e) => e.code === 'DEVICE_MISMATCH');
      for (const t of [ptsHost, x, ref, ptsDev, xd, yd, y]) t.dispose();
      cpu.dispose();
      gpu.dispose();
    }
  });

  it('batched plans (P = 3) on cuda tensors match the cpu plan; gradient with P > 1 is refused', async () => {
    const modes = [24, 20], M = 500, P = 3, dtype = 'complex128';
    const pts = rk.tensor(randomPoints(P * 2, M), { shape: [P, 2, M], dtype: 'float64' });
    for (const type of [1, 2]) {
      const inShape = type === 1 ? [P, M] : [P, ...modes];
      const x = rk.tensor(rnd(2 * prod(inShape)), { shape: inShape, dtype });
      const cpu = rk.nufft.plan({ type, modes, dtype, eps: 1e-9, P });
      await cpu.setPoints(pts);
      const ref = await cpu.execute(x);
      const gpu = rk.nufft.plan({ type, modes, dtype, eps: 1e-9, P, device: 'cuda' });
      await gpu.setPoints(await pts.to('cuda'));
      const yd = await gpu.execute(await x.to('cuda'));
      assert.deepStrictEqual(yd.shape, ref.shape);
      assert.ok(relErr(await yd.toArray(), ref.hostData()) < 1e-12);
      cpu.dispose();
      gpu.dispose();
    }
    assert.throws(() => rk.nufft.plan({ type: 1, modes, P: 2, gradient: true, device: 'cuda' }), (e) => e.code === 'INVALID_ARGUMENT');
  });

  it('VJPs of cuda plans equal those of the cpu plan, results on the device', async () => {
    const modes = [16, 12], M = 300, dtype = 'complex128';
    const pts = rk.tensor(randomPoints(2, M), { shape: [2, M], dtype: 'float64' });
    const c = rk.tensor(rnd(2 * M), { shape: [M], dtype });
    const gOut = rk.tensor(rnd(2 * prod(modes)), { shape: modes, dtype });
    const cpu = rk.nufft.plan({ type: 1, modes, dtype, eps: 1e-10 });
    await cpu.setPoints(pts);
    const ref = await rk.nufft.type1Vjp(cpu, c, gOut);
    const gpu = rk.nufft.plan({ type: 1, modes, dtype, eps: 1e-10, device: 'cuda' });
    await gpu.setPoints(await pts.to('cuda'));
    const got = await rk.nufft.type1Vjp(gpu, await c.to('cuda'), await gOut.to('cuda'));
    assert.strictEqual(got.data.device, 'cuda:0');
    assert.strictEqual(got.points.device, 'cuda:0');
    assert.ok(relErr(await got.data.toArray(), ref.data.hostData()) < 1e-10);
    assert.ok(relErr(await got.points.toArray(), ref.points.hostData()) < 1e-10);
    cpu.dispose();
    gpu.dispose();
  });
});
