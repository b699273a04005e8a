// Output converters: one ordered table `format → converter`, all fed from the one built rootfs.
// The spec schema takes its list of formats from here, so an unknown format fails validation.
import type { ResolvedSpec } from '../spec/defaults.ts';

export interface Artifact {
  format: string;
  /** Relative to the output directory. */
  path: string;
}

export interface ConvertContext {
  spec: ResolvedSpec;
  /** Absolute path of the finished, deterministic rootfs.tar. */
  rootfsTar: string;
  outDir: string;
  /** Where converters write; files are renamed into outDir by the pipeline once everything succeeded. */
  stagingDir: string;
  log: (message: string) => void;
}

export interface Converter {
  format: string;
  description: string;
  /** Host tools the converter runs (checked before any work starts). */
  tools: string[];
  convert: (ctx: ConvertContext) => Promise<Artifact[]>;
}

export const CONVERTERS: Converter[] = [
  {
    format: 'tar',
    description: 'the rootfs as a deterministic tar (sorted, numeric owners, clamped mtimes, xattrs kept)',
    tools: [],
    // rootfs.tar is produced for every build; this converter only keeps it as an artifact.
    convert: async () => [{ format: 'tar', path: 'rootfs.tar' }],
  },
];

export const OUTPUT_FORMATS = CONVERTERS.map((c) => c.format);
