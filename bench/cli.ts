#!/usr/bin/env node
/**
 * The recon-kernels command: `bench` times kernel families on each backend, `info` prints what
 * this process can run. Exit status: 0 on success, 1 when nothing could be measured or a row
 * failed, 2 on a usage error.
 */
import * as fs from 'fs';
import cliProgress from 'cli-progress';
import { type Backend, type Capabilities, capabilities } from '../lib/index';
import { type BenchArgs, UsageError, parseArgs, usage } from './args';
import { runDemo } from './demo';
import { FAMILIES, selectFamilies } from './families/index';
import { type Report, deriveRows, formatHeader, formatTable, loadBaseline } from './report';
import { type PlannedRow, type RepeatPolicy, runPlan } from './runner';
import { formatCapabilities, measureCeilings, systemHeader } from './system';

/** Why a backend is not in capabilities().backends. */
function unavailableReason(backend: Backend, caps: Capabilities): string {
  if (backend === 'cuda') return `CUDA is unavailable: ${caps.cuda.reason}`;
  return `the native addon did not load: ${caps.addon.error ?? 'unknown reason'}`;
}

function planRows(args: BenchArgs, backends: readonly Backend[]): PlannedRow[] {
  const plan: PlannedRow[] = [];
  for (const family of selectFamilies(args.family)) {
    for (const workload of family.workloads({ quick: args.quick })) {
      for (const backend of workload.backends) {
        if (backends.includes(backend)) plan.push({ family: family.name, workload, backend });
      }
    }
  }
  return plan;
}

/** A progress bar on stderr when it is a terminal; otherwise nothing. */
function progress(total: number): { step(label: string, index: number): void; stop(): void } {
  if (!process.stderr.isTTY) return { step: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: '{bar} {value}/{total} {label}', clearOnComplete: true, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { label: '' });
  return { step: (label, index) => bar.update(index, { label }), stop: () => bar.stop() };
}

async function bench(args: BenchArgs, argv: readonly string[]): Promise<number> {
  let baseline: Map<string, number> | undefined;
  if (args.compare !== undefined) {
    try {
      baseline = loadBaseline(args.compare);
    } catch (e) {
      throw new UsageError(`--compare ${args.compare}: ${(e as Error).message}`);
    }
  }
  const caps = capabilities();
  const requested = args.backends ?? caps.backends;
  const backends = requested.filter((b) => caps.backends.includes(b));
  const skipped = requested.filter((b) => !caps.backends.includes(b)).map((backend) => ({ backend, reason: unavailableReason(backend, caps) }));
  const plan = planRows(args, backends);
  const ceilings = await measureCeilings(caps, { cpu: plan.some((p) => p.backend !== 'cuda'), cuda: plan.some((p) => p.backend === 'cuda') });
  const header = { ...systemHeader(caps), date: new Date().toISOString(), command: ['recon-kernels', ...argv].join(' '), skipped };
  process.stdout.write(`${formatHeader(header, ceilings)}\n\n`);
  if (plan.length === 0) {
    process.stdout.write(`Nothing to run: no workload of '${args.family}' runs on ${backends.join(', ') || 'the available backends'}.\n`);
    return 1;
  }
  const policy: RepeatPolicy = { repeat: args.repeat, targetMs: args.quick ? 250 : 1500, minRepeats: 3, maxRepeats: 1000 };
  const bar = progress(plan.length);
  const raw = runPlan(plan, policy, (p, i) => bar.step(`${p.workload.name} on ${p.backend}`, i));
  bar.stop();
  const rows = deriveRows(raw, ceilings, baseline);
  process.stdout.write(`${formatTable(rows)}\n`);
  if (baseline && !rows.some((r) => r.compareRatio !== undefined)) {
    process.stdout.write(`--compare: no workload + backend of ${args.compare} matches this run.\n`);
  }
  if (args.json !== undefined) {
    const report: Report = { header, rows, ceilings };
    fs.writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
  }
  return rows.some((r) => r.error !== undefined) ? 1 : 0;
}

async function main(argv: readonly string[]): Promise<number> {
  const familyNames = FAMILIES.map((f) => f.name);
  try {
    const args = parseArgs(argv, familyNames);
    if (args.command === 'help') {
      process.stdout.write(`${usage(familyNames)}\n`);
      return 0;
    }
    if (args.command === 'info') {
      const caps = capabilities();
      process.stdout.write(args.json ? `${JSON.stringify(caps, null, 2)}\n` : `${formatCapabilities(caps)}\n`);
      return 0;
    }
    if (args.command === 'demo') return await runDemo({ outDir: args.out, backend: args.backend, json: args.json });
    return await bench(args, argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`recon-kernels: ${e.message}\n\n${usage(familyNames)}\n`);
      return 2;
    }
    process.stderr.write(`recon-kernels: ${(e as Error).message}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
