// `kiln cluster gen` through the real CLI on images/examples/cluster-lab.yaml, with the real
// xorriso: the cidata ISOs hold the seed under the cidata label, two runs give the same bytes when
// the secrets are kept, --rotate changes them, the console never shows a secret, bad input exits 2.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kiln, repoRoot, tempDir } from '../helpers/build.ts';

const SPEC = 'images/examples/cluster-lab.yaml';
const NODES = ['cp-1', 'cp-2', 'cp-3', 'worker-1'];
const work = tempDir('kiln-cluster-gen-');
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** sha256 of every file under dir, by relative path. */
function digests(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) walk(r);
      else
        out[r] = createHash('sha256')
          .update(readFileSync(path.join(dir, r)))
          .digest('hex');
    }
  };
  walk('');
  return out;
}

const out = path.join(work, 'lab');
let first: Awaited<ReturnType<typeof kiln>>;
let firstDigests: Record<string, string>;
beforeAll(async () => {
  first = await kiln(['cluster', 'gen', SPEC, '--out', out]);
  firstDigests = digests(out);
});

describe('kiln cluster gen on the example', () => {
  it('succeeds and prints a summary: CA hash, nodes, paths', () => {
    const summary = JSON.parse(readFileSync(path.join(out, 'cluster.json'), 'utf8'));
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toContain(summary.caCertHash);
    expect(first.stdout).toContain('API at 10.0.2.100:6443');
    for (const n of NODES)
      expect(first.stdout).toMatch(
        new RegExp(`${n}\\s+\\S+\\s+10\\.0\\.2\\.\\d+\\s+${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/nodes/${n}/`),
      );
  });

  it('never prints the token, the certificate key or a key', () => {
    const secrets = JSON.parse(readFileSync(path.join(out, 'secrets.json'), 'utf8'));
    const caKey = readFileSync(path.join(out, 'pki/ca.key'), 'utf8').split('\n')[1]!;
    for (const s of [secrets.token, secrets.token.split('.')[1], secrets.certificateKey, caKey]) expect(first.all).not.toContain(s);
    expect(first.all).not.toMatch(/PRIVATE KEY/);
  });

  it.each(NODES)('%s: cidata.iso is a cidata volume holding exactly the nocloud files', async (node) => {
    const iso = path.join(out, 'nodes', node, 'cidata.iso');
    expect(statSync(iso).mode & 0o777).toBe(0o600);
    const info = await execa('xorriso', ['-indev', iso, '-pvd_info'], { all: true });
    expect(info.all).toMatch(/Volume Id\s*:\s*cidata\b/);
    const extracted = path.join(work, `x-${node}`);
    await execa('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/', extracted]);
    expect(readdirSync(extracted).sort()).toEqual(['meta-data', 'network-config', 'user-data']);
    for (const f of readdirSync(extracted))
      expect(readFileSync(path.join(extracted, f), 'utf8')).toBe(readFileSync(path.join(out, 'nodes', node, 'nocloud', f), 'utf8'));
    rmSync(extracted, { recursive: true, force: true, maxRetries: 2 });
  });

  it('a second run keeps the secrets and gives identical bytes, ISOs included', async () => {
    const again = await kiln(['cluster', 'gen', SPEC, '--out', out]);
    expect(again.stdout).toContain('kept (CA, token, certificate key)');
    expect(digests(out)).toEqual(firstDigests);
  });

  it('--rotate replaces the secrets: new CA hash, new ISOs and instance-ids', async () => {
    const copy = path.join(work, 'rotated');
    await kiln(['cluster', 'gen', SPEC, '--out', copy]);
    const before = digests(copy);
    const rotated = await kiln(['cluster', 'gen', SPEC, '--out', copy, '--rotate']);
    const after = digests(copy);
    expect(rotated.stdout).toMatch(/new: pki\/ca\.crt, .*token, certificateKey/);
    for (const f of [
      'pki/ca.crt',
      'secrets.json',
      'nodes/cp-1/cidata.iso',
      'nodes/worker-1/cidata.iso',
      'nodes/worker-1/nocloud/meta-data',
    ])
      expect(after[f], f).not.toBe(before[f]);
    expect(after['nodes/worker-1/nocloud/network-config']).toBe(before['nodes/worker-1/nocloud/network-config']);
  });
});

describe('bad input', () => {
  it('a broken spec exits 2 with file:line:col, path and hint, and writes nothing', async () => {
    const spec = path.join(work, 'bad.yaml');
    writeFileSync(
      spec,
      readFileSync(path.join(repoRoot, SPEC), 'utf8')
        .replace('role: init', 'role: control-plane')
        .replace('vip: 10.0.2.100', 'vip: 10.0.2.12'),
    );
    const target = path.join(work, 'never');
    const result = await kiln(['cluster', 'gen', spec, '--out', target], { reject: false });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/kiln cluster: \d+ problems found:/);
    expect(result.stderr).toMatch(
      new RegExp(
        `${spec.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: /controlPlane/vip: the VIP 10\\.0\\.2\\.12 is cp-2's own address`,
      ),
    );
    expect(result.stderr).toMatch(/\/nodes: no node has role init\n\s+hint: /);
    expect(existsSync(target)).toBe(false);
  });

  it('no verb, an unknown verb (launch), or no --out exit 2 with usage help', async () => {
    for (const args of [['cluster'], ['cluster', 'launch', SPEC], ['cluster', 'gen', SPEC]]) {
      const r = await kiln(args, { reject: false });
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/hint: .*kiln cluster gen/);
    }
  });

  it('kiln schema cluster prints the JSON Schema', async () => {
    const r = await kiln(['schema', 'cluster']);
    expect(JSON.parse(r.stdout).title).toBe('kiln cluster spec');
  });
});
