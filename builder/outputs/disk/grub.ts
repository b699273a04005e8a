// GRUB for both firmwares from the host's grub-pc-bin and grub-efi-amd64-bin: one config on the
// ESP, a BOOTX64.EFI for UEFI, and for BIOS boot.img in the MBR with core.img in the BIOS boot
// partition — the two blocklist patches grub-bios-setup would make, done on the image file.
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ToolError } from '../../../core/errors.ts';
import type { ResolvedSpec } from '../../spec/defaults.ts';
import { grubConsole, kernelCmdline } from '../cmdline.ts';
import type { KernelFiles } from '../work.ts';
import { fatUuid, type DiskIds } from './ids.ts';
import { SECTOR } from './layout.ts';
import { run } from './run.ts';

const GRUB_LIB = '/usr/lib/grub';
export const EFI_DIR = 'EFI/BOOT';

/** Modules built into both core images (nothing is loaded from disk later). */
const COMMON_MODULES = [
  'part_gpt',
  'fat',
  'ext2',
  'search',
  'search_fs_uuid',
  'search_label',
  'normal',
  'configfile',
  'linux',
  'echo',
  'test',
  'serial',
  'terminal',
  'ls',
  'cat',
  'reboot',
  'halt',
  'sleep',
];
export const PLATFORMS = {
  bios: { dir: 'i386-pc', format: 'i386-pc', modules: [...COMMON_MODULES, 'biosdisk'], package: 'grub-pc-bin' },
  efi: {
    dir: 'x86_64-efi',
    format: 'x86_64-efi',
    modules: [...COMMON_MODULES, 'efi_gop', 'efi_uga', 'all_video'],
    package: 'grub-efi-amd64-bin',
  },
} as const;

// boot.img (the MBR code) and diskboot.img (core.img's first sector), from grub's i386/pc/boot.h
export const MBR = {
  bpbStart: 0x03,
  bpbEnd: 0x5a,
  /** LBA of core.img's first sector, 64-bit little-endian. */
  kernelSector: 0x5c,
  /** 0xff: read core.img from the drive the BIOS booted. */
  bootDrive: 0x64,
  /** A jmp that grub-bios-setup turns into two nops for hard disks (buggy BIOSes pass a wrong %dl). */
  driveCheck: 0x66,
  /** Disk signature, partition table and 0x55aa: kept from the protective MBR. */
  keepFrom: 0x1b8,
} as const;
/** diskboot.img's blocklist (start LBA u64, sectors u16, segment u16) at the end of core.img's first sector. */
export const CORE_BLOCKLIST = 0x200 - 12;

/** The embedded config both core images start with: find the ESP, read grub.cfg from it. */
export function earlyConfig(ids: DiskIds): string {
  return `search --no-floppy --fs-uuid --set=root ${fatUuid(ids.espVolumeId)}\nset prefix=($root)/${EFI_DIR}\n`;
}

/** The one grub.cfg both firmwares read. */
export function grubConfig(spec: ResolvedSpec, ids: DiskIds, kernel: Pick<KernelFiles, 'version'>): string {
  const cmdline = kernelCmdline(spec, [`root=PARTUUID=${ids.rootPart}`, 'rw']);
  return `# kiln ${spec.name} (${spec.hash.slice(0, 12)}): GRUB's config for BIOS and UEFI boots of the disk image.
${grubConsole(spec)}
set timeout=${spec.boot.timeout}
set timeout_style=menu
set default=kiln
search --no-floppy --fs-uuid --set=root ${ids.rootFs}
menuentry '${spec.name}' --id kiln {
	linux /boot/vmlinuz-${kernel.version} ${cmdline}
	initrd /boot/initrd.img-${kernel.version}
}
`;
}

/** Fails (before any work) when the host lacks a GRUB platform's modules. */
export async function checkGrubPlatforms(): Promise<void> {
  for (const p of Object.values(PLATFORMS)) {
    const dir = path.join(GRUB_LIB, p.dir);
    await access(path.join(dir, 'moddep.lst')).catch((cause) => {
      throw new ToolError('grub-mkimage', `no GRUB ${p.format} modules in ${dir}`, {
        cause,
        hint: `install ${p.package} (scripts/host-deps)`,
      });
    });
  }
}

export async function mkimage(platform: keyof typeof PLATFORMS, output: string, config: string, sourceDateEpoch: number): Promise<void> {
  const p = PLATFORMS[platform];
  await run(
    'grub-mkimage',
    ['-d', path.join(GRUB_LIB, p.dir), '-O', p.format, '-o', output, '-c', config, '-p', `/${EFI_DIR}`, ...p.modules],
    { sourceDateEpoch },
  );
}

export async function bootImg(): Promise<Buffer> {
  return readFile(path.join(GRUB_LIB, PLATFORMS.bios.dir, 'boot.img'));
}

/** The MBR with GRUB's boot code: boot.img pointed at `coreLba`, the protective MBR's table kept. */
export function patchMbr(mbr: Buffer, bootImg: Buffer, coreLba: number): Buffer {
  if (mbr.length !== SECTOR || bootImg.length !== SECTOR) throw new Error('the MBR and boot.img are one 512-byte sector each');
  if (mbr.readUInt16LE(0x1fe) !== 0xaa55) throw new Error('no MBR signature: write the partition table first');
  const out = Buffer.from(bootImg);
  // as grub-bios-setup: keep the existing (here empty) BPB area and the partition table
  mbr.copy(out, MBR.bpbStart, MBR.bpbStart, MBR.bpbEnd);
  mbr.copy(out, MBR.keepFrom, MBR.keepFrom, SECTOR);
  out.writeBigUInt64LE(BigInt(coreLba), MBR.kernelSector);
  out[MBR.bootDrive] = 0xff;
  out[MBR.driveCheck] = 0x90;
  out[MBR.driveCheck + 1] = 0x90;
  return out;
}

/** core.img with its first-sector blocklist pointing at the rest of it, stored from `coreLba` on. */
export function patchCore(core: Buffer, coreLba: number): Buffer {
  const sectors = Math.ceil(core.length / SECTOR);
  const out = Buffer.alloc(sectors * SECTOR);
  core.copy(out);
  const len = out.readUInt16LE(CORE_BLOCKLIST + 8);
  // grub-mkimage fills in the length (sectors after the first); only the start is ours to set
  if (len !== sectors - 1) throw new Error(`core.img blocklist says ${len} sectors, the image has ${sectors - 1} after the first`);
  if (out.readUInt16LE(CORE_BLOCKLIST + 10) !== 0x820) throw new Error('core.img blocklist segment is not 0x820: not an i386-pc core.img?');
  out.writeBigUInt64LE(BigInt(coreLba + 1), CORE_BLOCKLIST);
  return out;
}
