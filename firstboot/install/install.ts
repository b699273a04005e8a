// `install` on a live node (ISO or PXE): fetch kiln's raw disk image (pinned by sha256 on the
// command line), choose the disk, write and verify it with the partition tables held back, carry
// the seed onto the installed root, write the partition tables, set the UEFI boot entry, reboot.
// A failure before the partition tables are written leaves the disk unbootable (both GPT copies
// zeroed), never half-written and bootable.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { KilnError } from '../../core/errors.ts';
import { writeFileAtomic } from '../../core/fs.ts';
import { parseHash } from '../../core/hash.ts';
import { redactUrl } from '../../core/redact.ts';
import type { InstallConfig } from '../../node/config/schema.ts';
import { INSTALLED_SEED, INSTALLED_SOURCE, type InstalledSource } from '../../node/layout.ts';
import { INSTALL_HASH_PARAM, INSTALL_IMAGE_PARAM, type ReportTarget } from '../../node/serve.ts';
import { cmdlineValue, type Cmdline } from '../metadata/cmdline.ts';
import { describeDisk, selectDisk, type DiskFacts } from './select.ts';
import { writeImage } from './write.ts';

/** The GPT name of kiln's root partition (builder/outputs/disk/gpt.ts writes it). */
export const ROOT_PARTITION_NAME = 'kiln-root';
const SECTOR = 512;

export interface InstallTools {
  disks(): Promise<DiskFacts[]>;
  /** Mounts the installed root (a range of the disk) read-write; the release unmounts it. */
  mountRange(device: string, offset: number, size: number): Promise<{ dir: string; release(): Promise<void> }>;
  /** After the tables are written: tell the kernel, add the UEFI boot entry. */
  finish(device: string): Promise<string[]>;
  /** Into the installed system. */
  reboot(): Promise<void>;
}

export interface InstallInput {
  install: InstallConfig;
  cmdline: Cmdline;
  seed: { name: string; data: Buffer };
  report?: ReportTarget;
  log: (line: string) => void;
}

/** The image to install, from the command line; checked before anything is fetched. */
export function installImage(cmdline: Cmdline): { url: string; hash: NonNullable<ReturnType<typeof parseHash>> } {
  const url = cmdlineValue(cmdline, INSTALL_IMAGE_PARAM);
  const hashText = cmdlineValue(cmdline, INSTALL_HASH_PARAM);
  if (!url || !/^https?:\/\//.test(url))
    throw new KilnError(`the node config asks for install, but the kernel command line has no ${INSTALL_IMAGE_PARAM}=http(s)://…`, {
      path: '/install',
      hint: 'boot it through kiln cluster serve with the image directory holding disk.raw or disk.qcow2, which adds it',
      exitCode: 2,
    });
  const hash = hashText ? parseHash(hashText) : undefined;
  if (!hash)
    throw new KilnError(`${INSTALL_IMAGE_PARAM}=${redactUrl(url)} comes without ${INSTALL_HASH_PARAM}=sha256-<hex>`, {
      path: INSTALL_HASH_PARAM,
      hint: 'kiln cluster serve pins the image it serves; a disk image is never written unpinned',
      exitCode: 2,
    });
  return { url, hash };
}

/** The root partition's byte range, from the image's own partition table (sfdisk reads it from a sparse copy). */
export async function rootRange(head: Buffer, bytes: number): Promise<{ offset: number; size: number }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-install-'));
  try {
    const file = path.join(dir, 'head.img');
    await writeFile(file, head);
    await execa('truncate', ['-s', String(bytes), file]);
    const r = await execa('sfdisk', ['--json', file], { reject: false });
    const table =
      r.exitCode === 0
        ? (JSON.parse(r.stdout) as { partitiontable?: { partitions?: { start: number; size: number; name?: string }[] } })
        : {};
    const root = table.partitiontable?.partitions?.find((p) => p.name === ROOT_PARTITION_NAME);
    if (!root)
      throw new KilnError(`the disk image has no partition named ${ROOT_PARTITION_NAME}`, { hint: 'serve a disk image kiln build wrote' });
    return { offset: root.start * SECTOR, size: root.size * SECTOR };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runInstall(input: InstallInput, tools: InstallTools): Promise<string> {
  const { url, hash } = installImage(input.cmdline);
  const res = await fetch(url, { signal: AbortSignal.timeout(60 * 60_000) }).catch((cause: unknown) => {
    throw new KilnError(`cannot fetch the disk image ${redactUrl(url)}: ${(cause as Error).message}`, {
      cause,
      hint: 'is kiln cluster serve still running?',
    });
  });
  const bytes = Number(res.headers.get('content-length'));
  if (!res.ok || !res.body || !Number.isSafeInteger(bytes) || bytes <= 0) {
    await res.body?.cancel();
    throw new KilnError(`the disk image ${redactUrl(url)} answered HTTP ${res.status}${res.ok ? ' without a Content-Length' : ''}`, {
      hint: 'serve the image directory with kiln cluster serve',
    });
  }
  let disk: DiskFacts;
  try {
    const disks = await tools.disks();
    disk = selectDisk(input.install, disks, bytes);
  } catch (error) {
    await res.body.cancel();
    throw error;
  }
  input.log(`install: writing the disk image (${(bytes / 2 ** 20).toFixed(0)} MiB, ${hash.algorithm} pinned) to ${describeDisk(disk)}`);
  const t0 = Date.now();
  const written = await writeImage(res.body as unknown as AsyncIterable<Uint8Array>, bytes, hash, disk.path, disk.size);
  try {
    input.log(`install: written and verified in ${((Date.now() - t0) / 1000).toFixed(0)} s; carrying the seed onto the installed root`);
    const range = await rootRange(written.head, bytes);
    const root = await tools.mountRange(disk.path, range.offset, range.size);
    try {
      const { report } = input;
      const source: InstalledSource = {
        name: input.seed.name,
        ...(report ? { report: report.url, ...(report.tlsPin ? { reportTlsPin: report.tlsPin } : {}) } : {}),
      };
      await writeFileAtomic(path.join(root.dir, INSTALLED_SEED), input.seed.data, 0o600);
      await writeFileAtomic(path.join(root.dir, INSTALLED_SOURCE), `${JSON.stringify(source)}\n`, 0o600);
    } finally {
      await root.release();
    }
    await written.commit();
  } finally {
    await written.close();
  }
  // the image's backup GPT sits where the image ended: move it to the end of the (bigger) disk
  const relocated = await execa('sfdisk', ['--relocate', 'gpt-bak-std', disk.path], { reject: false, all: true });
  if (relocated.exitCode !== 0)
    input.log(`install: could not move the backup GPT to the disk's end (${(relocated.all ?? '').trim()}); grow-root does on first boot`);
  for (const line of await tools.finish(disk.path)) input.log(`install: ${line}`);
  return disk.path;
}
