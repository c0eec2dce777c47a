/**
 * Facts for the benchmark header: the CPU, the GPU (or why CUDA is unavailable), Node, how the
 * addon was built (or why the js backend serves alone), and the measured copy bandwidths that
 * bound a memory-bound kernel on each device.
 */
import * as fs from 'fs';
import * as os from 'os';
import { type Capabilities, capabilities } from '../lib/index';
import { addon } from '../lib/loader';

/** The machine and build a benchmark ran on. */
export interface SystemHeader {
  cpu: { model: string; cores: number; nativeThreads?: number; memoryBytes: number };
  gpu: {
    available: boolean;
    /** Why CUDA cannot serve (empty when available). */
    reason: string;
    devices: { index: number; name: string; computeCapability: string; memoryBytes: number; multiprocessors: number }[];
    /** CUDA version the driver supports, e.g. '12.4'. */
    driverCudaVersion?: string;
    runtimeVersion?: string;
    /** The kernel module version from /proc/driver/nvidia/version, e.g. '550.54.15'. */
    nvidiaDriver?: string;
  };
  node: string;
  platform: string;
  addon: {
    loaded: boolean;
    path?: string;
    source?: string;
    builder?: string;
    buildType?: string;
    compiler?: string;
    /** CUDA toolkit the addon was compiled with, or undefined when built without CUDA. */
    cudaVersion?: string;
    cudaArchitectures?: string;
    /** Why the addon did not load, when the js backend serves alone. */
    error?: string;
  };
}

/** Measured memory copy bandwidth in GB/s (bytes read + written), or why it was not measured. */
export interface Ceilings {
  cpuCopyGBs: number | null;
  cpuNote?: string;
  cudaCopyGBs: number | null;
  cudaNote?: string;
}

/** 12040 → '12.4'. */
function cudaVersionString(v: number | undefined): string | undefined {
  if (!v || v <= 0) return undefined;
  return `${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 10)}`;
}

function nvidiaDriverVersion(): string | undefined {
  try {
    const text = fs.readFileSync('/proc/driver/nvidia/version', 'utf8');
    return /Kernel Module\s+(?:for \S+\s+)?([\d.]+)/.exec(text)?.[1];
  } catch {
    return undefined;
  }
}

/** Collects the header facts; `caps` defaults to a fresh capabilities() report. */
export function systemHeader(caps: Capabilities = capabilities()): SystemHeader {
  const cpus = os.cpus();
  const build = caps.addon.build;
  return {
    cpu: {
      model: cpus[0]?.model.trim() ?? 'unknown',
      cores: os.availableParallelism(),
      nativeThreads: addon()?.hardwareThreads(),
      memoryBytes: os.totalmem(),
    },
    gpu: {
      available: caps.cuda.available,
      reason: caps.cuda.reason,
      devices: caps.cuda.devices.map((d) => ({
        index: d.index,
        name: d.name,
        computeCapability: d.computeCapability,
        memoryBytes: d.totalMemory,
        multiprocessors: d.multiprocessors,
      })),
      driverCudaVersion: cudaVersionString(caps.cuda.driverVersion),
      runtimeVersion: cudaVersionString(caps.cuda.runtimeVersion),
      nvidiaDriver: nvidiaDriverVersion(),
    },
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    addon: caps.addon.loaded
      ? {
          loaded: true,
          path: caps.addon.path,
          source: caps.addon.source,
          builder: build?.builder,
          buildType: build?.buildType,
          compiler: build?.compiler,
          cudaVersion: build?.cuda ? build.cudaVersion : undefined,
          cudaArchitectures: build?.cuda ? build.cudaArchitectures : undefined,
        }
      : { loaded: false, error: caps.addon.error ?? 'no addon found' },
  };
}

const CPU_COPY_BYTES = 128 * 2 ** 20;
const CUDA_COPY_BYTES = 512 * 2 ** 20;

/**
 * Measures the copy bandwidth of the CPU (all native threads) and of CUDA device 0, each only
 * when it is going to be benchmarked and the addon can measure it.
 */
export async function measureCeilings(caps: Capabilities, wanted: { cpu: boolean; cuda: boolean }): Promise<Ceilings> {
  const a = addon();
  const out: Ceilings = { cpuCopyGBs: null, cudaCopyGBs: null };
  if (!a) {
    out.cpuNote = 'not measured: the native addon did not load';
  } else if (!wanted.cpu) {
    out.cpuNote = 'not measured: no host backend benchmarked';
  } else {
    out.cpuCopyGBs = await a.cpuCopyBandwidth(CPU_COPY_BYTES, 10, 0).catch((e: Error) => {
      out.cpuNote = `measurement failed: ${e.message}`;
      return null;
    });
  }
  if (!caps.cuda.available || !a) {
    out.cudaNote = 'not measured: CUDA is unavailable';
  } else if (!wanted.cuda) {
    out.cudaNote = 'not measured: the cuda backend was not benchmarked';
  } else {
    out.cudaCopyGBs = await a.cudaCopyBandwidth(0, CUDA_COPY_BYTES, 20).catch((e: Error) => {
      out.cudaNote = `measurement failed: ${e.message}`;
      return null;
    });
  }
  return out;
}

/** capabilities() as readable text, for `recon-kernels info`. */
export function formatCapabilities(c: Capabilities): string {
  const lines = [`Backends: ${c.backends.join(', ')} (host tensors default to ${c.defaultHostBackend})`];
  if (c.addon.loaded) {
    const b = c.addon.build;
    lines.push(`Addon: loaded from ${c.addon.source} ${c.addon.path}`);
    if (b) {
      lines.push(`  version ${b.addonVersion}, built by ${b.builder} (${b.buildType}, ${b.compiler})`);
      lines.push(`  CUDA: ${b.cuda ? `compiled in, CUDA ${b.cudaVersion}, architectures ${b.cudaArchitectures || '(none listed)'}` : 'not compiled in'}`);
    }
  } else {
    lines.push(`Addon: not loaded: ${c.addon.error ?? 'unknown reason'}`);
  }
  for (const a of c.addon.attempts) lines.push(`  tried ${a.source} ${a.path}: ${a.error ?? 'ok'}`);
  if (c.cuda.available) {
    lines.push(`CUDA: available, runtime ${cudaVersionString(c.cuda.runtimeVersion) ?? '?'}, driver supports ${cudaVersionString(c.cuda.driverVersion) ?? '?'}`);
  } else {
    lines.push(`CUDA: unavailable: ${c.cuda.reason}`);
  }
  for (const d of c.cuda.devices) {
    lines.push(`  cuda:${d.index} ${d.name}, compute capability ${d.computeCapability}, ${(d.totalMemory / 2 ** 30).toFixed(1)} GiB, ${d.multiprocessors} SMs, PCI bus ${d.pciBusId}`);
  }
  if (c.cufft.loaded) lines.push(`cuFFT: version ${c.cufft.version} from ${c.cufft.path}`);
  else lines.push(`cuFFT: not loaded: ${c.cufft.error ?? 'unknown reason'}`);
  if (!c.cufft.loaded && c.cufft.searched.length > 0) lines.push(`  searched: ${c.cufft.searched.join(', ')}`);
  return lines.join('\n');
}
