// Runs one host tool for the disk outputs: a fixed environment (timestamps, time zone, locale), so
// the tools' own clocks and the host's settings cannot reach the image; failures become ToolErrors.
import { describeFailure, exec } from '../../../core/exec.ts';
import { ToolError } from '../../../core/errors.ts';
import { findOnPath } from '../../host/tools.ts';

export interface RunOptions {
  sourceDateEpoch: number;
  env?: Record<string, string>;
  input?: string;
  hint?: string;
}

export async function run(tool: string, args: string[], opts: RunOptions): Promise<{ stdout: string; stderr: string }> {
  // tools such as debugfs live in /usr/sbin, which a non-login root shell may lack on PATH
  const file = (await findOnPath(tool)) ?? tool;
  const env = {
    LC_ALL: 'C',
    TZ: 'UTC',
    SOURCE_DATE_EPOCH: String(opts.sourceDateEpoch),
    E2FSPROGS_FAKE_TIME: String(opts.sourceDateEpoch),
    ...opts.env,
  };
  const result = await exec(file, args, { env, ...(opts.input !== undefined ? { input: opts.input } : {}) });
  if (result.missing)
    throw new ToolError(tool, 'not found', { hint: opts.hint ?? 'run `kiln doctor` to see which host tools are missing' });
  if (result.failed)
    throw new ToolError(tool, describeFailure(tool, args, result, `${tool} ${args.join(' ')}`), opts.hint ? { hint: opts.hint } : {});
  return { stdout: result.stdout, stderr: result.stderr };
}
