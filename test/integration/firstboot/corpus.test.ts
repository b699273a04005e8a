// Every malformed input, handed to a whole firstboot pass on a real node root (as a cidata volume,
// or an Ignition config over fw_cfg): exit 2, and not one file changed outside /run/kiln.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { treeHost } from '../../helpers/tree-host.ts';
import { EXIT, runPass } from '../../../firstboot/run.ts';
import { repoRoot, tempDir } from '../../helpers/build.ts';
import { changedPaths, makeNodeRoot, snapshotTree } from '../../helpers/firstboot.ts';

const corpus = path.join(repoRoot, 'test/fixtures/firstboot/malformed');
const cases = readdirSync(corpus)
  .filter((n) => existsSync(path.join(corpus, n, 'expect.json')))
  .sort();
const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('malformed metadata on a node', () => {
  it.each(cases)('%s: exit 2, nothing written outside /run/kiln', async (name) => {
    const fixture = tempDir('kiln-fb-corpus-');
    const root = makeNodeRoot();
    made.push(fixture, root);
    mkdirSync(path.join(fixture, 'proc'));
    writeFileSync(path.join(fixture, 'proc/cmdline'), 'console=ttyS0\n');
    const ign = path.join(corpus, name, 'config.ign');
    if (existsSync(ign)) {
      const blob = path.join(fixture, 'sys/firmware/qemu_fw_cfg/by_name/opt/com.coreos/config');
      mkdirSync(blob, { recursive: true });
      cpSync(ign, path.join(blob, 'raw'));
    } else {
      cpSync(path.join(corpus, name), path.join(fixture, 'dev/disk/by-label/cidata'), { recursive: true });
    }
    const before = snapshotTree(root);
    const lines: string[] = [];
    const code = await runPass({ host: treeHost(fixture, root), pass: 'early', out: (l) => lines.push(l) });
    expect(code, lines.join('\n')).toBe(EXIT.invalid);
    expect(changedPaths(before, snapshotTree(root))).toEqual(['run', 'run/kiln', 'run/kiln/status-early.json']);
    const status = JSON.parse(readFileSync(path.join(root, 'run/kiln/status-early.json'), 'utf8'));
    expect(status.state).toBe('failed');
    expect(status.error.problems.length).toBeGreaterThan(0);
    // no stack trace, and no secret of the input on the console or in the world-readable status file
    const console = lines.join('\n');
    expect(console).not.toMatch(/internal error|\n\s+at /);
    const { secrets = [] } = JSON.parse(readFileSync(path.join(corpus, name, 'expect.json'), 'utf8')) as { secrets?: string[] };
    for (const secret of secrets) {
      expect(console, `${name}: console shows ${secret}`).not.toContain(secret);
      expect(JSON.stringify(status), `${name}: status shows ${secret}`).not.toContain(secret);
    }
  });
});
