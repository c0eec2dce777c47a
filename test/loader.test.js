'use strict';
const assert = require('assert');
const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { rk, caps } = require('./helpers');

const root = path.resolve(__dirname, '..');
const requireNative = process.env.RECON_KERNELS_REQUIRE_NATIVE === '1';
const nvccPresent = spawnSync('sh', ['-c', 'command -v nvcc || test -x /usr/local/cuda/bin/nvcc'], { encoding: 'utf8' }).status === 0;

/** Runs a snippet in a fresh process (the loader caches per process) and returns its JSON. */
function inChild(code, env = {}, cwdRoot = root) {
  const out = execFileSync(process.execPath, ['-e', `const rk=require(${JSON.stringify(cwdRoot)});${code}`], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop());
}

describe('loader and capabilities', function () {
  it('reports backends, CUDA and cuFFT status with reasons', function () {
    assert.ok(caps.backends.includes('js'));
    assert.strictEqual(caps.backends.includes('native'), caps.addon.loaded);
    if (!caps.cuda.available) assert.ok(caps.cuda.reason.length > 10, 'CUDA unavailable without a reason');
    else assert.ok(caps.cuda.devices.length > 0 && caps.cuda.devices[0].name);
    if (caps.addon.loaded) {
      assert.ok(caps.addon.build.builder === 'cmake-js' || caps.addon.build.builder === 'node-gyp');
      if (caps.cufft.loaded) assert.ok(caps.cufft.version > 0 && caps.cufft.path);
      else assert.ok(caps.cufft.error && caps.cufft.searched.length >= 2, 'cuFFT missing without error text and search list');
    } else {
      assert.ok(caps.addon.attempts.length > 0 && caps.addon.attempts.every((a) => a.error));
    }
  });

  it('has the native addon with CUDA compiled in when required', function () {
    if (!requireNative) this.skip();
    assert.ok(caps.addon.loaded, `RECON_KERNELS_REQUIRE_NATIVE=1 but the addon did not load: ${JSON.stringify(caps.addon.attempts)}`);
    if (nvccPresent) assert.ok(caps.cuda.compiled, 'nvcc is present but the addon was built without CUDA');
  });

  it('keeps the error of a bad RECON_KERNELS_NATIVE and falls back', function () {
    const r = inChild('const c=rk.capabilities();console.log(JSON.stringify(c.addon))', { RECON_KERNELS_NATIVE: '/nonexistent/rk.node' });
    assert.strictEqual(r.attempts[0].source, 'env');
    assert.match(r.attempts[0].error, /Cannot find module|nonexistent/);
    assert.strictEqual(r.loaded, caps.addon.loaded);
  });

  it('RECON_KERNELS_BACKEND=js makes js the default host backend', function () {
    const r = inChild('console.log(JSON.stringify(rk.capabilities().defaultHostBackend))', { RECON_KERNELS_BACKEND: 'js' });
    assert.strictEqual(r, 'js');
  });

  it('RECON_KERNELS_CUFFT pointing nowhere fails cleanly and names the path', function () {
    if (!caps.addon.loaded) this.skip();
    const r = inChild('console.log(JSON.stringify(rk.capabilities().cufft))', { RECON_KERNELS_CUFFT: '/nonexistent/libcufft.so.12' });
    assert.strictEqual(r.loaded, false);
    assert.match(r.error, /\/nonexistent\/libcufft\.so\.12/);
    assert.deepStrictEqual(r.searched, ['/nonexistent/libcufft.so.12']);
  });

  it('loads the prebuild through node-gyp-build when no local build exists', function () {
    const prebuild = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'recon-kernels.node');
    if (!fs.existsSync(prebuild)) {
      if (requireNative) assert.fail(`no prebuild at ${prebuild}: run npm run prebuild`);
      this.skip();
    }
    // A package copy without build/, so only the prebuild can serve.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rk-prebuild-'));
    try {
      fs.cpSync(path.join(root, 'dist'), path.join(dir, 'dist'), { recursive: true });
      fs.cpSync(path.join(root, 'prebuilds'), path.join(dir, 'prebuilds'), { recursive: true });
      fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
      fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
      const r = inChild('const c=rk.capabilities();console.log(JSON.stringify({a:c.addon,cuda:c.cuda.compiled}))', {}, dir);
      assert.ok(r.a.loaded, `prebuild did not load: ${JSON.stringify(r.a.attempts)}`);
      assert.strictEqual(r.a.source, 'prebuild');
      assert.strictEqual(fs.realpathSync(r.a.path), fs.realpathSync(path.join(dir, 'prebuilds', `${process.platform}-${process.arch}`, 'recon-kernels.node')));
      if (nvccPresent && requireNative) assert.ok(r.cuda, 'the prebuild has no CUDA compiled in');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the addon exports what lib/native-types.ts declares', function () {
    if (!caps.addon.loaded) this.skip();
    const addon = require(caps.addon.path);
    for (const name of ['buildInfo', 'cudaInfo', 'cufftInfo', 'DeviceBuffer', 'tv3d', 'arrayOp', 'cpuCopyBandwidth', 'cudaCopyBandwidth', 'hardwareThreads']) {
      assert.ok(name in addon, `addon lacks ${name}`);
    }
    assert.throws(() => addon.tv3d({ kind: 9 }, true), (e) => e.code === 'INVALID_ARGUMENT');
    // A failure inside a sync op's work keeps its own code (complex clamp is refused by the kernel).
    const clamp = { op: 7, dtype: 'float64', complex: true, n: 2, alpha: 0, beta: 1, a: new Float64Array(4), out: new Float64Array(4), threads: 0 };
    assert.throws(() => addon.arrayOp(clamp, true), (e) => e.code === 'NATIVE_ERROR');
    if (!caps.cuda.available) assert.throws(() => new addon.DeviceBuffer(0, 16), (e) => e.code === 'CUDA_UNAVAILABLE' || e.code === 'CUDA_ERROR');
  });
});
