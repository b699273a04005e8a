// What an output converter is: the interface every format implements (formats.ts holds the table).
import type { ResolvedSpec } from '../spec/defaults.ts';
import type { OutputFormat } from './format-names.ts';
import type { WorkArea } from './work.ts';

export interface Artifact {
  format: OutputFormat;
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
  produced: ReadonlyMap<OutputFormat, Artifact[]>;
  log: (message: string) => void;
}

export interface Converter<F extends OutputFormat = OutputFormat> {
  format: F;
  description: string;
  /** Host tools the converter runs (checked before any work starts). */
  tools: string[];
  /** Formats whose artifacts this converter reads. */
  requires?: OutputFormat[];
  /** Checks of the spec this converter depends on, run before any work (throw a KilnError). */
  validate?: (spec: ResolvedSpec) => void;
  convert: (ctx: ConvertContext) => Promise<Artifact[]>;
}
