// The stand-in program as a whole: dispatch on the name it was called by, the explicit
// `kiln-test-standins TOOL` form, the process entry run by tsx, the record file; and the strict
// flag parser all three tools share.
import { symlinkSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlagError, parseFlags, parseGoDuration } from '../../standins/flags.ts';
import { resolveInvocation } from '../../standins/run.ts';
import { MAIN, NodeRoot } from '../../standins/testing.ts';

let node: NodeRoot;
beforeEach(() => {
  node = new NodeRoot();
});
afterEach(() => node.cleanup());

describe('dispatch', () => {
  it('picks the tool from the invoked name, or from the first argument', () => {
    expect(resolveInvocation('/usr/local/bin/kubeadm', ['version'])).toEqual({ tool: 'kubeadm', args: ['version'] });
    expect(resolveInvocation('kubectl', ['get', '--raw', '/readyz'])).toEqual({ tool: 'kubectl', args: ['get', '--raw', '/readyz'] });
    expect(resolveInvocation('/usr/local/bin/kiln-test-standins', ['helm', 'version'])).toEqual({ tool: 'helm', args: ['version'] });
    expect(resolveInvocation('/repo/test/standins/main.ts', ['kubeadm', 'init'])).toEqual({ tool: 'kubeadm', args: ['init'] });
    expect(resolveInvocation('kiln-test-standins', ['--version'])).toEqual({ version: true });
    expect(resolveInvocation('kiln-test-standins', ['cilium', 'status'])).toHaveProperty('usage');
  });

  it('runs from source with tsx, explicit form and through a symlink, recording to a 0600 file', () => {
    const explicit = node.tsx(MAIN, ['kubeadm', 'version', '-o', 'short']);
    expect(explicit.status, explicit.stderr).toBe(0);
    expect(explicit.stdout).toBe('v1.31.4\n');
    symlinkSync(MAIN, node.host('/kubectl'));
    const linked = node.tsx(node.host('/kubectl'), ['version', '--client']);
    expect(linked.status, linked.stderr).toBe(0);
    expect(linked.stdout).toContain('Client Version: v1.31.4');
    const refused = node.tsx(MAIN, ['helm', 'upgrade', '--bogus']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe('Error: unknown flag: --bogus\n');
    const usage = node.tsx(MAIN, []);
    expect(usage.status).toBe(2);
    expect(node.records().map((r) => [r.tool, r.exitCode])).toEqual([
      ['kubeadm', 0],
      ['kubectl', 0],
      ['helm', 1],
    ]);
    expect(node.mode('/var/lib/kiln-test/standins.jsonl')).toBe(0o600);
  });
});

describe('flags (pflag rules)', () => {
  const specs = {
    output: { type: 'string', short: 'o' },
    verbose: { type: 'bool', short: 'V' },
    values: { type: 'stringSlice', short: 'f' },
    set: { type: 'stringArray' },
    'dry-run': { type: 'string', noOptDefVal: 'client' },
    port: { type: 'int32' },
    timeout: { type: 'duration' },
  } as const;

  it('parses long, short, grouped and = forms, interspersed with arguments', () => {
    const p = parseFlags(
      [
        'a',
        '--output=json',
        '-Vf',
        'x.yaml,y.yaml',
        '--set',
        'a=1,b=2',
        'b',
        '--set=c=3',
        '--dry-run',
        '--port',
        '6443',
        '--',
        '--not-a-flag',
      ],
      specs,
    );
    expect(p.positional).toEqual(['a', 'b', '--not-a-flag']);
    expect(Object.fromEntries(p.values)).toEqual({
      output: 'json',
      verbose: true,
      values: ['x.yaml', 'y.yaml'],
      set: ['a=1,b=2', 'c=3'],
      'dry-run': 'client',
      port: 6443,
    });
    expect(p.changed).toEqual(['dry-run', 'output', 'port', 'set', 'values', 'verbose']);
    expect(parseFlags(['-ojson'], specs).values.get('output')).toBe('json');
    expect(parseFlags(['--verbose=false'], specs).values.get('verbose')).toBe(false);
  });

  it('refuses what pflag refuses, in its words', () => {
    const msg = (args: string[]) => {
      try {
        parseFlags(args, specs);
      } catch (error) {
        expect(error).toBeInstanceOf(FlagError);
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(msg(['--nope'])).toBe('unknown flag: --nope');
    expect(msg(['-x'])).toBe("unknown shorthand flag: 'x' in -x");
    expect(msg(['--output'])).toBe('flag needs an argument: --output');
    expect(msg(['-o'])).toBe("flag needs an argument: 'o' in -o");
    expect(msg(['--port', 'http'])).toBe('invalid argument "http" for "--port" flag: strconv.ParseInt: parsing "http": invalid syntax');
    expect(msg(['--verbose=yes'])).toBe(
      'invalid argument "yes" for "-V, --verbose" flag: strconv.ParseBool: parsing "yes": invalid syntax',
    );
    expect(msg(['--timeout', '5'])).toBe('invalid argument "5" for "--timeout" flag: time: missing unit in duration "5"');
    expect(msg(['--timeout=5x'])).toBe('invalid argument "5x" for "--timeout" flag: time: unknown unit "x" in duration "5x"');
    expect(parseGoDuration('1h30m')).toBe(5_400_000);
  });
});
