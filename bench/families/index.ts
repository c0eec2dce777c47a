/**
 * The benchmark families `recon-kernels bench <family>` knows. To add one, write
 * bench/families/<name>.ts exporting a {@link Family} and list it here.
 */
import type { Family } from '../runner';
import { tvFamily } from './tv';
import { kplanesFamily } from './kplanes';
import { nufftFamily } from './nufft';
import { tomoFamily } from './tomo';
import { mriFamily } from './mri';
import { griddingFamily } from './gridding';

/** Every registered family, in the order `bench all` runs them. */
export const FAMILIES: readonly Family[] = [
  tvFamily,
  kplanesFamily,
  nufftFamily,
  tomoFamily,
  mriFamily,
  griddingFamily,
];

/**
 * The rows of the default run (`recon-kernels bench` with no family): each family's
 * representative workloads, so one run compares every family in about a minute on 2 cores.
 * A family missing here contributes all its workloads.
 */
const DEFAULT_ROWS: Record<string, RegExp> = {
  tv: /./,
  kplanes: /^light /,
  nufft: /^type[12] 2D .* c128 eps=1e-6( \(js size\))?$/,
  tomo: /^(forward|adjoint) 256² /,
  mri: /^(?!(forward|adjoint) 3D kooshball \d+³ 8 coils \d+×\d+ c64$)/,
  gridding: /^((spread|interp) .* c128|densityCompensation .*)$/,
};

/** The families `bench <name>` selects: one by name, all of them, or the default row set. */
export function selectFamilies(name: string): Family[] {
  if (name === 'all') return [...FAMILIES];
  if (name === 'default') {
    return FAMILIES.map((f) => {
      const keep = DEFAULT_ROWS[f.name] ?? /./;
      return { ...f, workloads: (o: { quick: boolean }) => f.workloads(o).filter((w) => keep.test(w.name)) };
    });
  }
  return FAMILIES.filter((f) => f.name === name);
}
