// GRUB pieces of the raw disk: the config both firmwares read, and the two blocklist patches
// grub-bios-setup would make (boot.img in the MBR, core.img's first sector).
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { diskIds } from '../../../../builder/outputs/disk/ids.ts';
import { CORE_BLOCKLIST, earlyConfig, grubConfig, MBR, patchCore, patchMbr } from '../../../../builder/outputs/disk/grub.ts';
import type { ResolvedSpec } from '../../../../builder/spec/defaults.ts';

const HASH = 'c'.repeat(64);
const ids = diskIds(HASH);
const spec = (boot: Partial<ResolvedSpec['boot']> = {}) =>
  ({
    name: 'node',
    hash: HASH,
    boot: { cmdline: [], console: 'both', serialSpeed: 115200, timeout: 1, ...boot },
  }) as unknown as ResolvedSpec;

/** A protective MBR as sgdisk writes it: no boot code, one 0xEE entry, the signature. */
function protectiveMbr(): Buffer {
  const mbr = Buffer.alloc(512);
  Buffer.from('000200ee7e251901000000ff3f0600', 'hex').copy(mbr, 0x1be);
  mbr.writeUInt16LE(0xaa55, 0x1fe);
  return mbr;
}

/** boot.img's shape: a jmp over the BPB, defaults at 0x5c (sector 1), 0x64 (0xff), 0x66 (jmp). */
function fakeBootImg(): Buffer {
  const img = Buffer.alloc(512, 0xcc);
  img.fill(0, MBR.bpbStart, MBR.bpbEnd);
  Buffer.from('eb6390', 'hex').copy(img, 0);
  img.writeBigUInt64LE(1n, MBR.kernelSector);
  img[MBR.bootDrive] = 0xff;
  Buffer.from('eb05', 'hex').copy(img, MBR.driveCheck);
  img.fill(0, 0x1b8, 0x1fe);
  img.writeUInt16LE(0xaa55, 0x1fe);
  return img;
}

describe('grub.cfg', () => {
  it('finds the root by file system UUID and boots it by PARTUUID, with the spec console and timeout', () => {
    const cfg = grubConfig(spec({ timeout: 5, cmdline: ['quiet'] }), ids, { version: '6.1.0-56-amd64' });
    expect(cfg).toContain(`search --no-floppy --fs-uuid --set=root ${ids.rootFs}\n`);
    expect(cfg).toContain('set timeout=5\n');
    expect(cfg).toContain('serial --unit=0 --speed=115200\nterminal_input serial console\nterminal_output serial console\n');
    expect(cfg).toContain(
      `\tlinux /boot/vmlinuz-6.1.0-56-amd64 root=PARTUUID=${ids.rootPart} rw console=tty0 console=ttyS0,115200n8 quiet\n`,
    );
    expect(cfg).toContain('\tinitrd /boot/initrd.img-6.1.0-56-amd64\n');
    expect(cfg).not.toMatch(/\/dev\/[sv]d/);
  });

  it('follows the console setting', () => {
    const cfg = grubConfig(spec({ console: 'vga' }), ids, { version: 'v' });
    expect(cfg).not.toContain('serial');
    expect(cfg).toMatch(/ rw console=tty0\n/);
  });

  it('is found by both core images through the ESP volume id', () => {
    expect(earlyConfig(ids)).toBe(
      `search --no-floppy --fs-uuid --set=root ${ids.espVolumeId.slice(0, 4).toLowerCase()}-${ids.espVolumeId.slice(4).toLowerCase()}\nset prefix=($root)/EFI/BOOT\n`,
    );
  });
});

describe('patchMbr', () => {
  it('puts boot.img in the MBR pointing at core.img, keeping the protective partition entry', () => {
    const mbr = protectiveMbr();
    const out = patchMbr(mbr, fakeBootImg(), 2048);
    expect(out.subarray(0x1b8)).toEqual(mbr.subarray(0x1b8));
    expect(out.readBigUInt64LE(0x5c)).toBe(2048n);
    expect(out[0x64]).toBe(0xff);
    expect(out.subarray(0x66, 0x68)).toEqual(Buffer.from([0x90, 0x90]));
    expect(out.subarray(0, 3)).toEqual(Buffer.from('eb6390', 'hex'));
    // the rest of the boot code is boot.img's
    expect(out.subarray(0x68, 0x1b8)).toEqual(fakeBootImg().subarray(0x68, 0x1b8));
  });

  it('refuses a sector without an MBR signature', () => {
    expect(() => patchMbr(Buffer.alloc(512), fakeBootImg(), 2048)).toThrow(/signature/);
  });

  const hostBootImg = '/usr/lib/grub/i386-pc/boot.img';
  it.skipIf(!existsSync(hostBootImg))('matches the offsets in the host GRUB boot.img', () => {
    const img = readFileSync(hostBootImg);
    expect(img.readBigUInt64LE(MBR.kernelSector)).toBe(1n);
    expect(img[MBR.bootDrive]).toBe(0xff);
    expect(img[MBR.driveCheck]).toBe(0xeb); // the jmp grub-bios-setup nops out
    const out = patchMbr(protectiveMbr(), img, 2048);
    expect(out.readBigUInt64LE(MBR.kernelSector)).toBe(2048n);
  });
});

describe('patchCore', () => {
  /** core.img as grub-mkimage writes it: diskboot.img's blocklist {start 2, len, segment 0x820}. */
  function fakeCore(bytes: number): Buffer {
    const core = Buffer.alloc(bytes, 0x11);
    const sectors = Math.ceil(bytes / 512);
    core.writeBigUInt64LE(2n, CORE_BLOCKLIST);
    core.writeUInt16LE(sectors - 1, CORE_BLOCKLIST + 8);
    core.writeUInt16LE(0x820, CORE_BLOCKLIST + 10);
    return core;
  }

  it('points the first-sector blocklist at the sector after it and pads to whole sectors', () => {
    const out = patchCore(fakeCore(157_051), 2048);
    expect(out.length).toBe(307 * 512);
    expect(out.readBigUInt64LE(0x1f4)).toBe(2049n);
    expect(out.readUInt16LE(0x1fc)).toBe(306);
    expect(out.readUInt16LE(0x1fe)).toBe(0x820);
    expect(out.subarray(157_051).every((b) => b === 0)).toBe(true);
  });

  it('refuses an image whose blocklist does not match its length', () => {
    const core = fakeCore(4096);
    core.writeUInt16LE(3, CORE_BLOCKLIST + 8);
    expect(() => patchCore(core, 2048)).toThrow(/blocklist says 3 sectors/);
  });
});
