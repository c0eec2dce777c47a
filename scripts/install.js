#!/usr/bin/env node
// Builds the native addon at install time and never fails the install for lack of CUDA or a
// compiler: cmake-js (CUDA compiled in when nvcc is found) -> node-gyp (CPU only) -> the
// pure-TypeScript backend, saying in one line what it fell back to and why.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const force = process.argv.includes('--force');
const logPath = path.join(root, 'build', 'install-log.txt');
const say = (msg) => console.log(`recon-kernels: ${msg}`);
const requireNative = process.env.RECON_KERNELS_REQUIRE_NATIVE === '1';
const transcript = [];

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '';
}

function run(label, cmd, args) {
  transcript.push(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', env: process.env, maxBuffer: 256 * 1024 * 1024 });
  const out = `${r.stdout || ''}${r.stderr || ''}`;
  transcript.push(out);
  if (r.error) return { ok: false, why: `${label} could not start: ${r.error.message}`, out };
  if (r.status !== 0) {
    const lines = out.split('\n').filter((l) => /error|Error|not found|No such/.test(l));
    return { ok: false, why: `${label} failed (${lines[0] ? lines[0].trim().slice(0, 200) : `exit ${r.status}`})`, out };
  }
  return { ok: true, out };
}

// Loads a built addon in a child process, so a crash there cannot take the install with it.
function probe(file) {
  const code = `const a=require(${JSON.stringify(file)});const b=a.buildInfo();const c=a.cudaInfo();` +
    `console.log(JSON.stringify({cuda:b.cuda,archs:b.cudaArchitectures,cudaVersion:b.cudaVersion,available:c.available,reason:c.reason}))`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop());
  } catch {
    return null;
  }
}

function writeLog() {
  fs.mkdirSync(path.dirname(logPath), { recursive: true });
  fs.writeFileSync(logPath, transcript.join('\n'));
}

function describe(info) {
  if (!info.cuda) return 'native CPU backend, no CUDA (nvcc was not found or RECON_KERNELS_CUDA=0)';
  const gpu = info.available ? 'a GPU is present' : `no usable GPU here: ${info.reason}`;
  return `native CPU backend + CUDA ${info.cudaVersion} for architectures ${info.archs} (${gpu})`;
}

function main() {
  if (process.env.RECON_KERNELS_SKIP_BUILD === '1') {
    say('RECON_KERNELS_SKIP_BUILD=1: not building the addon; the js backend serves unless a prebuild loads');
    return 0;
  }
  const prebuild = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'recon-kernels.node');
  if (!force && fs.existsSync(prebuild)) {
    const info = probe(prebuild);
    if (info) {
      say(`using the prebuild ${path.relative(root, prebuild)}: ${describe(info)}`);
      return 0;
    }
    say(`the prebuild ${path.relative(root, prebuild)} does not load here; building from source`);
  }
  const reasons = [];
  if (which('cmake')) {
    const nvcc = which('nvcc') || (fs.existsSync('/usr/local/cuda/bin/nvcc') ? '/usr/local/cuda/bin/nvcc' : '');
    if (nvcc && !process.env.CUDACXX) process.env.CUDACXX = nvcc;
    say(`building the addon with cmake-js${nvcc && process.env.RECON_KERNELS_CUDA !== '0' ? ` and CUDA (${nvcc}); nvcc takes a few minutes` : ''} ...`);
    const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
    const r = run('cmake-js', process.execPath, [cmakeJs, 'compile', '--out', 'build']);
    const built = path.join(root, 'build', 'Release', 'recon_kernels.node');
    const info = r.ok && fs.existsSync(built) ? probe(built) : null;
    if (info) {
      writeLog();
      say(`built ${path.relative(root, built)}: ${describe(info)}`);
      return 0;
    }
    reasons.push(r.ok ? 'cmake-js built an addon that does not load' : r.why);
  } else {
    reasons.push('cmake-js skipped: cmake is not on PATH');
  }
  // npm passes its bundled node-gyp in npm_config_node_gyp; outside npm, look beside node.
  const bundled = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  const nodeGyp = process.env.npm_config_node_gyp || (fs.existsSync(bundled) ? bundled : '');
  if (nodeGyp) {
    say('falling back to node-gyp (CPU backend only) ...');
    // Node installs ship their headers; pointing node-gyp at them avoids a download.
    const prefix = path.resolve(path.dirname(process.execPath), '..');
    const args = [nodeGyp, 'rebuild'];
    if (!process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
    const r = run('node-gyp', process.execPath, args);
    const built = path.join(root, 'build', 'Release', 'recon_kernels.node');
    const info = r.ok && fs.existsSync(built) ? probe(built) : null;
    if (info) {
      writeLog();
      say(`built ${path.relative(root, built)} with node-gyp: ${describe(info)} (cmake-js: ${reasons.join('; ')})`);
      return 0;
    }
    reasons.push(r.ok ? 'node-gyp built an addon that does not load' : r.why);
  } else {
    reasons.push('node-gyp not found');
  }
  writeLog();
  say(`no native addon could be built (${reasons.join('; ')}); falling back to the pure-TypeScript js backend. Full log: ${path.relative(root, logPath)}`);
  return requireNative ? 1 : 0;
}

process.exit(main());
