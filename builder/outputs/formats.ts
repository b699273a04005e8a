// Output converters: one ordered table `format → converter`, all fed from the one built rootfs.
// The order and the names are format-names.ts's (the spec schema reads those, not this table); the
// table's type makes every name have its converter. A converter may build on another's output
// (`requires`); such intermediates are made once and published only when the spec asks for them too.
import type { Converter } from './converter.ts';
import { OUTPUT_FORMATS, type OutputFormat } from './format-names.ts';
import { rawConverter } from './raw.ts';
import { qcow2Converter } from './qcow2.ts';
import { isoConverter } from './iso.ts';
import { pxeConverter } from './pxe.ts';
import { updateConverter } from './update.ts';

const tarConverter: Converter<'tar'> = {
  format: 'tar',
  description: 'the rootfs as a deterministic tar (sorted, numeric owners, clamped mtimes, xattrs kept)',
  tools: [],
  // rootfs.tar is produced for every build; this converter only keeps it as an artifact.
  convert: async () => [{ format: 'tar', path: 'rootfs.tar' }],
};

const BY_FORMAT: { [F in OutputFormat]: Converter<F> } = {
  tar: tarConverter,
  raw: rawConverter,
  qcow2: qcow2Converter,
  iso: isoConverter,
  pxe: pxeConverter,
  update: updateConverter,
};

export const CONVERTERS: Converter[] = OUTPUT_FORMATS.map((f) => BY_FORMAT[f]);

/** The converters to run for the requested formats, with what they require, in table order. */
export function convertersFor(formats: readonly string[]): Converter[] {
  const needed = new Set<string>();
  const add = (format: string) => {
    if (needed.has(format)) return;
    needed.add(format);
    for (const r of CONVERTERS.find((c) => c.format === format)?.requires ?? []) add(r);
  };
  formats.forEach(add);
  return CONVERTERS.filter((c) => needed.has(c.format));
}
