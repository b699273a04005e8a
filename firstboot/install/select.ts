// Which disk `install` writes to: chosen by a name that survives device renaming (a by-id or
// by-path link, a serial, or "the only non-removable disk of at least N GiB"), never by /dev/sdX.
// Pure over the facts lsblk and /dev/disk/by-* give (disks.ts reads them): ambiguity, a missing
// disk, a disk in use or not blank under `wipe: if-blank` is refused with the candidates listed.
import { KilnError } from '../../core/errors.ts';
import type { DiskSelectorConfig, InstallConfig } from '../../node/config/schema.ts';

/** One whole disk as lsblk reports it (with --bytes), and the by-id / by-path names pointing at it. */
export interface DiskFacts {
  /** /dev/vda, /dev/sda, /dev/nvme0n1 */
  path: string;
  size: number;
  removable: boolean;
  readOnly: boolean;
  serial?: string;
  model?: string;
  transport?: string;
  /** gpt, dos: a partition table is there */
  partitionTable?: string;
  /** File systems found on the disk itself or its partitions (type and label). */
  filesystems: { type: string; label?: string }[];
  /** Mount points of the disk or its partitions: a disk in use is never written. */
  mounts: string[];
  byId: string[];
  byPath: string[];
}

const GiB = 2 ** 30;
const HINT_WHERE = 'on the node: lsblk -o NAME,SIZE,RM,SERIAL,MODEL and ls -l /dev/disk/by-id /dev/disk/by-path';

export const describeDisk = (d: DiskFacts): string =>
  [
    d.path,
    `${(d.size / GiB).toFixed(1)} GiB`,
    d.removable ? 'removable' : undefined,
    d.readOnly ? 'read-only' : undefined,
    d.model ? `model ${d.model}` : undefined,
    d.serial ? `serial ${d.serial}` : undefined,
    d.byId[0] ? `id ${d.byId[0]}` : undefined,
    d.byPath[0] ? `path ${d.byPath[0]}` : undefined,
  ]
    .filter(Boolean)
    .join(', ');

const selectorText = (s: DiskSelectorConfig): string =>
  'id' in s
    ? `id ${s.id}`
    : 'path' in s
      ? `path ${s.path}`
      : 'serial' in s
        ? `serial ${s.serial}`
        : `the only non-removable disk of at least ${s.minSizeGiB} GiB`;

function matches(s: DiskSelectorConfig, d: DiskFacts): boolean {
  if ('id' in s) return d.byId.includes(s.id);
  if ('path' in s) return d.byPath.includes(s.path);
  if ('serial' in s) return d.serial === s.serial;
  // the live medium (mounted) is no candidate either: the disk is one the machine keeps
  return !d.removable && !d.readOnly && d.mounts.length === 0 && d.size >= s.minSizeGiB * GiB;
}

function refuse(message: string, disks: DiskFacts[], hint: string): never {
  const list = disks.length ? disks.map((d) => `\n      ${describeDisk(d)}`).join('') : '\n      (no disk at all)';
  throw new KilnError(`${message}; the disks of this machine:${list}`, { path: '/install/disk', hint, exitCode: 2 });
}

/** The disk `install` names, checked as writable under its wipe policy; the disk kiln boots from is never a candidate. */
export function selectDisk(install: InstallConfig, disks: DiskFacts[], imageBytes: number): DiskFacts {
  const s = install.disk;
  const found = disks.filter((d) => matches(s, d));
  if (found.length === 0) refuse(`no disk is ${selectorText(s)}`, disks, `name a disk this machine has (${HINT_WHERE})`);
  if (found.length > 1)
    refuse(
      `${found.length} disks are ${selectorText(s)} (${found.map((d) => d.path).join(', ')}): kiln will not guess`,
      disks,
      'name the disk by id, path or serial instead',
    );
  const disk = found[0]!;
  if (disk.readOnly) refuse(`${disk.path} (${selectorText(s)}) is read-only`, disks, 'name a writable disk');
  if (disk.mounts.length > 0)
    refuse(
      `${disk.path} (${selectorText(s)}) is in use: mounted at ${disk.mounts.join(', ')}`,
      disks,
      'name a disk the live system does not use',
    );
  if (disk.size < imageBytes)
    refuse(
      `${disk.path} holds ${disk.size} bytes, less than the ${imageBytes} of the disk image`,
      disks,
      'name a bigger disk, or build the image with a smaller disk.size',
    );
  const used = [
    ...(disk.partitionTable ? [`a ${disk.partitionTable} partition table`] : []),
    ...disk.filesystems.map((f) => `file system ${f.type}${f.label ? ` labelled ${f.label}` : ''}`),
  ];
  if ((install.wipe ?? 'if-blank') === 'if-blank' && used.length > 0)
    refuse(
      `${disk.path} is not blank (${used.join(', ')}) and install.wipe is if-blank`,
      disks,
      'set install.wipe: always to overwrite it (everything on it is lost), or wipe it first (wipefs -a)',
    );
  return disk;
}
