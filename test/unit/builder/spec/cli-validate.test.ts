// `kiln validate` end to end through the CLI: exit codes, the human report on stderr, --json.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { where } from '../../../../core/problem.ts';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const VALID = 'test/fixtures/specs/docker.yaml';
const INVALID = 'test/fixtures/specs/many-errors.yaml';
const SYNTAX = 'test/fixtures/specs/syntax-error.yaml';

const kiln = (...args: string[]) => execa('npx', ['tsx', 'builder/cli.ts', ...args], { cwd: ROOT, reject: false, env: { NO_COLOR: '1' } });

/** 1-based line of the first line of `file` containing `text`. */
function lineOf(file: string, text: string): number {
  const index = readFileSync(`${ROOT}${file}`, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(text));
  if (index < 0) throw new Error(`${text} not in ${file}`);
  return index + 1;
}

interface JsonResult {
  file: string;
  valid: boolean;
  hash?: string;
  problems: Array<{ file: string; path: string; message: string; hint?: string }>;
}

// Each run starts npx + tsx (~2 s); leave room for a busy machine.
describe('kiln validate', { timeout: 60_000 }, () => {
  it('exits 0 for a valid spec and prints its hash', async () => {
    const r = await kiln('validate', VALID);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${VALID}: valid \\(spec hash [0-9a-f]{12}\\)$`, 'm'));
    expect(r.stderr).not.toMatch(/problem/);
  });

  it('exits 2 for an invalid spec and lists file:line:col, path, message and hint for each problem', async () => {
    const r = await kiln('validate', INVALID);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^${INVALID}: [0-9]+ problems$`, 'm'));

    const problemLines = r.stderr.split('\n').filter((l) => l.startsWith(`  ${INVALID}:`));
    expect(problemLines.length).toBeGreaterThanOrEqual(5);
    for (const line of problemLines) expect(line).toMatch(new RegExp(`^  ${INVALID}:\\d+:\\d+: /\\S+: .+`));
    expect(r.stderr.match(/^ {4}hint: \S.*$/gm)).toHaveLength(problemLines.length);

    const journald = lineOf(INVALID, 'systemMaxUse: 20%');
    expect(r.stderr).toMatch(
      new RegExp(`  ${INVALID}:${journald}:\\d+: /node/journald/systemMaxUse: "20%".*\\n {4}hint: .*journald rejects percentages`),
    );
    const tcp = lineOf(INVALID, 'tcp://0.0.0.0:2375');
    expect(r.stderr).toMatch(new RegExp(`  ${INVALID}:${tcp}:\\d+: /runtime/docker/hosts/0: .*unauthenticated TCP socket\\n {4}hint: `));
  });

  it('--json prints machine-readable results on stdout', async () => {
    const r = await kiln('validate', '--json', VALID, INVALID);
    expect(r.exitCode).toBe(2);
    const results = JSON.parse(r.stdout) as JsonResult[];
    expect(results.map((x) => [x.file, x.valid])).toEqual([
      [VALID, true],
      [INVALID, false],
    ]);
    expect(results[0]!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(results[0]!.problems).toEqual([]);

    const problems = results[1]!.problems;
    expect(problems.length).toBeGreaterThanOrEqual(5);
    for (const p of problems) {
      expect(where(p)).toMatch(new RegExp(`^${INVALID}:\\d+:\\d+$`));
      expect(p.path).toMatch(/^\//);
      expect(p.message).toBeTruthy();
      expect(p.hint).toBeTruthy();
    }
    expect(problems).toContainEqual(
      expect.objectContaining({
        file: INVALID,
        line: lineOf(INVALID, 'systemMaxUse: 20%'),
        path: '/node/journald/systemMaxUse',
        hint: expect.stringContaining('journald rejects percentages'),
      }),
    );
  });

  it('--json for a valid spec exits 0', async () => {
    const r = await kiln('validate', '--json', 'images/debian-bookworm.yaml');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      { file: 'images/debian-bookworm.yaml', valid: true, hash: expect.stringMatching(/^[0-9a-f]{64}$/), problems: [] },
    ]);
  });

  it('reports YAML syntax errors with a position and exits 2', async () => {
    const r = await kiln('validate', SYNTAX);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`  ${SYNTAX}:\\d+:\\d+: YAML syntax: .+\\n {4}hint: `));
  });

  it('a missing file is invalid input (exit 2) with a hint', async () => {
    const r = await kiln('validate', 'test/fixtures/specs/does-not-exist.yaml');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/does-not-exist\.yaml: cannot read the image spec: it does not exist\n {4}hint: /);
  });

  it('no spec at all is a usage error (exit 2)', async () => {
    const r = await kiln('validate');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/no spec given[\s\S]*hint: kiln validate images\/debian-bookworm\.yaml/);
  });
});

describe('kiln validate runs the output checks too', () => {
  it('a disk too small for the raw output is invalid (exit 2) with its path', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-validate-'));
    const file = path.join(dir, 'small.yaml');
    writeFileSync(
      file,
      readFileSync(path.join(ROOT, 'images/debian-bookworm.yaml'), 'utf8').replace('$schema: ./image.schema.json\n', '') +
        'disk:\n  size: 100M\n',
    );
    const r = await execa(process.execPath, ['--import', 'tsx', path.join(ROOT, 'builder/cli.ts'), 'validate', file], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/\/disk\/size: 100M is too small/);
  });
});
