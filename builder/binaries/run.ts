// Runs one of the image's verified binaries on the build host (kubeadm to list its images, helm to
// render a chart): blobs in the store are not executable, so a private copy in a fresh directory
// runs, with a clean environment, then goes.
import { chmod, copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa, type Result } from 'execa';
import type { InstalledBinary } from './resolve.ts';

export interface VerifiedRun {
  /** Exit code; undefined when it did not run to an exit (not executable here, killed, too much output). */
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Output past maxBuffer. */
  tooMuchOutput: boolean;
  /** Why it could not start (ENOEXEC: another architecture), when it could not. */
  startError?: string;
}

/** `work(dir)` may put input files in the run's directory first; `dir` is also the binary's HOME. */
export async function runVerifiedBinary(
  binary: InstalledBinary,
  args: (dir: string) => Promise<string[]> | string[],
  opts: { timeoutMs: number; maxBytes: number; env?: (dir: string) => Record<string, string> },
): Promise<VerifiedRun> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `kiln-${path.posix.basename(binary.path)}-`));
  try {
    const exe = path.join(dir, path.posix.basename(binary.path));
    await copyFile(binary.blob, exe);
    await chmod(exe, 0o700);
    const r: Result = await execa(exe, await args(dir), {
      reject: false,
      timeout: opts.timeoutMs,
      maxBuffer: opts.maxBytes,
      extendEnv: false,
      env: { PATH: process.env.PATH ?? '', HOME: dir, ...opts.env?.(dir) },
    });
    const code = (r as { code?: string }).code;
    return {
      exitCode: r.exitCode,
      stdout: String(r.stdout ?? ''),
      stderr: String(r.stderr ?? ''),
      timedOut: r.timedOut,
      tooMuchOutput: r.isMaxBuffer === true,
      ...(r.exitCode === undefined && !r.timedOut && !r.isMaxBuffer && code ? { startError: code } : {}),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
