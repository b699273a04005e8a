// File helpers for "nothing half-written": write under a temporary name, rename when complete.
import { mkdirSync, renameSync, writeFileSync, chmodSync } from 'node:fs';
import { rename, writeFile, mkdir, readdir, readFile, rm, chown, chmod } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes under a hidden temporary name in the same directory (no consumer of the directory, such as
 * systemd or sudo, picks it up), sets the exact mode (no umask) and owner, then renames: readers see
 * the old file or the whole new one, never a partial or too-open one.
 */
export async function writeFileAtomic(
  file: string,
  data: string | Buffer,
  mode = 0o644,
  owner?: { uid: number; gid: number },
): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  await rm(tmp, { force: true });
  await writeFile(tmp, data, { mode: 0o600, flag: 'wx' });
  if (owner) await chown(tmp, owner.uid, owner.gid);
  await chmod(tmp, mode);
  await rename(tmp, file);
}

/** writeFileAtomic for the few places that must stay synchronous (status and state journals). */
export function writeFileAtomicSync(file: string, data: string | Buffer, mode = 0o644): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  writeFileSync(tmp, data, { mode: 0o600 });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

const STAGING_PREFIX = '.kiln-staging-';

/** A fresh staging directory inside outDir (same file system, so publishing is a rename). */
export async function makeStagingDir(outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  // Leftovers of killed builds: never under a final name, removed on the next build.
  for (const name of await readdir(outDir))
    if (name.startsWith(STAGING_PREFIX)) await rm(path.join(outDir, name), { recursive: true, force: true });
  const dir = path.join(outDir, `${STAGING_PREFIX}${process.pid}`);
  await mkdir(dir);
  return dir;
}

/** An exclusive lock file holding our pid: waits while a live process holds it, takes over a dead one's. */
export async function lock(file: string, log: (line: string) => void): Promise<() => Promise<void>> {
  for (let waited = 0; ; waited++) {
    try {
      await writeFile(file, String(process.pid), { flag: 'wx' });
      return () => rm(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(await readFile(file, 'utf8').catch(() => '0'));
      const alive =
        holder > 0 &&
        (() => {
          try {
            process.kill(holder, 0);
            return true;
          } catch {
            return false;
          }
        })();
      if (!alive) {
        await rm(file, { force: true }); // left by a killed build
        continue;
      }
      if (waited % 30 === 0) log(`waiting for another build (pid ${holder}) to finish this base`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}
