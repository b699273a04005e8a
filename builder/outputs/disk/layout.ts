// The disk layout: GPT with a BIOS boot partition, an EFI system partition and the ext4 root,
// and how big the disk is — spec.disk.size, or the rootfs plus headroom (the root grows to fill
// the real disk on first boot). Pure functions over numbers and tar headers.
import { KilnError } from '../../../core/errors.ts';
import type { ResolvedSpec } from '../../spec/defaults.ts';
import type { TarHeader } from '../../tar/read.ts';

export const SECTOR = 512;
export const MiB = 2 ** 20;
export const GiB = 2 ** 30;
const BLOCK = 4096;

const BIOS_START = 1 * MiB;
const BIOS_SIZE = 1 * MiB;
const ESP_START = BIOS_START + BIOS_SIZE;
const ESP_SIZE = 64 * MiB;
export const ROOT_START = ESP_START + ESP_SIZE;
/** Left free after the root: holds the backup GPT and keeps the root's end MiB-aligned. */
export const TAIL = 1 * MiB;
export const JOURNAL_SIZE = 64 * MiB;
/** ext4 bytes per inode (mke2fs inode_ratio) and inode size: the inode tables take 1/64 of the fs. */
export const INODE_RATIO = 16384;
export const INODE_SIZE = 256;

/** Free space a computed disk gets: the first boot writes logs and keys before grow-root runs. */
export const HEADROOM = 512 * MiB;
/** The least free space a disk.size must leave on the root. */
const MIN_FREE = 64 * MiB;
/** Computed disks are rounded up to this. */
const ROUND = 256 * MiB;
/** Bounds for disk.size checked before any work: below the floor no kiln rootfs fits. */
const MIN_DISK = 1 * GiB;
export const MAX_DISK = 1024 * GiB;

export interface Partition {
  /** GPT partition number. */
  number: number;
  start: number;
  size: number;
}

export interface DiskLayout {
  size: number;
  bios: Partition;
  esp: Partition;
  root: Partition;
}

const roundUp = (n: number, to: number) => Math.ceil(n / to) * to;

export function layoutFor(diskSize: number): DiskLayout {
  if (diskSize % MiB !== 0) throw new Error(`disk size ${diskSize} is not a whole number of MiB`);
  return {
    size: diskSize,
    bios: { number: 1, start: BIOS_START, size: BIOS_SIZE },
    esp: { number: 2, start: ESP_START, size: ESP_SIZE },
    root: { number: 3, start: ROOT_START, size: diskSize - ROOT_START - TAIL },
  };
}

/** Bytes of a size such as 4G or 3072M (the schema's `^[0-9]+[MG]$`). */
export function parseDiskSize(size: string): number | undefined {
  const m = /^([0-9]+)([MG])$/.exec(size);
  return m ? Number(m[1]) * (m[2] === 'G' ? GiB : MiB) : undefined;
}

const mib = (bytes: number) => `${Math.ceil(bytes / MiB)}M`;

function sizeError(spec: Pick<ResolvedSpec, 'file'>, message: string, hint: string): KilnError {
  return new KilnError(message, { file: spec.file, path: '/disk/size', hint, exitCode: 2 });
}

/**
 * The checks that need no rootfs: disk.size is a size kiln understands, within bounds.
 * Runs in the pipeline's validate stage (and again at the start of the raw converter).
 */
export function validateDiskSize(spec: Pick<ResolvedSpec, 'file' | 'disk'>): void {
  const { size } = spec.disk;
  if (size === undefined) return;
  const bytes = parseDiskSize(size);
  if (bytes === undefined)
    throw sizeError(
      spec,
      `"${size}" is not a disk size`,
      'use a whole number of MiB or GiB such as 3072M or 4G, or leave disk.size out to size the disk from the rootfs',
    );
  if (bytes < MIN_DISK)
    throw sizeError(
      spec,
      `${size} is too small for a kiln node disk (at least ${MIN_DISK / GiB}G)`,
      'the base packages alone take about 750M; leave disk.size out and kiln sizes the disk from the rootfs (the root grows to fill the real disk on first boot)',
    );
  if (bytes > MAX_DISK)
    throw sizeError(
      spec,
      `${size} is larger than kiln builds disk images (at most ${MAX_DISK / GiB}G)`,
      "disk.size is the image, not the node's disk: build it small and the root partition grows to fill the real disk on first boot",
    );
}

export interface RootfsUsage {
  /** Bytes of blocks the files, directories and long symlinks take in ext4. */
  dataBytes: number;
  /** Inodes needed (hard links share one). */
  inodes: number;
}

/** What the rootfs will take in an ext4 with 4 KiB blocks, from its tar headers. */
export function rootfsUsage(entries: TarHeader[]): RootfsUsage {
  let data = 0;
  let inodes = 0;
  const dirBytes = new Map<string, number>();
  for (const e of entries) {
    if (e.name !== '') {
      const slash = e.name.lastIndexOf('/');
      const parent = slash === -1 ? '' : e.name.slice(0, slash);
      const base = e.name.slice(slash + 1);
      // an ext4 directory entry: 8 bytes plus the name, 4-byte aligned
      dirBytes.set(parent, (dirBytes.get(parent) ?? 24) + 8 + roundUp(Buffer.byteLength(base), 4));
    }
    if (e.type === 'link') continue;
    inodes++;
    if (e.type === 'file') data += roundUp(e.size, BLOCK);
    // targets under 60 bytes live in the inode
    else if (e.type === 'symlink' && Buffer.byteLength(e.linkname ?? '') >= 60) data += BLOCK;
    // xattrs beyond what fits in a 256-byte inode take a block
    const xattrBytes = [...(e.xattrs ?? new Map<string, Buffer>())].reduce(
      (n, [k, v]) => n + 16 + roundUp(Buffer.byteLength(k) + v.length, 4),
      0,
    );
    if (xattrBytes > 96) data += BLOCK;
  }
  for (const bytes of dirBytes.values()) data += roundUp(bytes, BLOCK);
  // directories without entries still take a block
  data += entries.filter((e) => e.type === 'directory' && !dirBytes.has(e.name)).length * BLOCK;
  return { dataBytes: data, inodes };
}

/** The smallest ext4 the rootfs fits in: data, journal and metadata, with inodes to spare. */
export function minRootSize(usage: RootfsUsage): number {
  // inode tables (1/64), bitmaps, group descriptors and resize reserve (under 1%); extent blocks
  // and htree indexes are in the 2% on the data
  const forData = (usage.dataBytes * 1.02 + JOURNAL_SIZE + 16 * MiB) / (1 - INODE_SIZE / INODE_RATIO - 0.01);
  const forInodes = (usage.inodes * 1.1 + 1024) * INODE_RATIO;
  return roundUp(Math.max(forData, forInodes), MiB);
}

/** The disk's size: spec.disk.size when set (checked against the rootfs), else computed. */
export function diskSizeFor(spec: Pick<ResolvedSpec, 'file' | 'disk'>, usage: RootfsUsage): number {
  validateDiskSize(spec);
  const rootMin = minRootSize(usage);
  const overhead = ROOT_START + TAIL;
  if (spec.disk.size === undefined) return roundUp(overhead + rootMin + HEADROOM, ROUND);
  const size = parseDiskSize(spec.disk.size)!;
  const needed = overhead + rootMin + MIN_FREE;
  if (size < needed) {
    throw sizeError(
      spec,
      `${spec.disk.size} is too small for this rootfs: the root file system needs ${mib(rootMin)} (${mib(usage.dataBytes)} of files) plus ${mib(MIN_FREE)} free, the boot partitions ${mib(overhead)}`,
      `use disk.size: ${mib(needed)} or more (e.g. ${Math.ceil(needed / GiB)}G), or leave disk.size out and kiln sizes the disk from the rootfs (the root grows to fill the real disk on first boot)`,
    );
  }
  return size;
}
