import * as fs from 'fs';
import * as path from 'path';
import type { NativeAddon } from './native-types';

/** One attempt to load the addon, kept so that capabilities() can say why a source failed. */
export interface LoadAttempt {
  source: 'env' | 'local-build' | 'prebuild';
  path: string;
  error?: string;
}

export interface LoadResult {
  addon: NativeAddon | null;
  /** Where the loaded addon came from, or null when the js backend serves alone. */
  loadedFrom: LoadAttempt | null;
  attempts: LoadAttempt[];
}

/** The package root: dist/lib/loader.js sits two levels below it. */
export const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

let cached: LoadResult | undefined;

function tryRequire(attempt: LoadAttempt, attempts: LoadAttempt[]): NativeAddon | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const addon = require(attempt.path) as NativeAddon;
    attempts.push(attempt);
    return addon;
  } catch (e) {
    attempt.error = (e as Error).message.split('\n')[0];
    attempts.push(attempt);
    return null;
  }
}

/**
 * Loads the addon once, in this order: RECON_KERNELS_NATIVE (a .node path), the local build
 * (build/Release), the prebuild for this platform (prebuilds/<platform>-<arch>), else none.
 * Every failed attempt is kept with its error text.
 */
export function loadAddon(): LoadResult {
  if (cached) return cached;
  const attempts: LoadAttempt[] = [];
  let addon: NativeAddon | null = null;
  let loadedFrom: LoadAttempt | null = null;
  const envPath = process.env.RECON_KERNELS_NATIVE;
  const candidates: LoadAttempt[] = [];
  if (envPath) candidates.push({ source: 'env', path: path.resolve(envPath) });
  for (const dir of ['Release', 'Debug']) {
    const p = path.join(PACKAGE_ROOT, 'build', dir, 'recon_kernels.node');
    if (fs.existsSync(p)) candidates.push({ source: 'local-build', path: p });
  }
  const prebuildDir = path.join(PACKAGE_ROOT, 'prebuilds', `${process.platform}-${process.arch}`);
  for (const p of prebuildCandidates(candidates.map((c) => c.path))) candidates.push({ source: 'prebuild', path: p });
  for (const c of candidates) {
    addon = tryRequire(c, attempts);
    if (addon) {
      loadedFrom = c;
      break;
    }
  }
  if (!envPath && candidates.length === 0) {
    attempts.push({ source: 'local-build', path: path.join(PACKAGE_ROOT, 'build', 'Release', 'recon_kernels.node'), error: 'not built' });
    attempts.push({ source: 'prebuild', path: prebuildDir, error: 'no prebuild for this platform' });
  }
  cached = { addon, loadedFrom, attempts };
  return cached;
}

/**
 * Prebuilds for this platform as node-gyp-build resolves them (it knows the tag rules), then any
 * other .node in prebuilds/<platform>-<arch>, skipping paths already tried.
 */
function prebuildCandidates(tried: string[]): string[] {
  const out: string[] = [];
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };
    out.push(path.resolve(nodeGypBuild.path(PACKAGE_ROOT)));
  } catch {
    // no prebuild matched; the directory scan below still lists what is there
  }
  const dir = path.join(PACKAGE_ROOT, 'prebuilds', `${process.platform}-${process.arch}`);
  if (fs.existsSync(dir)) {
    for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.node')).sort()) out.push(path.join(dir, f));
  }
  return [...new Set(out)].filter((p) => !tried.includes(p));
}

/** The addon, or null when only the js backend is available. */
export function addon(): NativeAddon | null {
  return loadAddon().addon;
}
