// Disk sizing and layout: partitions in fixed places, sizes from the rootfs, disk.size checked.
import { describe, expect, it } from 'vitest';
import { KilnError } from '../../../../core/errors.ts';
import {
  diskSizeFor,
  GiB,
  HEADROOM,
  layoutFor,
  MAX_DISK,
  MiB,
  minRootSize,
  parseDiskSize,
  ROOT_START,
  rootfsUsage,
  TAIL,
  validateDiskSize,
} from '../../../../builder/outputs/disk/layout.ts';
import type { TarHeader } from '../../../../builder/tar/read.ts';

const entry = (name: string, type: TarHeader['type'], size = 0, extra: Partial<TarHeader> = {}): TarHeader => ({
  name,
  type,
  mode: 0o644,
  uid: 0,
  gid: 0,
  size,
  mtime: 0,
  ...extra,
});
const spec = (size?: string) => ({ file: 'images/x.yaml', disk: size === undefined ? {} : { size } });

function thrown(fn: () => unknown): KilnError {
  try {
    fn();
  } catch (error) {
    if (error instanceof KilnError) return error;
    throw error;
  }
  throw new Error('did not throw');
}

describe('layoutFor', () => {
  it('places BIOS boot, ESP and root MiB-aligned, leaving the last MiB for the backup GPT', () => {
    const l = layoutFor(2 * GiB);
    expect(l.bios).toEqual({ number: 1, start: 1 * MiB, size: 1 * MiB });
    expect(l.esp).toEqual({ number: 2, start: 2 * MiB, size: 64 * MiB });
    expect(l.root).toEqual({ number: 3, start: 66 * MiB, size: 2 * GiB - 67 * MiB });
    expect(l.root.start + l.root.size + TAIL).toBe(l.size);
  });

  it('rejects sizes that are not whole MiB', () => {
    expect(() => layoutFor(GiB + 512)).toThrow(/MiB/);
  });
});

describe('parseDiskSize', () => {
  it('reads M and G', () => {
    expect(parseDiskSize('3072M')).toBe(3072 * MiB);
    expect(parseDiskSize('4G')).toBe(4 * GiB);
  });
  it('knows no other units', () => {
    for (const s of ['4g', '4T', '4', '4.5G', ' 4G', '4GiB', '']) expect(parseDiskSize(s)).toBeUndefined();
  });
});

describe('rootfsUsage', () => {
  it('counts blocks of files, directories, long symlinks and big xattrs; hard links share an inode', () => {
    const u = rootfsUsage([
      entry('', 'directory'),
      entry('etc', 'directory'),
      entry('etc/a', 'file', 1),
      entry('etc/b', 'file', 4097),
      entry('etc/empty', 'directory'),
      entry('etc/short', 'symlink', 0, { linkname: 'a' }),
      entry('etc/long', 'symlink', 0, { linkname: 'x'.repeat(60) }),
      entry('etc/hard', 'link', 0, { linkname: 'etc/a' }),
      entry('dev', 'directory'),
      entry('dev/null', 'character-device'),
      entry('bin', 'file', 0, { xattrs: new Map([['security.capability', Buffer.alloc(20)]]) }),
      entry('big', 'file', 0, { xattrs: new Map([['user.big', Buffer.alloc(200)]]) }),
    ]);
    expect(u.inodes).toBe(11);
    // files 1 + 2 blocks, long symlink 1, big xattr 1, directories "", etc, dev 1 each, empty dir 1
    expect(u.dataBytes).toBe((3 + 1 + 1 + 3 + 1) * 4096);
  });

  it('sizes a directory by its entries', () => {
    const files = Array.from({ length: 1000 }, (_, i) => entry(`d/file-with-a-long-name-${String(i).padStart(4, '0')}`, 'file', 0));
    const u = rootfsUsage([entry('', 'directory'), entry('d', 'directory'), ...files]);
    // 1000 entries of 8 + 28 bytes need 9 blocks, the root 1
    expect(u.dataBytes).toBe((9 + 1) * 4096);
  });
});

describe('minRootSize', () => {
  it('covers data, journal and inode tables, and enough inodes', () => {
    const bytes = minRootSize({ dataBytes: 856 * MiB, inodes: 15_700 });
    expect(bytes % MiB).toBe(0);
    expect(bytes).toBeGreaterThan(856 * MiB + 64 * MiB);
    expect(bytes).toBeLessThan(1100 * MiB);
    // many tiny files: the inode count decides
    const inodeBound = minRootSize({ dataBytes: 100 * MiB, inodes: 200_000 });
    expect(inodeBound / 16384).toBeGreaterThan(200_000);
  });
});

describe('diskSizeFor', () => {
  const usage = { dataBytes: 856 * MiB, inodes: 15_700 };

  it('computes the rootfs plus headroom, rounded to 256 MiB', () => {
    const size = diskSizeFor(spec(), usage);
    expect(size % (256 * MiB)).toBe(0);
    expect(size - ROOT_START - TAIL).toBeGreaterThanOrEqual(minRootSize(usage) + HEADROOM);
    expect(size).toBe(1792 * MiB);
  });

  it('takes disk.size when the rootfs fits', () => {
    expect(diskSizeFor(spec('4G'), usage)).toBe(4 * GiB);
  });

  it('fails on a disk.size the rootfs does not fit, naming /disk/size and the size that would do', () => {
    const e = thrown(() => diskSizeFor(spec('1G'), usage));
    expect(e.path).toBe('/disk/size');
    expect(e.file).toBe('images/x.yaml');
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/1G is too small for this rootfs/);
    expect(e.hint).toMatch(/disk\.size: \d+M or more \(e\.g\. 2G\)/);
  });
});

describe('validateDiskSize', () => {
  it('accepts no size and sizes in bounds', () => {
    expect(() => validateDiskSize(spec())).not.toThrow();
    expect(() => validateDiskSize(spec('20G'))).not.toThrow();
  });

  it.each([
    ['4T', /not a disk size/],
    ['4.5G', /not a disk size/],
    ['512M', /too small for a kiln node disk/],
    [`${MAX_DISK / GiB + 1}G`, /larger than kiln builds/],
  ])('rejects %s with /disk/size and a hint', (size, message) => {
    const e = thrown(() => validateDiskSize(spec(size)));
    expect(e.message).toMatch(message);
    expect(e.path).toBe('/disk/size');
    expect(e.hint).toBeTruthy();
    expect(e.exitCode).toBe(2);
  });
});
