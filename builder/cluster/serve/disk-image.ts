// The raw disk image `install` writes, as `kiln cluster serve` offers it at /image/disk.raw with
// its sha256 pinned on each node's command line: the image's own disk.raw, or its disk.qcow2
// converted once (qemu-img) into DIR/serve/cache. The hash is kept beside it, keyed by the
// source's size and mtime, so a restart does not hash gigabytes again.
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { ToolError } from '../../../core/errors.ts';
import { mkdirs, writeFileAtomic } from '../../../core/fs.ts';
import { execa } from 'execa';

export interface DiskImage {
  file: string;
  bytes: number;
  sha256: string;
}

const CACHE = 'serve/cache';

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file, { highWaterMark: 4 * 2 ** 20 }), hash);
  return hash.digest('hex');
}

/** The image's disk as raw bytes with its sha256, or undefined when the build made no disk output. */
export async function diskImage(imageDir: string, clusterDir: string, log: (line: string) => void): Promise<DiskImage | undefined> {
  const raw = path.join(imageDir, 'disk.raw');
  const qcow2 = path.join(imageDir, 'disk.qcow2');
  const source = (await stat(raw).catch(() => undefined))?.isFile()
    ? raw
    : (await stat(qcow2).catch(() => undefined))?.isFile()
      ? qcow2
      : undefined;
  if (!source) return undefined;
  const info = await stat(source);
  const cacheDir = path.join(clusterDir, CACHE);
  const key = `${source} ${info.size} ${info.mtimeMs}`;
  const keyFile = path.join(cacheDir, 'disk.key');
  const hashFile = path.join(cacheDir, 'disk.sha256');
  const file = source === raw ? raw : path.join(cacheDir, 'disk.raw');
  const cached = (await readFile(keyFile, 'utf8').catch(() => '')) === key ? (await readFile(hashFile, 'utf8').catch(() => '')).trim() : '';
  if (/^[0-9a-f]{64}$/.test(cached) && (await stat(file).catch(() => undefined))?.isFile())
    return { file, bytes: (await stat(file)).size, sha256: cached };
  await mkdirs(cacheDir, 0o755);
  if (source === qcow2) {
    log(`install image: converting ${qcow2} to raw (once) in ${cacheDir}`);
    const r = await execa('qemu-img', ['convert', '-O', 'raw', qcow2, file], { reject: false, all: true });
    if (r.exitCode !== 0)
      throw new ToolError('qemu-img', `converting ${qcow2} failed: ${(r.all ?? '').trim()}`, {
        hint: 'scripts/host-deps installs qemu-utils',
      });
  }
  log(`install image: hashing ${file} (once)`);
  const sha256 = await sha256Of(file);
  await writeFileAtomic(hashFile, `${sha256}\n`, 0o644);
  await writeFileAtomic(keyFile, key, 0o644);
  return { file, bytes: (await stat(file)).size, sha256 };
}
