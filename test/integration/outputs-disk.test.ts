// The raw and qcow2 outputs, built through the CLI and checked with the tools that read them:
// sfdisk (GPT), e2fsck and debugfs (the ext4 root), mtools (the ESP), qemu-img (the qcow2).
// Two builds at different times must give the same bytes. Booting them is test/vm's job.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256File } from '../../core/hash.ts';
import { diskIds, fatUuid } from '../../builder/outputs/disk/ids.ts';
import { kiln, kilnBuild, repoRoot, tempDir, testCacheDir } from '../helpers/build.ts';
import type { SpecDoc } from '../helpers/specs.ts';

const SDE = 1747699200;
const MiB = 2 ** 20;
const work = tempDir('kiln-disk-it-');
afterAll(() => rmSync(work, { recursive: true, force: true }));

function variant(name: string, edit: (doc: SpecDoc) => void): string {
  const doc = YAML.parse(readFileSync(path.join(repoRoot, 'images/debian-bookworm.yaml'), 'utf8'));
  delete doc.$schema;
  edit(doc);
  const file = path.join(work, `${name}.yaml`);
  writeFileSync(file, YAML.stringify(doc));
  return file;
}

const spec = variant('disk', (d) => {
  d.outputs = [{ format: 'raw' }, { format: 'qcow2' }];
});
const outA = path.join(work, 'a');
const outB = path.join(work, 'b');
const raw = path.join(outA, 'disk.raw');
const qcow2 = path.join(outA, 'disk.qcow2');
const run = (cmd: string, args: string[], env: Record<string, string> = {}) =>
  execFileSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * MiB, stdio: ['ignore', 'pipe', 'pipe'] });
const manifest = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
let ids: ReturnType<typeof diskIds>;

interface SfdiskPart {
  start: number;
  size: number;
  type: string;
  uuid: string;
  name: string;
}

beforeAll(async () => {
  const t0 = Date.now();
  await kilnBuild(spec, outA);
  console.log(
    `raw + qcow2 build: ${((Date.now() - t0) / 1000).toFixed(0)} s, disk.raw ${statSync(raw).size / MiB} MiB, disk.qcow2 ${(statSync(qcow2).size / MiB).toFixed(0)} MiB`,
  );
  ids = diskIds(manifest(outA).specHash);
});

describe('disk.raw', () => {
  it('has a GPT with BIOS boot, EFI system and Linux root (x86-64) partitions under fixed GUIDs', () => {
    const table = JSON.parse(run('sfdisk', ['--json', raw])).partitiontable as {
      label: string;
      id: string;
      sectorsize: number;
      partitions: SfdiskPart[];
    };
    expect(table.label).toBe('gpt');
    expect(table.id.toLowerCase()).toBe(ids.disk);
    const [bios, esp, root] = table.partitions;
    expect(table.partitions).toHaveLength(3);
    expect(bios).toMatchObject({ start: 2048, size: 2048, type: '21686148-6449-6E6F-744E-656564454649', name: 'BIOS boot' });
    expect(esp).toMatchObject({ start: 4096, size: 131072, type: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', name: 'EFI System' });
    expect(root).toMatchObject({ start: 135168, type: '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709', name: 'kiln-root' });
    expect([bios!.uuid, esp!.uuid, root!.uuid].map((u) => u.toLowerCase())).toEqual([ids.biosPart, ids.espPart, ids.rootPart]);
    // the root ends 1 MiB before the end of the disk (the backup GPT lives there)
    expect((root!.start + root!.size) * 512).toBe(statSync(raw).size - MiB);
    // sgdisk's own check of both headers and the protective MBR
    expect(run('sgdisk', ['--verify', raw])).toMatch(/No problems found/);
  });

  it('has an ext4 root that fsck finds clean, with every timestamp at sourceDateEpoch', () => {
    const root = path.join(work, 'root.ext4');
    // dd the partition out: e2fsck checks what a real disk would hold there
    run('dd', [`if=${raw}`, `of=${root}`, 'bs=1M', 'skip=66', `count=${statSync(raw).size / MiB - 67}`, 'conv=sparse', 'status=none']);
    run('fsck.ext4', ['-fn', root]);
    const header = run('dumpe2fs', ['-h', root]);
    expect(header).toMatch(new RegExp(`Filesystem UUID:\\s+${ids.rootFs}`));
    expect(header).toMatch(/Filesystem volume name:\s+kiln-root/);
    expect(header).toMatch(new RegExp(`Directory Hash Seed:\\s+${ids.rootHashSeed}`));
    expect(header).not.toMatch(/orphan_file|metadata_csum_seed/);
    const fstab = run('debugfs', ['-R', 'cat /etc/fstab', root]);
    expect(fstab).toContain(`PARTUUID=${ids.rootPart} / ext4 defaults 0 1`);
    expect(fstab).toContain(`PARTUUID=${ids.espPart} /boot/efi vfat`);
    // mke2fs -d copies ctime and atime from the extracted files: kiln resets them
    for (const file of ['/etc/fstab', '/usr/bin/ls', '/etc/kiln/image.json', '/boot', '/']) {
      const stat = run('debugfs', ['-R', `stat ${file}`, root]);
      for (const field of ['ctime', 'atime', 'crtime'])
        expect(stat, `${file} ${field}`).toMatch(new RegExp(`^\\s*${field}: 0x${SDE.toString(16)}:00000000`, 'm'));
    }
    // the kernel GRUB loads and the grow-root unit the disk relies on
    const boot = run('debugfs', ['-R', 'ls -l /boot', root]);
    expect(boot).toMatch(/vmlinuz-\d/);
    expect(boot).toMatch(/initrd\.img-\d/);
    expect(run('debugfs', ['-R', 'stat /usr/lib/systemd/system/kiln-grow-root.service', root])).toMatch(/Type: regular/);
    rmSync(root);
  });

  it('has an ESP with BOOTX64.EFI and the one grub.cfg, which boots the root by PARTUUID', () => {
    const mtools = { MTOOLS_SKIP_CHECK: '1' };
    const esp = `${raw}@@${2 * MiB}`;
    const info = run('minfo', ['-i', esp], mtools);
    expect(info).toMatch(new RegExp(`serial number: ${ids.espVolumeId}`));
    expect(info).toMatch(/disk type="FAT32/);
    const listing = run('mdir', ['-i', esp, '-/', '-a', '::'], mtools);
    expect(listing).toMatch(/BOOTX64\s+EFI/);
    expect(listing).toMatch(/grub\s+cfg/);
    expect(listing).toMatch(/2025-05-20/);
    const cfg = run('mtype', ['-i', esp, '::/EFI/BOOT/grub.cfg'], mtools);
    expect(cfg).toContain(`search --no-floppy --fs-uuid --set=root ${ids.rootFs}`);
    expect(cfg).toMatch(new RegExp(`linux /boot/vmlinuz-\\S+ root=PARTUUID=${ids.rootPart} rw console=tty0 console=ttyS0,115200n8\\n`));
    expect(cfg).toMatch(/initrd \/boot\/initrd\.img-/);
    expect(cfg).toContain('set timeout=1');
    expect(cfg).not.toMatch(/\/dev\/[sv]d/);
    // the embedded config of both core images looks the ESP up by this volume id
    const efi = path.join(work, 'BOOTX64.EFI');
    run('mcopy', ['-i', esp, '-n', '::/EFI/BOOT/BOOTX64.EFI', efi], mtools);
    expect(readFileSync(efi).subarray(0, 2).toString()).toBe('MZ');
    expect(readFileSync(efi).includes(Buffer.from(`--fs-uuid --set=root ${fatUuid(ids.espVolumeId)}`))).toBe(true);
    run('fsck.vfat', ['-n', extract(raw, 2 * MiB, 64 * MiB)]);
  });

  it('has GRUB in the MBR and the BIOS boot partition, the MBR partition entry intact', () => {
    const head = Buffer.alloc(2 * MiB);
    const fd = openSync(raw, 'r');
    readSync(fd, head, 0, head.length, 0);
    closeSync(fd);
    const mbr = head.subarray(0, 512);
    expect(mbr.readBigUInt64LE(0x5c)).toBe(2048n); // boot.img → core.img's first sector
    expect(mbr[0x1c2]).toBe(0xee); // protective MBR partition
    expect(mbr.readUInt16LE(0x1fe)).toBe(0xaa55);
    const core = head.subarray(2048 * 512);
    expect(core.readBigUInt64LE(0x1f4)).toBe(2049n); // core.img's first sector → the rest
    expect(core.readUInt16LE(0x1fe)).toBe(0x820);
  });
});

function extract(file: string, offset: number, size: number): string {
  const out = path.join(work, `part-${offset}.img`);
  run('dd', [`if=${file}`, `of=${out}`, 'bs=1M', `skip=${offset / MiB}`, `count=${size / MiB}`, 'status=none']);
  return out;
}

describe('disk.qcow2', () => {
  it('is a compressed qcow2 of the raw disk', () => {
    const info = JSON.parse(run('qemu-img', ['info', '--output=json', qcow2]));
    expect(info.format).toBe('qcow2');
    expect(info['virtual-size']).toBe(statSync(raw).size);
    expect(info['format-specific'].data['compression-type']).toBe('zlib');
    const check = run('qemu-img', ['check', qcow2]);
    expect(check).toMatch(/No errors were found/);
    expect(Number(/([\d.]+)% compressed clusters/.exec(check)?.[1])).toBeGreaterThan(50);
    expect(statSync(qcow2).size).toBeLessThan(statSync(raw).size / 3);
    // same content
    run('qemu-img', ['compare', '-q', '-f', 'raw', '-F', 'qcow2', raw, qcow2]);
  });
});

describe('reproducible and published', () => {
  it('a second build gives the same bytes for disk.raw and disk.qcow2, and the manifest lists both', async () => {
    // later than the first: extraction gives every file new ctimes and atimes
    await kilnBuild(spec, outB);
    for (const name of ['disk.raw', 'disk.qcow2'])
      expect(await sha256File(path.join(outB, name)), name).toBe(await sha256File(path.join(outA, name)));
    const artifacts = manifest(outA).artifacts as Array<{ format: string; path: string; size: number; sha256: string }>;
    expect(artifacts.map((a) => [a.format, a.path])).toEqual([
      ['raw', 'disk.raw'],
      ['qcow2', 'disk.qcow2'],
    ]);
    for (const a of artifacts) {
      expect(a.sha256).toBe(await sha256File(path.join(outA, a.path)));
      expect(a.size).toBe(statSync(path.join(outA, a.path)).size);
    }
    expect(manifest(outB).artifacts).toEqual(artifacts);
    expect(readdirSync(outA).sort()).toEqual(['disk.qcow2', 'disk.raw', 'manifest.json', 'rootfs.tar']);
  });
});

describe('disk.size', () => {
  it('a disk.size the rootfs does not fit fails with /disk/size and a hint, writing no disk', async () => {
    // the default rootfs fits the 1G floor now: an overlay's 320 MiB file makes this one need more
    const bulk = path.join(work, 'bulk');
    mkdirSync(path.join(bulk, 'var/lib'), { recursive: true });
    writeFileSync(path.join(bulk, 'var/lib/bulk.bin'), Buffer.alloc(320 * MiB, 1));
    const small = variant('small', (d) => {
      d.outputs = [{ format: 'raw' }];
      d.disk = { size: '1G' };
      d.overlays = [{ path: bulk }];
    });
    const out = path.join(work, 'small');
    const r = await kiln(['build', small, '--out', out, '--cache-dir', testCacheDir], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/\/disk\/size: 1G is too small for this rootfs/);
    expect(r.stderr).toMatch(/hint: use disk\.size: \d+M or more \(e\.g\. 2G\)/);
    expect(existsSync(path.join(out, 'disk.raw'))).toBe(false);
    expect(existsSync(path.join(out, 'manifest.json'))).toBe(false);
  });

  it('a given disk.size sets the disk size; the root partition fills it', async () => {
    const sized = variant('sized', (d) => {
      d.outputs = [{ format: 'raw' }];
      d.disk = { size: '3G' };
    });
    const out = path.join(work, 'sized');
    await kilnBuild(sized, out);
    const file = path.join(out, 'disk.raw');
    expect(statSync(file).size).toBe(3 * 2 ** 30);
    const root = JSON.parse(run('sfdisk', ['--json', file])).partitiontable.partitions[2] as SfdiskPart;
    expect((root.start + root.size) * 512).toBe(3 * 2 ** 30 - MiB);
    rmSync(out, { recursive: true, force: true });
  });
});
