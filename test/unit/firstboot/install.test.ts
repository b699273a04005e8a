// Choosing the install disk (firstboot/install): lsblk's JSON read into disk facts, and the
// selector's answers: one disk, or a refusal that lists every disk of the machine.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KilnError } from '../../../core/errors.ts';
import { diskFacts } from '../../../firstboot/install/disks.ts';
import { selectDisk } from '../../../firstboot/install/select.ts';
import { repoRoot } from '../../helpers/build.ts';

const lsblk = readFileSync(path.join(repoRoot, 'test/fixtures/firstboot/install/lsblk.json'), 'utf8');
const disks = diskFacts(lsblk, {
  byId: new Map([
    ['virtio-kiln-disk-1', '/dev/vda'],
    ['virtio-small-1', '/dev/vdb'],
    ['virtio-small-1-part1', '/dev/vdb1'],
    ['usb-QEMU_USB_HARDDRIVE_USB-STICK-1-0:0', '/dev/sda'],
  ]),
  byPath: new Map([
    ['pci-0000:00:04.0', '/dev/vda'],
    ['pci-0000:00:05.0', '/dev/vdb'],
  ]),
});
const IMAGE = 3 * 2 ** 30;
const refusal = (fn: () => unknown): KilnError => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(KilnError);
    expect((error as KilnError).exitCode).toBe(2);
    return error as KilnError;
  }
  throw new Error('not refused');
};

describe('the disks lsblk reports', () => {
  it('are the whole disks only, with their partitions’ file systems and mounts and their by-id and by-path names', () => {
    expect(disks.map((d) => d.path)).toEqual(['/dev/sda', '/dev/vda', '/dev/vdb']);
    expect(disks[0]).toMatchObject({ removable: true, mounts: ['/run/live/medium'], partitionTable: 'dos', transport: 'usb' });
    expect(disks[1]).toEqual({
      path: '/dev/vda',
      size: 17179869184,
      removable: false,
      readOnly: false,
      serial: 'kiln-disk-1',
      transport: 'virtio',
      filesystems: [],
      mounts: [],
      byId: ['virtio-kiln-disk-1'],
      byPath: ['pci-0000:00:04.0'],
    });
    expect(disks[2]!.filesystems).toEqual([{ type: 'ext4', label: 'kiln-data' }]);
    expect(disks[2]!.byId).toEqual(['virtio-small-1']);
  });
});

describe('selectDisk', () => {
  it('finds the disk by id, path, serial, or as the only non-removable unmounted disk big enough', () => {
    expect(selectDisk({ disk: { id: 'virtio-kiln-disk-1' } }, disks, IMAGE).path).toBe('/dev/vda');
    expect(selectDisk({ disk: { path: 'pci-0000:00:04.0' } }, disks, IMAGE).path).toBe('/dev/vda');
    expect(selectDisk({ disk: { serial: 'kiln-disk-1' } }, disks, IMAGE).path).toBe('/dev/vda');
    // the 8 GiB USB stick is removable and mounted, the 4 GiB disk too small
    expect(selectDisk({ disk: { minSizeGiB: 8 } }, disks, IMAGE).path).toBe('/dev/vda');
  });

  it('refuses ambiguity, listing every disk', () => {
    const e = refusal(() => selectDisk({ disk: { minSizeGiB: 1 } }, disks, IMAGE));
    expect(e.message).toMatch(/^2 disks are the only non-removable disk of at least 1 GiB \(\/dev\/vda, \/dev\/vdb\): kiln will not guess/);
    expect(e.message).toContain(
      '\n      /dev/sda, 7.5 GiB, removable, model QEMU USB HARDDRIVE, serial USB-STICK-1, id usb-QEMU_USB_HARDDRIVE_USB-STICK-1-0:0',
    );
    expect(e.message).toContain('\n      /dev/vda, 16.0 GiB, serial kiln-disk-1, id virtio-kiln-disk-1, path pci-0000:00:04.0');
    expect(e.path).toBe('/install/disk');
    expect(e.hint).toBe('name the disk by id, path or serial instead');
  });

  it('refuses a disk that is not there, in use, too small, or not blank under if-blank', () => {
    expect(refusal(() => selectDisk({ disk: { id: 'wwn-0x5000' } }, disks, IMAGE)).message).toMatch(
      /^no disk is id wwn-0x5000; the disks of this machine:/,
    );
    expect(refusal(() => selectDisk({ disk: { serial: 'USB-STICK-1' } }, disks, IMAGE)).message).toMatch(
      /^\/dev\/sda \(serial USB-STICK-1\) is in use: mounted at \/run\/live\/medium/,
    );
    expect(refusal(() => selectDisk({ disk: { serial: 'small-1' } }, disks, 8 * 2 ** 30)).message).toMatch(
      /^\/dev\/vdb holds 4294967296 bytes, less than the 8589934592 of the disk image/,
    );
    const notBlank = refusal(() => selectDisk({ disk: { serial: 'small-1' } }, disks, 2 ** 30));
    expect(notBlank.message).toMatch(
      /^\/dev\/vdb is not blank \(a gpt partition table, file system ext4 labelled kiln-data\) and install.wipe is if-blank/,
    );
    expect(notBlank.hint).toMatch(/install.wipe: always/);
    expect(selectDisk({ disk: { serial: 'small-1' }, wipe: 'always' }, disks, 2 ** 30).path).toBe('/dev/vdb');
  });
});
