// The EFI system partition: FAT32 made in place with mkfs.vfat --offset and filled with mtools
// (no mounts, no loop devices). Every timestamp comes from sourceDateEpoch.
import { readdir, utimes } from 'node:fs/promises';
import path from 'node:path';
import { SECTOR, type Partition } from './layout.ts';
import { run } from './run.ts';

const ESP_LABEL = 'KILN-ESP';

function mkfsVfatArgs(image: string, part: Partition): string[] {
  const start = part.start / SECTOR;
  // mkfs.fat would pick the cluster size and geometry from the image file's size (the whole disk):
  // fix them. 512-byte clusters keep a 64 MiB FAT32 above its 65525-cluster minimum.
  // --invariant fixes the time-derived fields, and the volume id too (to 1234ABCD, whatever -i
  // says): mlabel -N sets ours afterwards.
  return [
    '-F',
    '32',
    '-S',
    '512',
    '-s',
    '1',
    '-g',
    '64/32',
    '-n',
    ESP_LABEL,
    '--invariant',
    `--offset=${start}`,
    '-h',
    String(start),
    image,
    String(part.size / 1024),
  ];
}

const mtoolsEnv = { MTOOLS_SKIP_CHECK: '1', MTOOLSRC: '/dev/null' };

/** Copies a tree onto the FAT image in sorted order (mcopy -s would follow the host's readdir order). */
async function copyTree(image: string, dir: string, fatDir: string, sourceDateEpoch: number): Promise<void> {
  const mtools = { sourceDateEpoch, env: mtoolsEnv };
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const target = `${fatDir}/${e.name}`;
    if (e.isDirectory()) {
      // mtools stamps new directories with SOURCE_DATE_EPOCH
      await run('mmd', ['-i', image, target], mtools);
      await copyTree(image, path.join(dir, e.name), target, sourceDateEpoch);
    } else {
      const file = path.join(dir, e.name);
      await utimes(file, sourceDateEpoch, sourceDateEpoch);
      // -m keeps the source mtime, -Q stops on the first error; FAT times are local time (run.ts sets TZ=UTC)
      await run('mcopy', ['-i', image, '-m', '-Q', file, target], mtools);
    }
  }
}

/** Formats the ESP and copies the tree under `contentDir` onto it. */
export async function makeEsp(
  image: string,
  part: Partition,
  volumeId: string,
  contentDir: string,
  sourceDateEpoch: number,
): Promise<void> {
  await run('mkfs.vfat', mkfsVfatArgs(image, part), { sourceDateEpoch });
  const fat = `${image}@@${part.start}`;
  await run('mlabel', ['-i', fat, '-N', volumeId, `::${ESP_LABEL}`], { sourceDateEpoch, env: mtoolsEnv });
  await copyTree(fat, contentDir, '::', sourceDateEpoch);
}
