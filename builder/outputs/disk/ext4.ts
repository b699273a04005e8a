// The ext4 root, made in place inside the disk image with `mkfs.ext4 -d` (no mounts, no loop
// devices), then finished with debugfs: the fstab entries for the disk, and every inode's times
// set to sourceDateEpoch (mke2fs 1.47.0 copies each source file's atime and ctime).
import { access, readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ToolError } from '../../../core/errors.ts';
import type { DiskIds } from './ids.ts';
import { INODE_RATIO, INODE_SIZE, JOURNAL_SIZE, MiB, type Partition } from './layout.ts';
import { run } from './run.ts';

const ROOT_LABEL = 'kiln-root';

// kiln's own mke2fs.conf, so the host's defaults (a newer e2fsprogs turns on features such as
// orphan_file) cannot change the bytes or what the image's GRUB and kernel must support.
export const MKE2FS_CONF = `[defaults]
	base_features = sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr
	default_mntopts = acl,user_xattr
	enable_periodic_fsck = 0
	blocksize = 4096
	inode_size = ${INODE_SIZE}
	inode_ratio = ${INODE_RATIO}

[fs_types]
	ext4 = {
		features = has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize
	}
`;

export interface Ext4Options {
  image: string;
  part: Partition;
  ids: DiskIds;
  rootDir: string;
  /** Scratch directory for the config and debugfs scripts. */
  workDir: string;
  sourceDateEpoch: number;
}

/** The file system inside the image, as libext2fs tools open it (no loop device). */
export const ext4Device = (image: string, part: Partition) => `${image}?offset=${part.start}`;

export function mkfsArgs(o: Omit<Ext4Options, 'workDir' | 'sourceDateEpoch'>): string[] {
  const extended = [
    `offset=${o.part.start}`,
    `hash_seed=${o.ids.rootHashSeed}`,
    // explicit: mke2fs otherwise decides by whether the host kernel has lazy init, and the
    // "inode table zeroed" flags would differ between hosts
    'lazy_itable_init=0',
    'lazy_journal_init=0',
    'nodiscard',
    'root_owner=0:0',
  ];
  return [
    '-q',
    '-F',
    '-t',
    'ext4',
    '-L',
    ROOT_LABEL,
    '-U',
    o.ids.rootFs,
    '-J',
    `size=${JOURNAL_SIZE / MiB}`,
    '-E',
    extended.join(','),
    '-d',
    o.rootDir,
    o.image,
    `${o.part.size / 1024}k`,
  ];
}

/** Used inode numbers, from `dumpe2fs` group listings ("Free inodes: 17-2016, 2020"). */
export function usedInodes(dumpe2fs: string): number[] {
  const perGroup = Number(/^Inodes per group:\s+(\d+)/m.exec(dumpe2fs)?.[1]);
  const count = Number(/^Inode count:\s+(\d+)/m.exec(dumpe2fs)?.[1]);
  if (!perGroup || !count) throw new Error('dumpe2fs output without inode counts');
  const free = new Uint8Array(count + 1);
  let groups = 0;
  for (const m of dumpe2fs.matchAll(/^\s+Free inodes:[ \t]*(.*)$/gm)) {
    groups++;
    for (const range of m[1]!
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean)) {
      const [a, b] = range.split('-').map(Number);
      for (let i = a!; i <= (b ?? a!); i++) free[i] = 1;
    }
  }
  if (groups !== Math.ceil(count / perGroup)) throw new Error(`dumpe2fs listed ${groups} groups, expected ${Math.ceil(count / perGroup)}`);
  const used: number[] = [];
  for (let i = 1; i <= count; i++) if (!free[i]) used.push(i);
  return used;
}

/** debugfs commands that set atime, ctime and crtime of these inodes to `epoch`. */
export function timeFixScript(inodes: number[], epoch: number): string {
  // inode 1 and 3–10 are reserved (bad blocks, journal, resize...): made by mke2fs itself
  const lines = inodes
    .filter((i) => i === 2 || i >= 11)
    .flatMap((i) => ['atime', 'ctime', 'crtime'].map((f) => `set_inode_field <${i}> ${f} @${epoch}`));
  return `${lines.join('\n')}\n`;
}

/** The rootfs fstab with the disk's own entries: root and EFI system partition, by PARTUUID. */
export function diskFstab(base: string, ids: DiskIds): string {
  return `${base.replace(/\n*$/, '\n')}# Added by kiln's disk output: the root and the EFI system partition (GRUB's config), by PARTUUID.
PARTUUID=${ids.rootPart} / ext4 defaults 0 1
PARTUUID=${ids.espPart} /boot/efi vfat umask=0077,nofail 0 2
`;
}

export async function makeRootFs(o: Ext4Options): Promise<void> {
  const conf = path.join(o.workDir, 'mke2fs.conf');
  await writeFile(conf, MKE2FS_CONF);
  await run('mkfs.ext4', mkfsArgs(o), {
    sourceDateEpoch: o.sourceDateEpoch,
    env: { MKE2FS_CONFIG: conf },
    hint: 'the disk is too small for the rootfs? set a bigger disk.size, or leave it out',
  });
  const device = ext4Device(o.image, o.part);

  const fstab = path.join(o.workDir, 'fstab');
  const base = await readFile(path.join(o.rootDir, 'etc/fstab'), 'utf8').catch(() => undefined);
  await writeFile(fstab, diskFstab(base ?? '', o.ids), { mode: 0o644 });
  await utimes(fstab, o.sourceDateEpoch, o.sourceDateEpoch);
  const edit = path.join(o.workDir, 'fstab.debugfs');
  const hasEfiDir = await access(path.join(o.rootDir, 'boot/efi')).then(
    () => true,
    () => false,
  );
  const commands = [
    ...(base === undefined ? [] : ['rm /etc/fstab']),
    `write "${fstab}" /etc/fstab`,
    'set_inode_field /etc/fstab uid 0',
    'set_inode_field /etc/fstab gid 0',
    ...(hasEfiDir ? [] : ['mkdir /boot/efi']),
  ];
  await writeFile(edit, `${commands.join('\n')}\n`);
  await debugfs(device, edit, o.sourceDateEpoch);

  const inodes = usedInodes((await run('dumpe2fs', [device], { sourceDateEpoch: o.sourceDateEpoch })).stdout);
  const fix = path.join(o.workDir, 'times.debugfs');
  await writeFile(fix, timeFixScript(inodes, o.sourceDateEpoch));
  await debugfs(device, fix, o.sourceDateEpoch);
}

async function debugfs(device: string, script: string, sourceDateEpoch: number): Promise<void> {
  const { stderr } = await run('debugfs', ['-w', '-f', script, device], { sourceDateEpoch });
  // debugfs reports a failed command on stderr and still exits 0
  const errors = stderr.split('\n').filter((l) => l.trim() && !/^debugfs [0-9.]+ \(/.test(l));
  if (errors.length) throw new ToolError('debugfs', `${path.basename(script)}: ${errors.slice(0, 5).join('; ')}`);
}
