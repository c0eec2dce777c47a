/**
 * Turns timings into the report: derived columns (throughput, speedup over js, fraction of the
 * copy bandwidth, ratio to an earlier run), the text header and table, and the JSON document.
 */
import * as fs from 'fs';
import type { Backend } from '../lib/index';
import type { RawRow, Stats } from './runner';
import type { Ceilings, SystemHeader } from './system';

/** The header of a report: the machine plus what was asked for and what was skipped. */
export interface ReportHeader extends SystemHeader {
  date: string;
  command: string;
  /** Backends asked for but unavailable, with the reason. */
  skipped: { backend: Backend; reason: string }[];
}

/** One row of the report, as written to JSON. */
export interface ReportRow {
  family: string;
  workload: string;
  backend: Backend;
  /** Bytes read + written per run. */
  bytes: number;
  repeats?: number;
  wallMs?: Stats;
  /** Kernel time from CUDA events (cuda rows). */
  deviceMs?: Stats;
  /** bytes / median wall time, GB/s. */
  throughputGBs?: number;
  /** js median / this median, for the same workload. */
  speedupOverJs?: number;
  /** Throughput (from the device median when there is one) / the device's copy bandwidth. */
  copyBandwidthFraction?: number;
  /** Earlier median / this median, from --compare. */
  compareRatio?: number;
  /** Family-specific figures (e.g. points/s, a time split, a measured error). */
  details?: Record<string, string | number>;
  error?: string;
}

/** The JSON document of --json, read back by --compare. */
export interface Report {
  header: ReportHeader;
  rows: ReportRow[];
  ceilings: Ceilings;
}

const rowKey = (r: { workload: string; backend: string }) => `${r.workload}\u0000${r.backend}`;

/**
 * Reads an earlier --json report and indexes its wall-clock medians by workload + backend.
 *
 * @throws Error when the file cannot be read or is not such a report.
 */
export function loadBaseline(file: string): Map<string, number> {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Report>;
  if (!Array.isArray(doc.rows)) throw new Error(`${file} is not a recon-kernels bench JSON report (no rows)`);
  const out = new Map<string, number>();
  for (const r of doc.rows) {
    if (r && typeof r.workload === 'string' && typeof r.backend === 'string' && typeof r.wallMs?.median === 'number') {
      out.set(rowKey(r), r.wallMs.median);
    }
  }
  return out;
}

/** Adds the derived columns to the raw timings. */
export function deriveRows(raw: readonly RawRow[], ceilings: Ceilings, baseline?: Map<string, number>): ReportRow[] {
  const jsMedian = new Map<string, number>();
  for (const r of raw) {
    if (r.backend === 'js' && 'wallMs' in r.result) jsMedian.set(`${r.family}\u0000${r.workload}`, r.result.wallMs.median);
  }
  return raw.map((r): ReportRow => {
    const row: ReportRow = { family: r.family, workload: r.workload, backend: r.backend, bytes: r.bytes };
    if (r.details) row.details = r.details;
    if ('error' in r.result) return { ...row, error: r.result.error };
    const m = r.result;
    row.repeats = m.repeats;
    row.wallMs = m.wallMs;
    if (m.deviceMs) row.deviceMs = m.deviceMs;
    // bytes 0: the workload has no meaningful byte count (e.g. operator chains); no GB/s then.
    if (r.bytes > 0) row.throughputGBs = r.bytes / (m.wallMs.median * 1e6);
    const js = jsMedian.get(`${r.family}\u0000${r.workload}`);
    if (js !== undefined) row.speedupOverJs = js / m.wallMs.median;
    const ceiling = r.backend === 'cuda' ? ceilings.cudaCopyGBs : ceilings.cpuCopyGBs;
    if (ceiling && r.bytes > 0) row.copyBandwidthFraction = r.bytes / ((m.deviceMs ?? m.wallMs).median * 1e6) / ceiling;
    const earlier = baseline?.get(rowKey(r));
    if (earlier !== undefined) row.compareRatio = earlier / m.wallMs.median;
    return row;
  });
}

const GiB = 2 ** 30;

/** The header as text lines. */
export function formatHeader(h: ReportHeader, c: Ceilings): string {
  const lines = [`recon-kernels bench (${h.date})`, `command: ${h.command}`];
  const threads = h.cpu.nativeThreads !== undefined ? `, native backend uses ${h.cpu.nativeThreads} threads` : '';
  lines.push(`CPU:    ${h.cpu.model}, ${h.cpu.cores} cores${threads}, ${(h.cpu.memoryBytes / GiB).toFixed(1)} GiB RAM`);
  if (h.gpu.devices.length > 0) {
    for (const d of h.gpu.devices) {
      lines.push(`GPU ${d.index}:  ${d.name}, compute capability ${d.computeCapability}, ${(d.memoryBytes / GiB).toFixed(1)} GiB, ${d.multiprocessors} SMs`);
    }
    const driver = [h.gpu.nvidiaDriver && `NVIDIA driver ${h.gpu.nvidiaDriver}`, h.gpu.driverCudaVersion && `supports CUDA ${h.gpu.driverCudaVersion}`, h.gpu.runtimeVersion && `runtime ${h.gpu.runtimeVersion}`];
    lines.push(`        ${driver.filter(Boolean).join(', ')}`);
  }
  if (!h.gpu.available) lines.push(`CUDA:   unavailable: ${h.gpu.reason}`);
  lines.push(`Node:   ${h.node} (${h.platform})`);
  if (h.addon.loaded) {
    const cuda = h.addon.cudaVersion !== undefined ? `CUDA ${h.addon.cudaVersion}, architectures ${h.addon.cudaArchitectures || '(none listed)'}` : 'without CUDA';
    lines.push(`Addon:  built by ${h.addon.builder} (${h.addon.buildType}, ${h.addon.compiler}), ${cuda}`);
    lines.push(`        ${h.addon.source} ${h.addon.path}`);
  } else {
    lines.push(`Addon:  not loaded, the js backend serves alone: ${h.addon.error}`);
  }
  const gbs = (v: number | null, note?: string) => (v !== null ? `${v.toFixed(1)} GB/s` : note ?? 'not measured');
  lines.push(`Copy BW: CPU ${gbs(c.cpuCopyGBs, c.cpuNote)}${c.cpuCopyGBs !== null ? ' (read + write, all native threads)' : ''}`);
  lines.push(`         CUDA ${gbs(c.cudaCopyGBs, c.cudaNote)}${c.cudaCopyGBs !== null ? ' (device to device, read + write)' : ''}`);
  for (const s of h.skipped) lines.push(`Skipped backend ${s.backend}: ${s.reason}`);
  return lines.join('\n');
}

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3));

const fmtNumber = (v: number) => (!Number.isFinite(v) ? '-' : Number.isInteger(v) && Math.abs(v) < 1e5 ? String(v) : Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-2) ? v.toExponential(2) : ms(v));

const pct = (f: number) => `${(100 * f).toFixed(f < 0.1 ? 1 : 0)}%`;

interface Column {
  title: string;
  /** The cell text, or undefined for an empty cell. */
  cell(r: ReportRow): string | undefined;
  /** Shown even when every cell is empty. */
  always?: boolean;
  /** Left-aligned text rather than a right-aligned number. */
  text?: boolean;
}

const COLUMNS: readonly Column[] = [
  { title: 'workload', cell: (r) => r.workload, always: true, text: true },
  { title: 'backend', cell: (r) => r.backend, always: true, text: true },
  { title: 'median ms', cell: (r) => r.wallMs && ms(r.wallMs.median), always: true },
  { title: 'min ms', cell: (r) => r.wallMs && ms(r.wallMs.min), always: true },
  { title: 'max ms', cell: (r) => r.wallMs && ms(r.wallMs.max), always: true },
  { title: 'device ms', cell: (r) => r.deviceMs && ms(r.deviceMs.median) },
  { title: 'GB/s', cell: (r) => r.throughputGBs?.toFixed(2), always: true },
  { title: 'vs js', cell: (r) => (r.speedupOverJs !== undefined ? `${r.speedupOverJs.toFixed(1)}x` : undefined) },
  { title: '% of copy BW', cell: (r) => (r.copyBandwidthFraction !== undefined ? pct(r.copyBandwidthFraction) : undefined) },
  { title: 'vs earlier', cell: (r) => (r.compareRatio !== undefined ? `${r.compareRatio.toFixed(2)}x` : undefined) },
];

/**
 * The results table. Optional columns (device ms, vs js, % of copy BW, vs earlier) appear only
 * when some row has a value; a failed row shows its error instead of timings.
 */
export function formatTable(rows: readonly ReportRow[]): string {
  const cols = COLUMNS.filter((c) => c.always || rows.some((r) => c.cell(r) !== undefined));
  const cells = rows.map((r) => cols.map((c) => c.cell(r) ?? '-'));
  const widths = cols.map((c, i) => Math.max(c.title.length, ...rows.map((r, j) => (r.error === undefined ? cells[j][i].length : 0))));
  const pad = (text: string, i: number) => (cols[i].text ? text.padEnd(widths[i]) : text.padStart(widths[i]));
  const lines = [cols.map((c, i) => pad(c.title, i)).join('  '), widths.map((w) => '-'.repeat(w)).join('  ')];
  rows.forEach((r, j) => {
    lines.push(r.error === undefined ? cells[j].map(pad).join('  ') : `${pad(r.workload, 0)}  ${pad(r.backend, 1)}  FAILED: ${r.error}`);
  });
  lines.push('', 'Times are wall-clock per call; GB/s = bytes read + written / median.');
  if (cols.some((c) => c.title === 'device ms')) lines.push('device ms: kernel time from CUDA events (median).');
  if (cols.some((c) => c.title === '% of copy BW')) lines.push("% of copy BW: throughput / the device's copy bandwidth, from device ms where present, else wall.");
  if (cols.some((c) => c.title === 'vs earlier')) lines.push('vs earlier: earlier median / this median (above 1 is faster now).');
  const detailed = rows.filter((r) => r.details && r.error === undefined);
  if (detailed.length > 0) {
    lines.push('', 'details:');
    for (const r of detailed) {
      const text = Object.entries(r.details!).map(([k, v]) => `${k} ${typeof v === 'number' ? fmtNumber(v) : v}`).join('; ');
      lines.push(`  ${r.workload} [${r.backend}]: ${text}`);
    }
  }
  return lines.join('\n');
}
