// The pure parts of the ext4 root: mkfs arguments, the used-inode list debugfs fixes the times
// of, and the fstab entries the disk adds.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diskFstab, ext4Device, mkfsArgs, MKE2FS_CONF, timeFixScript, usedInodes } from '../../../../builder/outputs/disk/ext4.ts';
import { sgdiskArgs } from '../../../../builder/outputs/disk/gpt.ts';
import { diskIds } from '../../../../builder/outputs/disk/ids.ts';
import { GiB, layoutFor, MiB } from '../../../../builder/outputs/disk/layout.ts';

const fixtures = path.resolve(import.meta.dirname, '../../../fixtures/outputs-disk');
const ids = diskIds('d'.repeat(64));
const layout = layoutFor(2 * GiB);

describe('usedInodes', () => {
  it('reads the free ranges of every group and returns the rest', () => {
    // 5 groups of 16 inodes: groups 0 and 1 full, 43-80 free
    const used = usedInodes(readFileSync(path.join(fixtures, 'dumpe2fs-small.txt'), 'utf8'));
    expect(used).toEqual(Array.from({ length: 42 }, (_, i) => i + 1));
  });

  it('handles single inodes and several ranges in one group', () => {
    const text =
      'Inode count:              32\nInodes per group:         16\n\nGroup 0:\n  Free inodes: 12, 14-15\nGroup 1:\n  Free inodes: 17-31\n';
    expect(usedInodes(text)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 16, 32]);
  });

  it('fails on output it does not understand instead of skipping inodes', () => {
    expect(() => usedInodes('nothing here')).toThrow(/inode counts/);
    expect(() => usedInodes('Inode count: 32\nInodes per group: 16\n  Free inodes: 1-16\n')).toThrow(/1 groups, expected 2/);
  });
});

describe('timeFixScript', () => {
  it('sets atime, ctime and crtime of the root and every non-reserved inode', () => {
    const script = timeFixScript([1, 2, 7, 8, 11, 12], 1747699200);
    expect(script.split('\n').filter(Boolean)).toEqual(
      [2, 11, 12].flatMap((i) => [
        `set_inode_field <${i}> atime @1747699200`,
        `set_inode_field <${i}> ctime @1747699200`,
        `set_inode_field <${i}> crtime @1747699200`,
      ]),
    );
  });
});

describe('mkfs.ext4 arguments', () => {
  it('make the file system in place at the root partition, with fixed UUID and hash seed', () => {
    const args = mkfsArgs({ image: '/o/disk.raw', part: layout.root, ids, rootDir: '/w/root' });
    expect(args).toContain(ids.rootFs);
    expect(args.join(' ')).toContain(`-L kiln-root -U ${ids.rootFs}`);
    const extended = args[args.indexOf('-E') + 1]!.split(',');
    expect(extended).toContain(`offset=${66 * MiB}`);
    expect(extended).toContain(`hash_seed=${ids.rootHashSeed}`);
    expect(extended).toEqual(expect.arrayContaining(['lazy_itable_init=0', 'lazy_journal_init=0', 'nodiscard']));
    expect(args.slice(-4)).toEqual(['-d', '/w/root', '/o/disk.raw', `${layout.root.size / 1024}k`]);
    expect(ext4Device('/o/disk.raw', layout.root)).toBe(`/o/disk.raw?offset=${66 * MiB}`);
  });

  it('pin features bookworm GRUB and kernel read, whatever the host defaults', () => {
    expect(MKE2FS_CONF).toMatch(/features = has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize\n/);
    expect(MKE2FS_CONF).not.toMatch(/orphan_file|metadata_csum_seed/);
  });
});

describe('diskFstab', () => {
  it('appends root and ESP by PARTUUID to the image fstab', () => {
    const fstab = diskFstab('# static\nbpffs /sys/fs/bpf bpf rw 0 0\n\n', ids);
    expect(fstab).toMatch(/^# static\nbpffs \/sys\/fs\/bpf bpf rw 0 0\n# Added by kiln/);
    expect(fstab).toContain(`PARTUUID=${ids.rootPart} / ext4 defaults 0 1\n`);
    expect(fstab).toContain(`PARTUUID=${ids.espPart} /boot/efi vfat umask=0077,nofail 0 2\n`);
  });
});

describe('sgdisk arguments', () => {
  it('place each partition by sector with its type, fixed GUID and name', () => {
    const args = sgdiskArgs('/o/disk.raw', layout, ids);
    expect(args[0]).toBe('--clear');
    expect(args).toContain(`--disk-guid=${ids.disk}`);
    expect(args).toEqual(
      expect.arrayContaining([
        '--new=1:2048:4095',
        '--typecode=1:EF02',
        `--partition-guid=1:${ids.biosPart}`,
        '--new=2:4096:135167',
        '--typecode=2:EF00',
        '--new=3:135168:4192255',
        '--typecode=3:8304',
        `--partition-guid=3:${ids.rootPart}`,
        '--change-name=3:kiln-root',
      ]),
    );
    expect(args.at(-1)).toBe('/o/disk.raw');
  });
});
