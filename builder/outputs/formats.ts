// Output converters: one ordered table `format → converter`, all fed from the one built rootfs.
// The spec schema takes its list of formats from here, so an unknown format fails validation
// before any work starts. A converter may build on another's output (`requires`); such
// intermediates are made once and published only when the spec asks for them too.
import type { ResolvedSpec } from '../spec/defaults.ts';
import type { WorkArea } from './work.ts';
import { rawConverter } from './raw.ts';
import { qcow2Converter } from './qcow2.ts';
import { isoConverter } from './iso.ts';
import { pxeConverter } from './pxe.ts';

export interface Artifact {
  format: string;
  /** Relative to the output directory (and to the staging directory while building). */
  path: string;
}

export interface ConvertContext {
  spec: ResolvedSpec;
  /** Absolute path of the finished, deterministic rootfs.tar. */
  rootfsTar: string;
  /** Where converters write their artifacts; the pipeline renames them into the output directory. */
  stagingDir: string;
  work: WorkArea;
  /** Artifacts of the converters run so far, by format. */
  produced: ReadonlyMap<string, Artifact[]>;
  log: (message: string) => void;
}

export interface Converter {
  format: string;
  description: string;
  /** Host tools the converter runs (checked before any work starts). */
  tools: string[];
  /** Formats whose artifacts this converter reads. */
  requires?: string[];
  /** Checks of the spec this converter depends on, run before any work (throw a KilnError). */
  validate?: (spec: ResolvedSpec) => void;
  convert: (ctx: ConvertContext) => Promise<Artifact[]>;
}

const tarConverter: Converter = {
  format: 'tar',
  description: 'the rootfs as a deterministic tar (sorted, numeric owners, clamped mtimes, xattrs kept)',
  tools: [],
  // rootfs.tar is produced for every build; this converter only keeps it as an artifact.
  convert: async () => [{ format: 'tar', path: 'rootfs.tar' }],
};

export const CONVERTERS: Converter[] = [tarConverter, rawConverter, qcow2Converter, isoConverter, pxeConverter];

export const OUTPUT_FORMATS = CONVERTERS.map((c) => c.format);

/** The converters to run for the requested formats, with what they require, in table order. */
export function convertersFor(formats: string[]): Converter[] {
  const needed = new Set<string>();
  const add = (format: string) => {
    if (needed.has(format)) return;
    needed.add(format);
    for (const r of CONVERTERS.find((c) => c.format === format)?.requires ?? []) add(r);
  };
  formats.forEach(add);
  return CONVERTERS.filter((c) => needed.has(c.format));
}
