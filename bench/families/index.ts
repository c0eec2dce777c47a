/**
 * The benchmark families `recon-kernels bench <family>` knows. To add one, write
 * bench/families/<name>.ts exporting a {@link Family} and list it here.
 */
import type { Family } from '../runner';
import { tvFamily } from './tv';
import { kplanesFamily } from './kplanes';
import { nufftFamily } from './nufft';
import { tomoFamily } from './tomo';

/** Every registered family, in the order `bench all` runs them. */
export const FAMILIES: readonly Family[] = [
  tvFamily,
  kplanesFamily,
  nufftFamily,
  tomoFamily,
];

/** The families `bench <name>` selects: one by name, or all of them for 'all'. */
export function selectFamilies(name: string): Family[] {
  return name === 'all' ? [...FAMILIES] : FAMILIES.filter((f) => f.name === name);
}
