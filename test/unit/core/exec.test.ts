// The one exec wrapper: a missing tool told apart from a failing one, one tail policy for errors.
import { describe, expect, it } from 'vitest';
import { ToolError } from '../../../core/errors.ts';
import { describeFailure, exec, execOrFail, outputTail, TAIL_LINES } from '../../../core/exec.ts';

describe('exec', () => {
  it('returns the output of a tool that succeeds', async () => {
    const r = await exec('sh', ['-c', 'echo out; echo err >&2'], {});
    expect(r).toMatchObject({ exitCode: 0, failed: false, missing: false, stdout: 'out', stderr: 'err' });
    expect(r.all.split('\n').sort()).toEqual(['err', 'out']);
  });

  it('passes input and a clean environment', async () => {
    const r = await exec('sh', ['-c', 'cat; printf " %s" "$ONLY"; printf " %s" "${HOME:-unset}"'], {
      input: 'in',
      env: { ONLY: 'this', PATH: process.env.PATH ?? '' },
      extendEnv: false,
    });
    expect(r.stdout).toBe('in this unset');
  });

  it('tells a missing tool apart from a failing one', async () => {
    expect(await exec('kiln-no-such-tool', [])).toMatchObject({ missing: true, failed: true });
    expect(await exec('sh', ['-c', 'exit 3'])).toMatchObject({ missing: false, failed: true, exitCode: 3 });
  });

  it('execOrFail throws a ToolError carrying the tail of the output, on one line', async () => {
    const script = 'for i in $(seq 1 20); do echo line$i; done; exit 4';
    const error = (await execOrFail('sh', ['-c', script]).catch((e: unknown) => e)) as ToolError;
    expect(error).toBeInstanceOf(ToolError);
    expect(error.message).toBe(`sh: sh -c failed (exit 4): ${Array.from({ length: TAIL_LINES }, (_, i) => `line${13 + i}`).join(' / ')}`);
    expect(error.message).not.toContain('line12');
    const missing = (await execOrFail('kiln-no-such-tool', [], { hint: 'install it' }).catch((e: unknown) => e)) as ToolError;
    expect(missing.message).toBe('kiln-no-such-tool: not found');
    expect(missing.hint).toBe('install it');
  });

  it('names a signal instead of an exit code', async () => {
    const r = await exec('sh', ['-c', 'kill -TERM $$']);
    expect(describeFailure('sh', ['-c'], r)).toBe('sh -c failed (killed by SIGTERM)');
  });

  it('outputTail drops blank lines and keeps the last lines', () => {
    expect(outputTail('a\n\n  b  \nc\n', 2)).toBe('b / c');
    expect(outputTail('')).toBe('');
  });
});
