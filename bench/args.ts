/**
 * Command-line parsing for the recon-kernels CLI: two commands, a handful of flags, no
 * dependency. Every mistake becomes a {@link UsageError}, which the entry point turns into the
 * usage text and exit status 2.
 */
import type { Backend } from '../lib/index';

const BACKENDS: readonly Backend[] = ['cuda', 'native', 'js'];

/** `recon-kernels bench ...` */
export interface BenchArgs {
  command: 'bench';
  /** A registered family name, 'all', or 'default' (a representative row set of every family). */
  family: string;
  /** Backends asked for with --backends, or undefined for every available one. */
  backends?: Backend[];
  /** Timed repeats per row; undefined picks them by workload time. */
  repeat?: number;
  /** Where to write the JSON report. */
  json?: string;
  /** An earlier JSON report to compare against. */
  compare?: string;
  quick: boolean;
}

/** `recon-kernels info [--json]` */
export interface InfoArgs {
  command: 'info';
  json: boolean;
}

/** `recon-kernels demo [--out DIR] [--backend B] [--json FILE]` */
export interface DemoArgs {
  command: 'demo';
  /** Where the PNGs go. Default 'recon-kernels-demo'. */
  out: string;
  backend?: Backend;
  json?: string;
}

/** `recon-kernels help`, `--help` or `-h`. */
export interface HelpArgs {
  command: 'help';
}

export type Args = BenchArgs | InfoArgs | DemoArgs | HelpArgs;

/** A command line that cannot be run as written. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The usage text; `families` lists what `bench` accepts. */
export function usage(families: readonly string[]): string {
  return [
    'Usage:',
    `  recon-kernels bench [${[...families, 'all', 'default'].join('|')}] [--backends cuda,native,js] [--repeat N]`,
    '                      [--json FILE] [--compare FILE] [--quick]',
    '  recon-kernels info [--json]',
    '  recon-kernels demo [--out DIR] [--backend cuda|native|js] [--json FILE]',
    '',
    'bench   times each workload of the family (default: a representative set of every family, about a minute) on each backend (default: every',
    '        available one) after a warm-up, and prints a table of median/min/max times.',
    '  --backends LIST  comma-separated subset of cuda,native,js',
    '  --repeat N       timed runs per row (default: as many as fit in ~1.5 s, at least 3)',
    '  --json FILE      also write { header, rows, ceilings } as JSON',
    '  --compare FILE   add a column: earlier median / current median, from an earlier --json',
    '  --quick          half the volume sizes and a shorter time per row, for smoke tests',
    'info    prints what this process can run (backends, CUDA devices, addon build); --json for JSON',
    'demo    reconstructs test objects (tomography: FBP, SIRT, TV-min) on the default or given backend,',
    '        writes a PNG per reconstruction to DIR (default recon-kernels-demo) and prints time, PSNR, SSIM',
  ].join('\n');
}

/** Splits `--flag=value` and `--flag value`; returns [flag, value, tokens consumed]. */
function flagValue(argv: readonly string[], i: number): [string, string | undefined, number] {
  const a = argv[i];
  const eq = a.indexOf('=');
  if (eq > 0) return [a.slice(0, eq), a.slice(eq + 1), 1];
  const next = argv[i + 1];
  return [a, next !== undefined && !next.startsWith('--') ? next : undefined, 2];
}

function need(flag: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new UsageError(`${flag} needs a value`);
  return value;
}

function parseBackends(value: string): Backend[] {
  const list = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) throw new UsageError('--backends needs at least one of cuda,native,js');
  for (const b of list) {
    if (!BACKENDS.includes(b as Backend)) throw new UsageError(`unknown backend '${b}' in --backends; use cuda, native or js`);
  }
  return [...new Set(list as Backend[])];
}

function parseRepeat(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`--repeat must be a positive integer, got '${value}'`);
  return n;
}

function parseBench(argv: readonly string[], families: readonly string[]): BenchArgs {
  const out: BenchArgs = { command: 'bench', family: 'default', quick: false };
  let familySeen = false;
  for (let i = 0; i < argv.length; ) {
    const a = argv[i];
    if (!a.startsWith('-')) {
      if (familySeen) throw new UsageError(`unexpected argument '${a}'`);
      if (a !== 'all' && a !== 'default' && !families.includes(a)) throw new UsageError(`unknown family '${a}'; known: ${[...families, 'all', 'default'].join(', ')}`);
      out.family = a;
      familySeen = true;
      i++;
      continue;
    }
    if (a === '--quick') {
      out.quick = true;
      i++;
      continue;
    }
    const [flag, value, used] = flagValue(argv, i);
    if (flag === '--backends') out.backends = parseBackends(need(flag, value));
    else if (flag === '--repeat') out.repeat = parseRepeat(need(flag, value));
    else if (flag === '--json') out.json = need(flag, value);
    else if (flag === '--compare') out.compare = need(flag, value);
    else throw new UsageError(`unknown option '${a}' for bench`);
    i += used;
  }
  return out;
}

function parseDemo(argv: readonly string[]): DemoArgs {
  const out: DemoArgs = { command: 'demo', out: 'recon-kernels-demo' };
  for (let i = 0; i < argv.length; ) {
    const [flag, value, used] = flagValue(argv, i);
    if (flag === '--out') out.out = need(flag, value);
    else if (flag === '--json') out.json = need(flag, value);
    else if (flag === '--backend') {
      const b = need(flag, value);
      if (!BACKENDS.includes(b as Backend)) throw new UsageError(`unknown backend '${b}' for demo; use cuda, native or js`);
      out.backend = b as Backend;
    } else throw new UsageError(`unknown argument '${argv[i]}' for demo`);
    i += used;
  }
  return out;
}

function parseInfo(argv: readonly string[]): InfoArgs {
  for (const a of argv) {
    if (a !== '--json') throw new UsageError(`unknown argument '${a}' for info`);
  }
  return { command: 'info', json: argv.length > 0 };
}

/**
 * Parses the arguments after `node cli.js`.
 *
 * @param families the registered family names `bench` accepts (besides 'all').
 * @throws UsageError on an unknown command, flag or family, or a malformed value.
 */
export function parseArgs(argv: readonly string[], families: readonly string[]): Args {
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError('missing command');
  if (command === 'help' || command === '--help' || command === '-h') return { command: 'help' };
  if (rest.includes('--help') || rest.includes('-h')) return { command: 'help' };
  if (command === 'bench') return parseBench(rest, families);
  if (command === 'info') return parseInfo(rest);
  if (command === 'demo') return parseDemo(rest);
  throw new UsageError(`unknown command '${command}'; use bench, info or demo`);
}
