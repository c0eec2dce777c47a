/**
 * `recon-kernels demo`: end-to-end reconstructions on the default (or chosen) backend, with a
 * PNG per reconstruction (phantom | result | difference, colour bars underneath) and a table of
 * time, PSNR and SSIM against the phantom.
 *
 * The demo is a list of sections (SECTIONS); each gets the context (backend, output folder) and
 * returns its rows. To add one (e.g. the MRI half: radial NUFFT, density-compensated adjoint,
 * CG), write a `DemoSection` and append it to SECTIONS.
 */
import * as fs from 'fs';
import * as path from 'path';
import { type Backend, type Tensor, capabilities, phantom, tensor, tomo } from '../lib/index';
import { diverging, gray, psnr, ssim, writePanels } from './image';
import * as mri from '../lib/mri/index';

/** What every section gets. */
export interface DemoContext {
  backend: Backend;
  /** Device of the tensors: 'cuda' for the cuda backend, else 'cpu'. */
  device: 'cpu' | 'cuda';
  /** Options to pass to host ops ({ backend } on js/native, {} on cuda). */
  opts: { backend?: 'js' | 'native' };
  outDir: string;
  log(line: string): void;
}

/** One reconstruction's line of the table. */
export interface DemoRow {
  section: string;
  method: string;
  backend: Backend;
  ms: number;
  psnr: number;
  ssim: number;
  png: string;
}

export interface DemoSection {
  name: string;
  run(ctx: DemoContext): Promise<DemoRow[]>;
}

/** Deterministic mulberry32 stream. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Poisson sample (Knuth below 30, normal approximation above). */
function poisson(lam: number, r: () => number): number {
  if (lam < 30) {
    const L = Math.exp(-lam);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= r();
    } while (p > L);
    return k - 1;
  }
  const g = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return Math.max(0, Math.round(lam + Math.sqrt(lam) * g));
}

/**
 * Transmission noise: counts ~ Poisson(I0·exp(−α·y)) with α making the peak attenuation 2,
 * back to line integrals −ln(counts/I0)/α (counts of 0 count as 1).
 */
export function poissonNoise(sino: ArrayLike<number>, I0: number, seed: number): Float64Array {
  const r = rng(seed);
  let mx = 0;
  for (let i = 0; i < sino.length; i++) mx = Math.max(mx, sino[i]);
  const alpha = 2 / (mx || 1);
  const out = new Float64Array(sino.length);
  for (let i = 0; i < sino.length; i++) out[i] = -Math.log(Math.max(1, poisson(I0 * Math.exp(-alpha * sino[i]), r)) / I0) / alpha;
  return out;
}

/** Scores a reconstruction against the reference and writes its PNG. */
async function report(ctx: DemoContext, section: string, method: string, ms: number, rec: Tensor, ref: Float32Array | Float64Array, h: number, w: number): Promise<DemoRow> {
  const x = await rec.toArray();
  const diff = new Float64Array(x.length);
  let dmax = 0;
  for (let i = 0; i < x.length; i++) {
    diff[i] = x[i] - ref[i];
    dmax = Math.max(dmax, Math.abs(diff[i]));
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of ref) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const file = path.join(ctx.outDir, `${section}-${method.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.png`);
  const d = Math.max(dmax, 1e-12);
  writePanels(file, h, w, [
    { data: ref, lo, hi, map: gray },
    { data: x, lo, hi, map: gray },
    { data: diff, lo: -d, hi: d, map: diverging },
  ]);
  ctx.log(`  ${method}: ${ms.toFixed(0)} ms, written ${file} (difference scale ±${d.toFixed(3)})`);
  return { section, method, backend: ctx.backend, ms, psnr: psnr(x, ref), ssim: ssim(x, ref, h, w), png: file };
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = process.hrtime.bigint();
  const r = await f();
  return [r, Number(process.hrtime.bigint() - t0) / 1e6];
}

/** Tomography: Shepp–Logan 256², 180 angles over [0, π), 384 detector columns, Poisson noise. */
export const tomographySection: DemoSection = {
  name: 'tomo',
  async run(ctx) {
    const n = 256;
    const nA = 180;
    const cols = 384;
    const ref = phantom.sheppLogan([n, n]).toArraySync();
    const A = tomo.parallelBeam({ volume: [1, n, n], angles: nA, detector: { rows: 1, cols } });
    const x = tensor(ref, { shape: [1, n, n], device: ctx.device });
    const clean = await A.forward(x, ctx.opts);
    const y = tensor(poissonNoise(await clean.toArray(), 2e4, 1234), { shape: [1, nA, cols], dtype: 'float32', device: ctx.device });
    x.dispose();
    clean.dispose();
    ctx.log(`tomography: Shepp-Logan ${n}², ${nA} angles, ${cols} detector columns, Poisson noise (2·10⁴ photons, peak attenuation 2)`);
    const rows: DemoRow[] = [];
    const [f, tf] = await timed(() => tomo.fbp(A, y, { ...ctx.opts, filter: 'shepp-logan' }));
    rows.push(await report(ctx, 'tomo', 'FBP', tf, f, ref, n, n));
    const [s, ts] = await timed(() => tomo.sirt(A, y, { ...ctx.opts, iterations: 100, min: 0 }));
    rows.push(await report(ctx, 'tomo', 'SIRT', ts, s, ref, n, n));
    s.dispose();
    const [t, tt] = await timed(async () => {
      const f0 = await tomo.fbp(A, y, { ...ctx.opts, filter: 'hann' });
      try {
        return await tomo.tvMin(A, y, { ...ctx.opts, lambda: 1, iterations: 150, min: 0, x0: f0 });
      } finally {
        f0.dispose();
      }
    });
    rows.push(await report(ctx, 'tomo', 'TV-min', tt, t, ref, n, n));
    f.dispose();
    t.dispose();
    y.dispose();
    A.dispose();
    return rows;
  },
};

/** Real part of a complex image tensor, as a float32 host tensor (for the panels and metrics). */
function realPart(t: Tensor): Tensor {
  const h = t.toArraySync();
  const out = new Float32Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = h[2 * i];
  return tensor(out, { shape: t.shape, dtype: 'float32' });
}

/**
 * MRI: radial k-space (256 spokes × 512 samples) of a 256² Shepp–Logan by NUFFT type 2,
 * reconstructed by the density-compensated adjoint NUFFT (Pipe–Menon weights) and by CG on the
 * normal equations (Toeplitz EᴴE). CUDA tensors use the NUFFT's CUDA path; while that is not
 * built the section runs on the host and says so.
 */
export const mriSection: DemoSection = {
  name: 'mri',
  async run(ctx) {
    const n = 256, spokes = 256, samples = 512;
    const ref = phantom.sheppLogan([n, n]).toArraySync();
    const img = new Float32Array(2 * n * n);
    for (let i = 0; i < n * n; i++) img[2 * i] = ref[i];
    const hostBackend = ctx.opts.backend ?? (capabilities().addon.loaded ? 'native' : 'js');
    let device: 'cpu' | 'cuda' = ctx.device;
    const make = (dev: 'cpu' | 'cuda') => {
      const traj = mri.radial({ spokes, samples, device: dev });
      const t0 = process.hrtime.bigint();
      const dcf = mri.densityCompensation(traj, { imageShape: [n, n] });
      const dcfMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const E = mri.encoding({ imageShape: [n, n], trajectory: traj, dcf, toeplitz: true, norm: 'ortho', ...(dev === 'cpu' ? { backend: hostBackend } : {}) });
      return { E, dcfMs };
    };
    let built: { E: mri.Encoding; dcfMs: number };
    try {
      built = make(device);
    } catch (e) {
      if (device === 'cpu') throw e;
      ctx.log(`mri: the CUDA NUFFT is unavailable (${(e as Error).message}); running the MRI section on the host (${hostBackend})`);
      device = 'cpu';
      built = make(device);
    }
    const { E, dcfMs } = built;
    const x = tensor(img, { shape: [n, n], dtype: 'complex64', device });
    const y = E.forwardSync(x);
    x.dispose();
    ctx.log(`mri: Shepp-Logan ${n}², radial ${spokes} spokes × ${samples} samples (NUFFT type 2, complex64), Pipe-Menon dcf ${dcfMs.toFixed(0)} ms`);
    const rows: DemoRow[] = [];
    const [a, ta] = await timed(() => E.dcfAdjoint(y));
    const ar = realPart(a);
    rows.push(await report(ctx, 'mri', 'DCF adjoint', ta + dcfMs, ar, ref, n, n));
    const [c, tc] = await timed(() => mri.cg(E, y, { iterations: 20 }));
    const cr = realPart(c);
    rows.push(await report(ctx, 'mri', 'CG', tc, cr, ref, n, n));
    for (const t of [a, ar, c, cr, y]) t.dispose();
    E.dispose();
    return rows;
  },
};

/** The demo's sections, in order. */
export const SECTIONS: DemoSection[] = [tomographySection, mriSection];

export interface DemoOptions {
  outDir: string;
  backend?: Backend;
  json?: string;
}

/** Formats the rows as a table. */
export function formatDemoTable(rows: readonly DemoRow[]): string {
  const head = ['method', 'backend', 'time', 'PSNR (dB)', 'SSIM'];
  const body = rows.map((r) => [`${r.section}: ${r.method}`, r.backend, `${(r.ms / 1000).toFixed(2)} s`, r.psnr.toFixed(2), r.ssim.toFixed(4)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** Runs every section; returns the exit status. */
export async function runDemo(o: DemoOptions): Promise<number> {
  const caps = capabilities();
  const backend = o.backend ?? caps.backends[0];
  if (!caps.backends.includes(backend)) {
    process.stderr.write(`recon-kernels demo: backend ${backend} is not available here (available: ${caps.backends.join(', ')})\n`);
    return 1;
  }
  fs.mkdirSync(o.outDir, { recursive: true });
  const ctx: DemoContext = {
    backend,
    device: backend === 'cuda' ? 'cuda' : 'cpu',
    opts: backend === 'cuda' ? {} : { backend },
    outDir: o.outDir,
    log: (l) => process.stdout.write(`${l}\n`),
  };
  const rows: DemoRow[] = [];
  for (const s of SECTIONS) rows.push(...(await s.run(ctx)));
  process.stdout.write(`\n${formatDemoTable(rows)}\n`);
  if (o.json !== undefined) fs.writeFileSync(o.json, `${JSON.stringify({ date: new Date().toISOString(), rows }, null, 2)}\n`);
  return 0;
}
