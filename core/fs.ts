// File helpers for "nothing half-written": write under a temporary name, rename when complete.
import { constants, mkdirSync, renameSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { access, rename, writeFile, mkdir, readdir, readFile, rm, chown, chmod, open, stat } from 'node:fs/promises';
import { KilnError } from './errors.ts';
import { processAlive } from './exec.ts';
import path from 'node:path';

/** The kernel-provided file system an absolute path is in (/proc, /sys, /dev), if any: nothing written there lasts. */
export function kernelFs(absolute: string): string | undefined {
  return ['/proc', '/sys', '/dev'].find((d) => absolute === d || absolute.startsWith(`${d}/`));
}

/**
 * Before any work: an output directory that exists must be a writable directory; a new one must be
 * makeable (its nearest existing ancestor a writable directory, not in /proc, /sys or /dev), so a
 * bad --out fails in a moment rather than after the whole job. Exit-2 errors naming the path.
 */
export async function checkOutputDir(out: string, hint: string): Promise<void> {
  const fail = (message: string, cause?: unknown): never => {
    throw new KilnError(message, { file: out, hint, exitCode: 2, cause });
  };
  const resolved = path.resolve(out);
  if (kernelFs(resolved)) fail(`${resolved} is in a kernel-provided file system`);
  let existing = resolved;
  let info = await stat(existing).catch(() => undefined);
  while (!info) info = await stat((existing = path.dirname(existing))).catch(() => undefined);
  if (!info.isDirectory())
    fail(
      existing === resolved ? `${resolved} exists and is not a directory` : `${existing} is not a directory, so ${resolved} cannot be made`,
    );
  await access(existing, constants.W_OK).catch((cause: unknown) => fail(`${existing} is not writable`, cause));
}

/**
 * mkdir -p, one component at a time: node's recursive mkdir never returns under /proc or /sys (it
 * retries the ENOENT those file systems give forever). A path that cannot be made is an exit-2
 * error naming the component (it is the user's path); a file where a directory must be, too.
 */
export async function mkdirs(dir: string, mode = 0o755): Promise<void> {
  let at = '/';
  for (const part of path.resolve(dir).split('/').filter(Boolean)) {
    at = path.join(at, part);
    try {
      await mkdir(at, { mode });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && (await stat(at)).isDirectory()) continue;
      throw cannotCreate(dir, at, code, error);
    }
  }
}

function cannotCreate(dir: string, at: string, code: string | undefined, cause: unknown): KilnError {
  return new KilnError(`cannot create the directory ${at} (${code === 'EEXIST' ? 'a file is in the way' : code})`, {
    file: dir,
    hint: 'give a path under a writable directory (not /proc, /sys or /dev)',
    exitCode: 2,
    cause,
  });
}

/** mkdirs for the synchronous writers. */
export function mkdirsSync(dir: string, mode = 0o755): void {
  let at = '/';
  for (const part of path.resolve(dir).split('/').filter(Boolean)) {
    at = path.join(at, part);
    try {
      mkdirSync(at, { mode });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && statSync(at).isDirectory()) continue;
      throw cannotCreate(dir, at, code, error);
    }
  }
}

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
  await mkdirs(path.dirname(file));
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  await rm(tmp, { force: true });
  await writeFile(tmp, data, { mode: 0o600, flag: 'wx' });
  if (owner) await chown(tmp, owner.uid, owner.gid);
  await chmod(tmp, mode);
  await rename(tmp, file);
}

/** writeFileAtomic for the few places that must stay synchronous (status and state journals). */
export function writeFileAtomicSync(file: string, data: string | Buffer, mode = 0o644): void {
  mkdirsSync(path.dirname(file));
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  writeFileSync(tmp, data, { mode: 0o600 });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

const STAGING_PREFIX = '.kiln-staging-';

/** A fresh staging directory inside outDir (same file system, so publishing is a rename). */
export async function makeStagingDir(outDir: string): Promise<string> {
  await mkdirs(outDir);
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
      if (!(holder > 0 && processAlive(holder))) {
        await rm(file, { force: true }); // left by a killed build
        continue;
      }
      if (waited % 30 === 0) log(`waiting for another build (pid ${holder}) to finish this base`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

/** What an input file read whole may weigh: far past any spec, config or seed, far short of memory trouble. */
export const INPUT_BYTES = 16 * 1024 * 1024;

/**
 * Reads an input file whole, refusing what is not a regular file (a FIFO or `/dev/zero` would block
 * or never end; a directory is a mistake) and what is larger than `maxBytes`, with an exit-2 error
 * naming the file. Undefined when it does not exist and `optional` is set. Symlinks are followed.
 */
export async function readInputFile(file: string, opts: InputFileOptions): Promise<string | undefined> {
  return (await readInputBytes(file, opts))?.toString('utf8');
}

export interface InputFileOptions {
  what: string;
  hint: string;
  optional?: boolean;
  maxBytes?: number;
}

/** readInputFile's bytes. */
export async function readInputBytes(file: string, opts: InputFileOptions): Promise<Buffer | undefined> {
  const max = opts.maxBytes ?? INPUT_BYTES;
  const fail = (message: string, cause?: unknown): never => {
    throw new KilnError(`cannot read ${opts.what}: ${message}`, { file, hint: opts.hint, exitCode: 2, cause });
  };
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK).catch((e: NodeJS.ErrnoException) =>
    e.code === 'ENOENT' && opts.optional
      ? undefined
      : fail(e.code === 'ENOENT' ? 'it does not exist' : `it cannot be opened (${e.code})`, e),
  );
  if (!handle) return undefined;
  try {
    const info = await handle.stat();
    if (info.isDirectory()) fail('it is a directory, not a file');
    if (!info.isFile()) fail('it is not a regular file (a device, FIFO or socket)');
    if (info.size > max) fail(`it is ${info.size} bytes, more than the ${max} an input may have`);
    const data = await handle.readFile();
    // the size may have grown since stat
    if (data.length > max) fail(`it is more than the ${max} bytes an input may have`);
    return data;
  } finally {
    await handle.close();
  }
}
