// Runs one host tool for the disk outputs: a fixed environment (timestamps, time zone, locale), so
// the tools' own clocks and the host's settings cannot reach the image; failures become ToolErrors.
import { execa } from 'execa';
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
  try {
    const result = await execa(file, args, { env, input: opts.input, all: true });
    return { stdout: result.stdout, stderr: result.stderr };
  } catch (cause) {
    const output = String((cause as { all?: string }).all ?? '')
      .trim()
      .split('\n')
      .slice(-8)
      .join('\n');
    throw new ToolError(tool, `${tool} ${args.join(' ')} failed${output ? `:\n${output}` : ''}`, { cause, hint: opts.hint });
  }
}
