// The one way both programs run a host tool (over execa): a missing tool is told apart from a
// failing one, and a failure carries the same tail of the tool's own output everywhere.
import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import { ToolError } from './errors.ts';

/** How much of a failed tool's output an error repeats: enough for its own message, never a flood. */
export const TAIL_LINES = 8;

export interface ExecOptions {
  env?: Record<string, string>;
  /** false: the tool sees only `env` (default: `env` over this process's environment). */
  extendEnv?: boolean;
  input?: string | Buffer;
  cwd?: string;
  timeoutMs?: number;
}

export interface ExecResult {
  exitCode: number | undefined;
  signal: string | undefined;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as the tool wrote them. */
  all: string;
  /** The tool could not be started: not installed, or not on PATH. */
  missing: boolean;
  failed: boolean;
}

/** Runs `cmd args`; never throws for the tool's own failure (see `failed`, `missing`). */
export async function exec(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const r = await execa(cmd, args, {
    reject: false,
    all: true,
    stdin: opts.input === undefined ? 'ignore' : 'pipe',
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.extendEnv === false ? { extendEnv: false } : {}),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.timeoutMs ? { timeout: opts.timeoutMs } : {}),
  });
  const missing = (r as { code?: string }).code === 'ENOENT';
  return {
    exitCode: r.exitCode,
    signal: r.signal,
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? ''),
    all: String(r.all ?? ''),
    missing,
    failed: r.failed,
  };
}

/** The last TAIL_LINES non-empty lines of a tool's output, on one line (logs and status files are line-oriented). */
export function outputTail(output: string, lines = TAIL_LINES): string {
  return output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-lines)
    .join(' / ');
}

/**
 * `cmd sub failed (exit N): <tail>`: what an error says of a failed run. `label` names the run
 * instead (e.g. a whole command line that holds no secrets); by default the tool and its first argument.
 */
export function describeFailure(cmd: string, args: readonly string[], r: ExecResult, label?: string): string {
  const how = r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`;
  const tail = outputTail(r.all || r.stderr || r.stdout);
  return `${label ?? `${cmd}${args[0] ? ` ${args[0]}` : ''}`} failed (${how})${tail ? `: ${tail}` : ''}`;
}

/** exec, throwing a ToolError (with the hint) when the tool is missing or fails. */
export async function execOrFail(cmd: string, args: readonly string[], opts: ExecOptions & { hint?: string } = {}): Promise<ExecResult> {
  const r = await exec(cmd, args, opts);
  if (r.missing) throw new ToolError(cmd, 'not found', { hint: opts.hint ?? `install ${cmd} (kiln doctor lists the host tools)` });
  if (r.failed) throw new ToolError(cmd, describeFailure(cmd, args, r), opts.hint ? { hint: opts.hint } : {});
  return r;
}

/** Whether a process with this pid exists (signal 0 tests without signalling; EPERM: it exists, not ours). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The pid in a pid file when that process still runs and its command line holds `marker`: a pid
 * file outlives its process, and the kernel hands its pid to the next one.
 */
export async function pidFromFile(file: string, marker: string): Promise<number | undefined> {
  const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ');
  return cmdline.includes(marker) ? pid : undefined;
}
