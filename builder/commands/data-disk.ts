import { KilnError } from '../../core/errors.ts';
import { createDataDisk, DATA_DISK_LABEL } from '../outputs/data-disk.ts';
import { writeOut } from '../../core/output.ts';

const UNITS: Record<string, number> = { M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

function parseSize(text: string): number {
  const m = /^([0-9]+)([MGT])$/.exec(text);
  if (!m) throw new KilnError(`--size ${text}: not a size`, { hint: 'use M, G or T, e.g. --size 20G', exitCode: 2 });
  return Number(m[1]) * UNITS[m[2]!]!;
}

/** `kiln data-disk FILE --size 20G`: the persistent /var disk for live (ISO/PXE) nodes. */
export async function dataDiskCommand(positionals: string[], opts: Record<string, unknown>): Promise<number> {
  const [file, ...extra] = positionals;
  if (!file || extra.length)
    throw new KilnError('give exactly one image file to create', { hint: 'kiln data-disk node1-data.img --size 20G', exitCode: 2 });
  await createDataDisk(file, parseSize(typeof opts.size === 'string' ? opts.size : '20G'));
  writeOut(`${file}: ext4 labelled ${DATA_DISK_LABEL}; attach it to a live node and /var persists\n`);
  return 0;
}
