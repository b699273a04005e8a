// The hybrid live ISO, kiln.iso: boots from CD/DVD and, written to a USB stick or disk (dd), from
// that too, with BIOS and with UEFI. One GRUB menu for all four ways in.
//
//   BIOS, CD:    El Torito boot image /boot/grub/bios.img (GRUB i386-pc-eltorito core)
//   BIOS, disk:  the MBR is GRUB's boot_hybrid.img, patched by xorriso to load that same core
//   UEFI, CD:    El Torito EFI image = the FAT image appended as MBR partition 2 (type 0xef)
//   UEFI, disk:  the firmware finds that partition 2 as an ESP and runs \EFI\BOOT\BOOTX64.EFI
// Both GRUB cores carry every module they need and a small config that finds the ISO file system
// by a marker file (/.disk/kiln-<spec hash>) and reads /boot/grub/grub.cfg from it. The kernel
// loads /live/initrd.img, whose live-boot mounts /live/filesystem.squashfs (live.ts).
//
// Reproducible: GRUB images are deterministic for the same modules and config; the FAT image is
// made with mkfs.vfat --invariant and a serial from the spec hash, filled by mcopy with
// SOURCE_DATE_EPOCH (TZ=UTC) and source mtimes; xorriso gets SOURCE_DATE_EPOCH (volume dates,
// UUID) and --set_all_file_dates.
import { mkdir, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { ToolError } from '../../core/errors.ts';
import type { ResolvedSpec } from '../spec/defaults.ts';
import { grubConsole } from './cmdline.ts';
import { checkGrubPlatforms } from './disk/grub.ts';
import type { Converter, ConvertContext } from './converter.ts';
import { checkLiveSpec, liveCmdline, liveKernel, liveSquashfs, placeFile } from './live.ts';

const ISO_FILE = 'kiln.iso';
const GRUB_LIB = '/usr/lib/grub';

/** Modules linked into both GRUB cores: find the ISO, read grub.cfg, show the menu, boot Linux. */
const GRUB_MODULES = [
  'part_msdos',
  'part_gpt',
  'iso9660',
  'fat',
  'search',
  'search_fs_file',
  'configfile',
  'normal',
  'linux',
  'echo',
  'test',
  'serial',
  'terminal',
  'boot',
];
const PLATFORMS = {
  bios: { dir: 'i386-pc', format: 'i386-pc-eltorito', modules: ['biosdisk'] },
  efi: { dir: 'x86_64-efi', format: 'x86_64-efi', modules: ['efi_gop', 'efi_uga'] },
} as const;

/** The marker file GRUB searches for: the ISO of this spec, not some other attached disk. */
export function isoMarker(spec: ResolvedSpec): string {
  return `/.disk/kiln-${spec.hash.slice(0, 16)}`;
}

/** ISO 9660 volume id: d-characters, at most 32. */
export function isoVolumeId(spec: ResolvedSpec): string {
  return `KILN_${spec.name.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`.slice(0, 32);
}

/** Config embedded in both GRUB cores; normal mode then reads $prefix/grub.cfg. */
export function grubEarlyCfg(spec: ResolvedSpec): string {
  return [`search --no-floppy --set=root --file ${isoMarker(spec)}`, 'set prefix=($root)/boot/grub', ''].join('\n');
}

/** /boot/grub/grub.cfg: the live entry (with the data disk) and one that leaves any data disk alone. */
export function renderGrubCfg(spec: ResolvedSpec): string {
  const entry = (title: string, id: string, cmdline: string) => [
    `menuentry '${title}' --id ${id} {`,
    `  linux /live/vmlinuz ${cmdline}`,
    '  initrd /live/initrd.img',
    '}',
  ];
  return [
    `# kiln ${spec.name} (${spec.hash.slice(0, 12)}): live boot menu`,
    grubConsole(spec),
    `set timeout=${spec.boot.timeout}`,
    'set default=kiln-live',
    ...entry(`kiln ${spec.name} (live)`, 'kiln-live', liveCmdline(spec)),
    ...entry(`kiln ${spec.name} (live, ignore the data disk)`, 'kiln-live-nodata', liveCmdline(spec, { persistence: false })),
    '',
  ].join('\n');
}

async function run(tool: string, args: string[], what: string, env?: Record<string, string>) {
  try {
    await execa(tool, args, { env });
  } catch (cause) {
    throw new ToolError(tool, `${what} failed`, { cause });
  }
}

async function buildIso(ctx: ConvertContext): Promise<string> {
  const { spec, work } = ctx;
  await checkGrubPlatforms();
  const squashfs = await liveSquashfs(ctx);
  const kernel = await liveKernel(ctx);
  const epoch = spec.sourceDateEpoch;
  const dir = path.join(work.dir, 'iso');
  const tree = path.join(dir, 'tree');
  const esp = path.join(dir, 'esp');
  for (const d of [path.join(tree, 'live'), path.join(tree, 'boot/grub'), path.join(tree, '.disk'), path.join(esp, 'EFI/BOOT')])
    await mkdir(d, { recursive: true });

  await placeFile(kernel.vmlinuz, path.join(tree, 'live/vmlinuz'));
  await placeFile(kernel.initrd, path.join(tree, 'live/initrd.img'));
  await placeFile(squashfs, path.join(tree, 'live/filesystem.squashfs'));
  await writeFile(path.join(tree, isoMarker(spec)), `kiln ${spec.name} ${spec.hash}\n`);
  await writeFile(path.join(tree, 'boot/grub/grub.cfg'), renderGrubCfg(spec));
  const early = path.join(dir, 'early.cfg');
  await writeFile(early, grubEarlyCfg(spec));

  ctx.log('grub-mkimage: BIOS and UEFI cores');
  const core = (p: (typeof PLATFORMS)[keyof typeof PLATFORMS], out: string) =>
    run(
      'grub-mkimage',
      ['-O', p.format, '-d', path.join(GRUB_LIB, p.dir), '-o', out, '-p', '/boot/grub', '-c', early, ...p.modules, ...GRUB_MODULES],
      `building the GRUB ${p.dir} image`,
    );
  await core(PLATFORMS.bios, path.join(tree, 'boot/grub/bios.img'));
  const bootx64 = path.join(esp, 'EFI/BOOT/BOOTX64.EFI');
  await core(PLATFORMS.efi, bootx64);

  // The EFI system partition image: sized to BOOTX64.EFI plus room for FAT structures.
  const efiImg = path.join(dir, 'efi.img');
  const kib = Math.ceil((await stat(bootx64)).size / 1024) + 256;
  const serial = spec.hash.slice(0, 8);
  await run('mkfs.vfat', ['--invariant', '-C', '-i', serial, '-n', 'KILN-EFI', efiImg, String(kib)], 'formatting the EFI image');
  for (const p of ['EFI/BOOT/BOOTX64.EFI', 'EFI/BOOT', 'EFI']) await utimes(path.join(esp, p), epoch, epoch);
  // on top of the environment: mcopy stamps what it makes with SOURCE_DATE_EPOCH, as local time
  const env = { SOURCE_DATE_EPOCH: String(epoch), TZ: 'UTC' };
  await run('mcopy', ['-s', '-m', '-i', efiImg, path.join(esp, 'EFI'), '::/'], 'filling the EFI image', env);

  const iso = path.join(ctx.stagingDir, ISO_FILE);
  ctx.log('xorriso: writing the hybrid ISO');
  const date = new Date(epoch * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  await run(
    'xorriso',
    [
      '-as',
      'mkisofs',
      '-o',
      iso,
      '-iso-level',
      '3',
      '-r',
      '-V',
      isoVolumeId(spec),
      `--modification-date=${date}00`,
      '--set_all_file_dates',
      `=${epoch}`,
      // BIOS: El Torito no-emulation image, and the same core behind the hybrid MBR
      '-b',
      'boot/grub/bios.img',
      '-no-emul-boot',
      '-boot-load-size',
      '4',
      '-boot-info-table',
      '--grub2-boot-info',
      '--grub2-mbr',
      path.join(GRUB_LIB, 'i386-pc/boot_hybrid.img'),
      // UEFI: the FAT image as MBR partition 2 (an ESP on disks) and as the El Torito EFI image
      '-append_partition',
      '2',
      '0xef',
      efiImg,
      '-eltorito-alt-boot',
      '-e',
      '--interval:appended_partition_2:all::',
      '-no-emul-boot',
      tree,
    ],
    'writing the ISO',
    env,
  );
  return iso;
}

export const isoConverter: Converter<'iso'> = {
  format: 'iso',
  description: 'hybrid live ISO (kiln.iso): CD, USB stick or disk, BIOS and UEFI; /var on an optional kiln-data disk',
  tools: ['mksquashfs', 'grub-mkimage', 'mkfs.vfat', 'mcopy', 'xorriso'],
  // boot.cmdline, pxe.baseUrl and the command line length, before any work (live.ts)
  validate: checkLiveSpec,
  convert: async (ctx) => {
    const t0 = Date.now();
    const iso = await buildIso(ctx);
    ctx.log(`${ISO_FILE}: ${((await stat(iso)).size / 2 ** 20).toFixed(0)} MiB in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    return [{ format: 'iso', path: ISO_FILE }];
  },
};
