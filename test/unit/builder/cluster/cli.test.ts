// `kiln cluster`: each verb takes only its own flags and has its own --help, `kiln cluster --help`
// lists the verbs, and what valid usage prints did not change. The real verbs run in-process; a few
// cases go through builder/cli.ts itself.
import { execa } from 'execa';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { CLUSTER_USAGE, CLUSTER_VERBS } from '../../../../builder/commands/cluster.ts';
import { runProgram } from '../../../../core/cli.ts';
import { repoRoot } from '../../../helpers/build.ts';

const kiln = (...args: string[]) =>
  execa(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'builder/cli.ts'), ...args], {
    cwd: repoRoot,
    reject: false,
    stripFinalNewline: false,
  });
const SPEC = 'images/examples/cluster-lab.yaml';
const usageOf = (verb: string) => CLUSTER_VERBS.find((v) => v.name === verb)!.usage;

describe('the cluster verbs', () => {
  it('are gen, up, serve, status, down and libvirt, each usage from `kiln cluster VERB` on', () => {
    expect(CLUSTER_VERBS.map((v) => v.name)).toEqual(['gen', 'up', 'serve', 'status', 'down', 'libvirt']);
    for (const v of CLUSTER_VERBS) expect(v.usage.startsWith(`kiln cluster ${v.name} `), v.usage).toBe(true);
  });

  it.each(CLUSTER_VERBS.map((v) => [v.name, v] as const))('%s: its usage names exactly the flags it declares', (_name, verb) => {
    const declared = Object.keys(verb.options ?? {}).sort();
    const named = [...new Set([...verb.usage.matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1]))].sort();
    expect(named).toEqual(declared);
  });
});

/** The real cluster verbs in a program of one command, run in-process: stdout and stderr captured. */
async function inProcess(...argv: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = { exitCode: -1, stdout: '', stderr: '' };
  const outSpy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((r.stdout += String(chunk)), true));
  const errSpy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((r.stderr += String(chunk)), true));
  try {
    r.exitCode = await runProgram(
      {
        name: 'kiln',
        version: 'test',
        tagline: 'test',
        commands: [{ name: 'cluster', usage: CLUSTER_USAGE, summary: 'clusters', verbs: CLUSTER_VERBS }],
        exitCodes: '',
      },
      argv,
    );
  } finally {
    outSpy.mockRestore();
    errSpy.mockRestore();
  }
  return r;
}

describe('kiln cluster VERB (the real verbs, in-process)', () => {
  it.each([
    ['status', ['/nonexistent/lab', '--wait'], '--wait'],
    ['libvirt', ['/nonexistent/lab', '--image', 'x.qcow2', '--timeout', '5'], '--timeout'],
    ['down', ['/nonexistent/lab', '--json'], '--json'],
    ['up', ['/nonexistent/lab', '--image', 'x.qcow2', '--rotate'], '--rotate'],
    ['gen', [SPEC, '-o', '/nonexistent/kiln-never', '--image', 'x.qcow2'], '--image'],
  ])('%s rejects a flag it does not declare (%j)', async (verb, args, flag) => {
    const r = await inProcess('cluster', verb, ...args);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^kiln cluster ${verb}: Unknown option '${flag}'`));
    expect(r.stderr).toContain(`\nusage: ${usageOf(verb)}\n`);
  });

  it.each(CLUSTER_VERBS.map((v) => [v.name, v] as const))('%s -h prints its summary and usage, exit 0', async (name, v) => {
    const r = await inProcess('cluster', name, '-h');
    expect(r).toEqual({ exitCode: 0, stdout: `${v.summary}\nusage: ${v.usage}\n`, stderr: '' });
  });

  it("a verb's own errors read as before: `kiln cluster:`, message and hint, exit 2", async () => {
    expect(await inProcess('cluster', 'gen', SPEC)).toEqual({
      exitCode: 2,
      stdout: '',
      stderr: 'kiln cluster: --out DIR is required\n    hint: kiln cluster gen images/examples/cluster-lab.yaml --out clusters/lab\n',
    });
    expect(await inProcess('cluster', 'down', '/nonexistent/lab', '--timeout', 'soon')).toEqual({
      exitCode: 2,
      stdout: '',
      stderr: 'kiln cluster: --timeout takes a number of seconds, not "soon"\n    hint: e.g. --timeout 900\n',
    });
    const up = await inProcess('cluster', 'up', '/nonexistent/lab', '--seed', 'pxe', '--image', 'x.qcow2', '--uefi', '--wait');
    expect(up.exitCode).toBe(2);
    expect(up.stderr).toBe('kiln cluster: --seed must be one of nocloud, ignition, not "pxe"\n    hint: e.g. --seed nocloud\n');
  });

  it('flags before the verb still reach it (cluster --json status DIR, cluster -o DIR gen SPEC)', async () => {
    const status = await inProcess('cluster', '--json', 'status', '/nonexistent/lab');
    expect(status.exitCode).toBe(2);
    expect(status.stderr).toMatch(/^kiln cluster: \/nonexistent\/lab\/cluster\.json: no cluster\.json/);
    const gen = await inProcess('cluster', '-o', '/nonexistent/kiln-never', 'gen', '/nonexistent/cluster.yaml');
    expect(gen.exitCode).toBe(2);
    expect(gen.stderr).toMatch(/^kiln cluster: \/nonexistent\/cluster\.yaml: cannot read the cluster spec/);
  });
});

// Each run starts node + tsx (a few seconds on a busy machine): few runs, side by side.
describe.concurrent('kiln cluster through builder/cli.ts', { timeout: 60_000 }, () => {
  it("gen --force (a flag of down) exits 2 naming the flag and gen's usage", async () => {
    const r = await kiln('cluster', 'gen', SPEC, '--out', '/nonexistent/kiln-never', '--force');
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^kiln cluster gen: Unknown option '--force'/);
    expect(r.stderr).toContain('\nusage: kiln cluster gen CLUSTER.yaml --out DIR [--rotate]\n');
  });

  it('up --help prints the verb summary and usage, with every flag up takes, exit 0', async () => {
    const r = await kiln('cluster', 'up', '--help');
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('');
    const v = CLUSTER_VERBS.find((c) => c.name === 'up')!;
    expect(r.stdout).toBe(`${v.summary}\nusage: ${v.usage}\n`);
    for (const flag of [
      'DIR',
      '--image DISK',
      '[NODE...]',
      '--seed nocloud|ignition',
      '--uefi',
      '--accel tcg|kvm',
      '--wait',
      '--timeout S',
    ])
      expect(r.stdout).toContain(flag);
  });

  it('cluster --help lists the verbs and their usages, exit 0', async () => {
    const r = await kiln('cluster', '--help');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/\nCommands:\n {2}gen {6}write the cluster's PKI/);
    for (const v of CLUSTER_VERBS) {
      expect(r.stdout).toMatch(new RegExp(`^ {2}${v.name} +${v.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
      expect(r.stdout).toContain(`\n  ${v.usage}\n`);
    }
  });

  it('no verb, or an unknown one, exits 2 listing the verbs (the message as before)', async () => {
    const hint = `    hint: one of gen, up, serve, status, down, libvirt: ${CLUSTER_USAGE}\n`;
    const [none, unknown] = await Promise.all([kiln('cluster'), kiln('cluster', 'launch', SPEC)]);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toBe(`kiln cluster: no cluster command given\n${hint}`);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toBe(`kiln cluster: unknown cluster command "launch"\n${hint}`);
  });

  it('kiln --help still shows the one cluster usage line', async () => {
    const r = await kiln('--help');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`\n  ${CLUSTER_USAGE}\n`);
  });
});
