#!/usr/bin/env node
// Release prebuild: portable CPU code (no -march=native) and CUDA for the default architecture
// list (or RECON_KERNELS_CUDA_ARCHS), built with cmake-js in its own folder and written to
// prebuilds/<platform>-<arch>/recon-kernels.node, where node-gyp-build finds it.
// prebuildify is not used: it drives node-gyp, which cannot compile the CUDA sources.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'build-prebuild');
const env = { ...process.env, RECON_KERNELS_PORTABLE: '1' };
if (!env.CUDACXX && fs.existsSync('/usr/local/cuda/bin/nvcc')) env.CUDACXX = '/usr/local/cuda/bin/nvcc';

const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
console.log(`prebuild: cmake-js compile --out ${path.relative(root, out)} (CUDA architectures: ${env.RECON_KERNELS_CUDA_ARCHS || 'default list'})`);
const r = spawnSync(process.execPath, [cmakeJs, 'compile', '--out', out], { cwd: root, env, stdio: 'inherit' });
if (r.status !== 0) {
  console.error('prebuild: the build failed');
  process.exit(1);
}
const built = path.join(out, 'Release', 'recon_kernels.node');
const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
fs.mkdirSync(dir, { recursive: true });
const target = path.join(dir, 'recon-kernels.node');
fs.copyFileSync(built, target);
spawnSync('strip', ['--strip-unneeded', target], { stdio: 'inherit' });
const probe = spawnSync(process.execPath, ['-e', `const a=require(${JSON.stringify(target)});console.log(JSON.stringify(a.buildInfo()))`], { encoding: 'utf8' });
if (probe.status !== 0) {
  console.error(`prebuild: ${target} does not load:\n${probe.stderr}`);
  process.exit(1);
}
console.log(`prebuild: wrote ${path.relative(root, target)} (${(fs.statSync(target).size / 1e6).toFixed(1)} MB) ${probe.stdout.trim()}`);
