// File helpers for "nothing half-written": write under a temporary name, rename when complete.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rename, writeFile, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';

export async function writeFileAtomic(file: string, data: string | Buffer, mode = 0o644): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, file);
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const STAGING_PREFIX = '.kiln-staging-';

/** A fresh staging directory inside outDir (same file system, so publishing is a rename). */
export async function makeStagingDir(outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  // Leftovers of killed builds: never under a final name, removed on the next build.
  for (const name of await readdir(outDir)) if (name.startsWith(STAGING_PREFIX)) await rm(path.join(outDir, name), { recursive: true, force: true });
  const dir = path.join(outDir, `${STAGING_PREFIX}${process.pid}`);
  await mkdir(dir);
  return dir;
}
