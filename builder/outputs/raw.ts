// The `raw` output: disk.raw, a GPT disk that boots with BIOS and UEFI. Partitions: BIOS boot
// (GRUB's core.img), EFI system (BOOTX64.EFI + the one grub.cfg), ext4 root (mkfs.ext4 -d).
// Everything is written into the image file in place, reproducibly (see disk/*.ts).
import { mkdir, open, readFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KilnError } from '../../core/errors.ts';
import { indexTar } from '../tar/read.ts';
import type { Converter } from './converter.ts';
import { diskIds } from './disk/ids.ts';
import { makeEsp } from './disk/esp.ts';
import { makeRootFs } from './disk/ext4.ts';
import { writeGpt } from './disk/gpt.ts';
import { bootImg, checkGrubPlatforms, earlyConfig, EFI_DIR, grubConfig, mkimage, patchCore, patchMbr } from './disk/grub.ts';
import { diskSizeFor, layoutFor, MiB, rootfsUsage, SECTOR, validateDiskSize } from './disk/layout.ts';

const RAW_PATH = 'disk.raw';

export const rawConverter: Converter<'raw'> = {
  format: 'raw',
  description: 'GPT disk image (disk.raw) booting with BIOS and UEFI via GRUB; ext4 root that grows to fill the disk on first boot',
  tools: ['sgdisk', 'mkfs.vfat', 'mlabel', 'mmd', 'mcopy', 'mkfs.ext4', 'debugfs', 'dumpe2fs', 'grub-mkimage'],
  // disk settings checkable without a rootfs, before the build's first side effect
  validate: validateDiskSize,
  convert: async ({ spec, rootfsTar, stagingDir, work, log }) => {
    await checkGrubPlatforms();
    // sized from the tar headers, so a too-small disk.size fails before anything is written
    const usage = rootfsUsage(await indexTar(rootfsTar));
    const layout = layoutFor(diskSizeFor(spec, usage));
    const ids = diskIds(spec.hash);
    log(`raw: ${layout.size / MiB} MiB disk, root ${layout.root.size / MiB} MiB for ${Math.ceil(usage.dataBytes / MiB)} MiB of files`);

    const rootDir = await work.rootDir();
    const kernel = await work.kernel();
    const dir = path.join(work.dir, 'raw');
    const espDir = path.join(dir, 'esp', EFI_DIR);
    await mkdir(espDir, { recursive: true });
    const epoch = spec.sourceDateEpoch;

    const early = path.join(dir, 'early.cfg');
    await writeFile(early, earlyConfig(ids));
    await writeFile(path.join(espDir, 'grub.cfg'), grubConfig(spec, ids, kernel));
    await mkimage('efi', path.join(espDir, 'BOOTX64.EFI'), early, epoch);
    const corePath = path.join(dir, 'core.img');
    await mkimage('bios', corePath, early, epoch);
    const coreLba = layout.bios.start / SECTOR;
    const core = patchCore(await readFile(corePath), coreLba);
    if (core.length > layout.bios.size)
      throw new KilnError(`GRUB's core.img (${core.length} bytes) does not fit the ${layout.bios.size / MiB} MiB BIOS boot partition`);

    const image = path.join(stagingDir, RAW_PATH);
    await writeFile(image, '');
    await truncate(image, layout.size);
    await writeGpt(image, layout, ids, epoch);
    log('raw: EFI system partition');
    await makeEsp(image, layout.esp, ids.espVolumeId, path.join(dir, 'esp'), epoch);
    log('raw: ext4 root (mkfs.ext4 -d)');
    await makeRootFs({ image, part: layout.root, ids, rootDir, workDir: dir, sourceDateEpoch: epoch });

    const fh = await open(image, 'r+');
    try {
      const mbr = Buffer.alloc(SECTOR);
      await fh.read(mbr, 0, SECTOR, 0);
      await fh.write(patchMbr(mbr, await bootImg(), coreLba), 0, SECTOR, 0);
      await fh.write(core, 0, core.length, layout.bios.start);
    } finally {
      await fh.close();
    }
    return [{ format: 'raw', path: RAW_PATH }];
  },
};
