/**
 * Timing: what a benchmark family provides (workloads that run on some backends), and how each
 * (workload, backend) pair is timed: one warm-up run, then timed runs with
 * process.hrtime.bigint, summarised as median / min / max.
 */
import type { Backend } from '../lib/index';

/** What one timed run reports besides its wall time. */
export interface RunResult {
  /** Kernel time measured with CUDA events, when the backend reports one. */
  deviceMs?: number;
  /** Frees what the run produced (e.g. a gradient tensor); called after the clock stops. */
  release?(): void;
}

/** A workload set up on one backend, ready to be run again and again. */
export interface Prepared {
  /** One synchronous run of the operation being measured. */
  run(): RunResult;
  /** Frees the inputs made by {@link Workload.prepare}. */
  dispose(): void;
  /**
   * Family-specific figures for the row (points per second, a time split, a measured error),
   * computed once after timing from the wall-clock median; shown under the table and in JSON.
   */
  details?(wallMs: Stats): Record<string, string | number>;
}

/** One named operation on inputs of a fixed size. */
export interface Workload {
  /** Unique within its family, e.g. 'iso3d 128³ f32 value+grad'; rows are matched on it. */
  name: string;
  /** Backends this workload is defined for, fastest first. */
  backends: readonly Backend[];
  /** Bytes read + written by one run, for the throughput column. */
  bytes: number;
  /** Makes the inputs on `backend` (e.g. uploads the volume for 'cuda'). */
  prepare(backend: Backend): Prepared;
}

/** A kernel family's benchmark: its workloads at full or quick (halved) sizes. */
export interface Family {
  name: string;
  workloads(options: { quick: boolean }): Workload[];
}

/** Median, minimum and maximum of a set of samples, in milliseconds. */
export interface Stats {
  median: number;
  min: number;
  max: number;
}

/** How many timed runs make a row. */
export interface RepeatPolicy {
  /** Exactly this many timed runs, when given (--repeat). */
  repeat?: number;
  /** Otherwise keep running until this much time was spent timing, ... */
  targetMs: number;
  /** ... but at least this many runs ... */
  minRepeats: number;
  /** ... and at most this many. */
  maxRepeats: number;
}

/** The timings of one (workload, backend) pair. */
export interface Measurement {
  repeats: number;
  wallMs: Stats;
  /** Present when every run reported a device time. */
  deviceMs?: Stats;
}

/** Median / min / max of a non-empty list of samples. */
export function summarize(samples: readonly number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1] };
}

function timeOnce(prepared: Prepared): { wallMs: number; deviceMs?: number } {
  const t0 = process.hrtime.bigint();
  const r = prepared.run();
  const t1 = process.hrtime.bigint();
  r.release?.();
  return { wallMs: Number(t1 - t0) / 1e6, deviceMs: r.deviceMs };
}

/**
 * Times a prepared workload: one untimed warm-up run, then timed runs as the policy says.
 */
export function measure(prepared: Prepared, policy: RepeatPolicy): Measurement {
  timeOnce(prepared);
  const wall: number[] = [];
  const device: number[] = [];
  let spent = 0;
  for (;;) {
    const done = policy.repeat !== undefined
      ? wall.length >= policy.repeat
      : wall.length >= policy.maxRepeats || (wall.length >= policy.minRepeats && spent >= policy.targetMs);
    if (done) break;
    const t = timeOnce(prepared);
    wall.push(t.wallMs);
    if (t.deviceMs !== undefined) device.push(t.deviceMs);
    spent += t.wallMs;
  }
  const m: Measurement = { repeats: wall.length, wallMs: summarize(wall) };
  if (device.length === wall.length) m.deviceMs = summarize(device);
  return m;
}

/** One row of results, before the report derives throughput and ratios. */
export interface RawRow {
  family: string;
  workload: string;
  backend: Backend;
  bytes: number;
  /** The timings, or why the row could not be measured. */
  result: Measurement | { error: string };
  details?: Record<string, string | number>;
}

/** A (family, workload, backend) triple to time. */
export interface PlannedRow {
  family: string;
  workload: Workload;
  backend: Backend;
}

/**
 * Prepares, times and disposes each planned row in order. A row that throws is recorded with
 * its error and the run goes on. `onRow` is called before each row starts.
 */
export function runPlan(plan: readonly PlannedRow[], policy: RepeatPolicy, onRow: (row: PlannedRow, index: number) => void): RawRow[] {
  return plan.map((p, i) => {
    onRow(p, i);
    const base = { family: p.family, workload: p.workload.name, backend: p.backend, bytes: p.workload.bytes };
    let prepared: Prepared | undefined;
    try {
      prepared = p.workload.prepare(p.backend);
      const result = measure(prepared, policy);
      const details = prepared.details?.(result.wallMs);
      return details ? { ...base, result, details } : { ...base, result };
    } catch (e) {
      return { ...base, result: { error: (e as Error).message } };
    } finally {
      prepared?.dispose();
    }
  });
}
