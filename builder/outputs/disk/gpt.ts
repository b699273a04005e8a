// The GPT partition table, written with sgdisk: every GUID fixed, every partition placed exactly.
import type { DiskIds } from './ids.ts';
import { SECTOR, type DiskLayout, type Partition } from './layout.ts';
import { run } from './run.ts';

/** sgdisk type codes: BIOS boot, EFI system, Linux root (x86-64). */
const TYPE_CODES = { bios: 'EF02', esp: 'EF00', root: '8304' } as const;
const PART_NAMES = { bios: 'BIOS boot', esp: 'EFI System', root: 'kiln-root' } as const;

const sectors = (p: Partition) => `${p.number}:${p.start / SECTOR}:${(p.start + p.size) / SECTOR - 1}`;

export function sgdiskArgs(file: string, layout: DiskLayout, ids: DiskIds): string[] {
  const parts = [
    ['bios', layout.bios, ids.biosPart],
    ['esp', layout.esp, ids.espPart],
    ['root', layout.root, ids.rootPart],
  ] as const;
  return [
    '--clear',
    `--disk-guid=${ids.disk}`,
    ...parts.flatMap(([kind, p, guid]) => [
      `--new=${sectors(p)}`,
      `--typecode=${p.number}:${TYPE_CODES[kind]}`,
      `--partition-guid=${p.number}:${guid}`,
      `--change-name=${p.number}:${PART_NAMES[kind]}`,
    ]),
    file,
  ];
}

export async function writeGpt(file: string, layout: DiskLayout, ids: DiskIds, sourceDateEpoch: number): Promise<void> {
  await run('sgdisk', sgdiskArgs(file, layout, ids), { sourceDateEpoch });
}
