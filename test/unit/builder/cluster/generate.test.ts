// `kiln cluster gen` without xorriso (a stand-in packs the ISO): the DIR layout and modes, what a
// re-run keeps and --rotate replaces, same secrets → same bytes, secrets only where they belong,
// and nothing written when the input is bad.
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { generateCluster, type GenOptions } from '../../../../builder/cluster/generate.ts';
import type { ClusterSummary, SummaryNode } from '../../../../builder/cluster/lab/summary.ts';
import { loadClusterFile } from '../../../../builder/cluster/load.ts';
import type { ClusterSpec } from '../../../../builder/cluster/schema.ts';
import { KilnError, ToolError } from '../../../../core/errors.ts';
import { repoRoot } from '../../../helpers/build.ts';

const EXAMPLE = path.join(repoRoot, 'images/examples/cluster-lab.yaml');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-cluster-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const freshDir = () => path.join(tmp, `out-${n++}`);
/** The stand-in ISO: the seed's files, so seed changes show in it as they would in the real one. */
const fakeIso: GenOptions['iso'] = async (seed) => Buffer.from(JSON.stringify(seed));
const gen = (spec: ClusterSpec, dir: string, opts: GenOptions = {}) => generateCluster(spec, EXAMPLE, dir, { iso: fakeIso, ...opts });

/** cluster.json: what `kiln cluster up` reads back, and what only scripts read (the CA pin, instance-ids). */
type Summary = Omit<ClusterSummary, 'nodes'> & { caCertHash: string; nodes: Array<SummaryNode & { instanceId: string }> };

/** Every file under dir: relative path → contents. */
function tree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) walk(r);
      else out.set(r, readFileSync(path.join(dir, r), 'utf8'));
    }
  };
  walk('');
  return out;
}
const mode = (file: string) => (statSync(file).mode & 0o777).toString(8);

let spec: ClusterSpec;
let dir: string;
let first: Map<string, string>;
beforeAll(async () => {
  spec = await loadClusterFile(EXAMPLE);
  dir = freshDir();
  await gen(spec, dir);
  first = tree(dir);
});

const NODE_FILES = ['cidata.iso', 'ignition.json', 'nocloud/meta-data', 'nocloud/network-config', 'nocloud/user-data'];

describe('the DIR layout', () => {
  it('holds exactly the documented files', () => {
    const expected = [
      'cluster.json',
      'secrets.json',
      'pki/ca.crt',
      'pki/ca.key',
      'pki/front-proxy-ca.crt',
      'pki/front-proxy-ca.key',
      'pki/etcd/ca.crt',
      'pki/etcd/ca.key',
      ...['cp-1', 'cp-2', 'cp-3', 'worker-1'].flatMap((node) => NODE_FILES.map((f) => `nodes/${node}/${f}`)),
    ];
    expect([...first.keys()].sort()).toEqual(expected.sort());
  });

  it('secret files are 0600, public ones 0644, every directory 0700', () => {
    const secret = /(\.key|secrets\.json|user-data|cidata\.iso|ignition\.json)$/;
    for (const rel of first.keys()) expect(mode(path.join(dir, rel)), rel).toBe(secret.test(rel) ? '600' : '644');
    for (const d of ['', 'pki', 'pki/etcd', 'nodes', 'nodes/cp-1', 'nodes/cp-1/nocloud'])
      expect(mode(path.join(dir, d)), d || 'DIR').toBe('700');
  });

  it('cluster.json is the non-secret summary scripts rely on', () => {
    const summary = JSON.parse(first.get('cluster.json')!) as Summary;
    expect(summary).toMatchObject({
      name: 'lab',
      kubernetesVersion: 'v1.31.4',
      controlPlaneEndpoint: '10.0.2.100:6443',
      pki: { ca: 'pki/ca.crt', frontProxy: 'pki/front-proxy-ca.crt', etcd: 'pki/etcd/ca.crt' },
    });
    expect(summary.caCertHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(summary.nodes.map((x) => [x.name, x.role, x.advertiseAddress, x.cidata])).toEqual([
      ['cp-1', 'init', '10.0.2.11', 'nodes/cp-1/cidata.iso'],
      ['cp-2', 'control-plane', '10.0.2.12', 'nodes/cp-2/cidata.iso'],
      ['cp-3', 'control-plane', '10.0.2.13', 'nodes/cp-3/cidata.iso'],
      ['worker-1', 'worker', '10.0.2.21', 'nodes/worker-1/cidata.iso'],
    ]);
    expect(summary.nodes[3]!.interfaces).toEqual([
      { name: 'lan0', mac: '52:54:00:6b:69:21', addresses: ['10.0.2.21/24'], gateway: '10.0.2.2' },
    ]);
    // what kiln cluster up gives each VM: the lab spec says nothing, so the defaults
    expect(summary.vms).toEqual({ memoryMiB: 2048, cpus: 2, start: 'parallel' });
  });

  it('instance-ids are unique per node and listed in cluster.json', () => {
    const summary = JSON.parse(first.get('cluster.json')!) as Summary;
    const ids = summary.nodes.map((x) => x.instanceId);
    expect(new Set(ids).size).toBe(4);
    for (const node of summary.nodes)
      expect(YAML.parse(first.get(`nodes/${node.name}/nocloud/meta-data`)!)).toEqual({
        'instance-id': node.instanceId,
        'local-hostname': node.name,
      });
  });
});

describe('secrets stay where they belong', () => {
  const secrets = () => JSON.parse(first.get('secrets.json')!) as { token: string; certificateKey: string };
  const caKey = () => first.get('pki/ca.key')!.trim();
  const body = (pem: string) =>
    pem
      .split('\n')
      .filter((l) => !l.startsWith('-----'))
      .join('');

  it('secrets.json holds the token and the certificate key, nothing else', () => {
    expect(Object.keys(secrets()).sort()).toEqual(['certificateKey', 'token']);
    expect(secrets().token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(secrets().certificateKey).toMatch(/^[0-9a-f]{64}$/);
  });

  it('no public file holds the token, the certificate key or any CA key', () => {
    const needles = [
      secrets().token,
      secrets().certificateKey,
      ...['ca', 'front-proxy-ca', 'etcd/ca'].map((c) => body(first.get(`pki/${c}.key`)!).slice(0, 40)),
    ];
    for (const [rel, text] of first)
      if (/(cluster\.json|meta-data|network-config|\.crt)$/.test(rel))
        for (const s of needles) expect(text.includes(s), `${rel} leaks a secret`).toBe(false);
  });

  it('only the init node carries the CA keys; only control planes carry the certificate key', () => {
    const keyBody = body(caKey()).slice(0, 40);
    const fpKey = body(first.get('pki/front-proxy-ca.key')!).slice(0, 40);
    const ign = (node: string) =>
      Buffer.from(
        JSON.stringify(
          JSON.parse(first.get(`nodes/${node}/ignition.json`)!).storage.files.map((f: { contents: { source: string } }) =>
            Buffer.from(f.contents.source.split(',')[1]!, 'base64').toString(),
          ),
        ),
      ).toString();
    for (const node of ['cp-1', 'cp-2', 'cp-3', 'worker-1']) {
      const userData = first.get(`nodes/${node}/nocloud/user-data`)!;
      const files = ign(node);
      for (const text of [userData, files]) {
        expect(text.replace(/\n\s*/g, '').includes(keyBody), `${node}: CA key`).toBe(node === 'cp-1');
        expect(text.replace(/\\n\s*|\n\s*/g, '').includes(fpKey), `${node}: front-proxy CA key`).toBe(node === 'cp-1');
        expect(text.includes(secrets().certificateKey), `${node}: certificate key`).toBe(node !== 'worker-1');
        expect(text.includes(secrets().token), `${node}: token`).toBe(true);
      }
    }
  });
});

describe('re-runs', () => {
  it('keep the CA, token and certificate key, and write the same bytes', async () => {
    const result = await gen(spec, dir);
    expect(result.created).toEqual([]);
    expect(tree(dir)).toEqual(first);
  });

  it('--rotate makes a new CA, token, certificate key and instance-ids', async () => {
    const rotated = freshDir();
    await gen(spec, rotated);
    const before = tree(rotated);
    const result = await gen(spec, rotated, { rotate: true });
    const after = tree(rotated);
    expect(result.created).toEqual(['pki/ca.crt', 'pki/front-proxy-ca.crt', 'pki/etcd/ca.crt', 'token', 'certificateKey']);
    for (const rel of [
      'pki/ca.crt',
      'pki/ca.key',
      'pki/etcd/ca.key',
      'secrets.json',
      'nodes/cp-2/nocloud/meta-data',
      'nodes/cp-2/nocloud/user-data',
    ])
      expect(after.get(rel), rel).not.toBe(before.get(rel));
    expect(JSON.parse(after.get('cluster.json')!).caCertHash).not.toBe(JSON.parse(before.get('cluster.json')!).caCertHash);
    // what depends on no secret stays
    expect(after.get('nodes/cp-2/nocloud/network-config')).toBe(before.get('nodes/cp-2/nocloud/network-config'));
  });

  it('a spec change keeps the secrets and instance-ids, rewrites the node, and drops removed nodes', async () => {
    const changed = structuredClone(spec);
    changed.nodes[3]!.labels = { 'example.com/pool': 'gpu' };
    changed.nodes.push({
      ...structuredClone(changed.nodes[3]!),
      name: 'worker-2',
      interfaces: [{ name: 'lan0', mac: '52:54:00:6b:69:22', addresses: ['10.0.2.22/24'], gateway: '10.0.2.2' }],
    });
    const other = freshDir();
    await gen(changed, other);
    const withTwo = tree(other);
    const result = await gen(spec, other);
    const back = tree(other);
    expect(result.removed).toEqual(['worker-2']);
    expect(existsSync(path.join(other, 'nodes/worker-2'))).toBe(false);
    expect(back.get('secrets.json')).toBe(withTwo.get('secrets.json'));
    expect(back.get('nodes/worker-1/nocloud/meta-data')).toBe(withTwo.get('nodes/worker-1/nocloud/meta-data'));
    expect(back.get('nodes/worker-1/nocloud/user-data')).toContain('example.com/pool: general');
    expect(withTwo.get('nodes/worker-1/nocloud/user-data')).toContain('example.com/pool: gpu');
  });

  it('a missing front-proxy CA is added; the main CA stays', async () => {
    const d = freshDir();
    await gen({ ...spec, pki: { algorithm: 'ecdsa-p256' } }, d);
    const before = tree(d);
    expect(before.has('pki/front-proxy-ca.crt')).toBe(false);
    const result = await gen({ ...spec, pki: { algorithm: 'ecdsa-p256', frontProxyCa: true } }, d);
    expect(result.created).toEqual(['pki/front-proxy-ca.crt']);
    expect(tree(d).get('pki/ca.key')).toBe(before.get('pki/ca.key'));
    expect(new X509Certificate(tree(d).get('pki/front-proxy-ca.crt')!).publicKey.asymmetricKeyType).toBe('ec');
  });
});

describe('secret-bearing temporaries', () => {
  it("the ISOs are packed in a 0700 work directory inside DIR, gone afterwards; a killed run's leftover is removed", async () => {
    const d = freshDir();
    await gen(spec, d);
    mkdirSync(path.join(d, '.kiln-work-killed/cidata-x/seed'), { recursive: true });
    writeFileSync(path.join(d, '.kiln-work-killed/cidata-x/seed/user-data'), 'token: left by a killed run');
    const seen: string[] = [];
    await gen(spec, d, {
      iso: async (seed, work) => {
        seen.push(`${path.relative(d, work).replace(/[^-]+$/, '…')}:${mode(work)}`);
        return fakeIso(seed, work);
      },
    });
    expect(new Set(seen)).toEqual(new Set(['.kiln-work-…:700']));
    expect(readdirSync(d).filter((n) => n.startsWith('.kiln-work-'))).toEqual([]);
  });
});

describe('addresses as resolv.conf and networkd write them', () => {
  it('a link-local nameserver with its zone (fe80::3%lan0) goes to network-config as written', async () => {
    const d = freshDir();
    const zoned = { ...spec, network: { ...spec.network, nameservers: ['fe80::3%lan0', '10.0.2.3'] } } as ClusterSpec;
    await gen(zoned, d);
    const node = readdirSync(path.join(d, 'nodes'))[0]!;
    const config = YAML.parse(readFileSync(path.join(d, 'nodes', node, 'nocloud/network-config'), 'utf8'));
    expect(JSON.stringify(config)).toContain('"fe80::3%lan0","10.0.2.3"');
  });
});

describe('nothing is written when something is wrong', () => {
  const fails = async (setup: (d: string) => void, expected: RegExp, opts: GenOptions = {}, exitCode = 2) => {
    const d = freshDir();
    setup(d);
    const before = existsSync(d) ? tree(d) : undefined;
    const error = await gen(spec, d, opts).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KilnError);
    expect((error as KilnError).exitCode).toBe(exitCode);
    expect((error as KilnError).describe()).toMatch(expected);
    expect(existsSync(d) ? tree(d) : undefined).toEqual(before);
    return error as KilnError;
  };

  it('a directory kiln did not make', () =>
    fails((d) => {
      mkdirSync(d);
      writeFileSync(path.join(d, 'notes.txt'), 'mine');
    }, /not empty and was not made by kiln cluster gen/));
  it("another cluster's directory", () =>
    fails((d) => {
      mkdirSync(d);
      writeFileSync(path.join(d, 'cluster.json'), '{"name":"prod"}');
    }, /holds cluster "prod", not "lab"/));
  it('a CA certificate without its key', () =>
    fails((d) => {
      mkdirSync(path.join(d, 'pki'), { recursive: true });
      writeFileSync(path.join(d, 'pki/ca.crt'), first.get('pki/ca.crt')!);
    }, /come as a pair; one is missing[\s\S]*--rotate/));
  it("a CA key that is not the certificate's", () =>
    fails((d) => {
      mkdirSync(path.join(d, 'pki'), { recursive: true });
      writeFileSync(path.join(d, 'pki/ca.crt'), first.get('pki/ca.crt')!);
      writeFileSync(path.join(d, 'pki/ca.key'), first.get('pki/front-proxy-ca.key')!);
    }, /the key does not belong to the certificate/));
  it('a malformed secrets.json, without quoting it', async () => {
    const error = await fails((d) => {
      mkdirSync(d);
      writeFileSync(path.join(d, 'secrets.json'), '{"token":"abcdef.0123456789ABCDEF","certificateKey":"00"}');
    }, /secrets\.json: \/token: not a bootstrap token/);
    expect(error.describe()).not.toContain('0123456789ABCDEF');
  });
  it('a secrets.json that is null, or a key file that is a directory (tampered), is an exit-2 error naming it', async () => {
    await fails((d) => {
      mkdirSync(d);
      writeFileSync(path.join(d, 'secrets.json'), 'null');
    }, /secrets\.json: not a JSON object with token and certificateKey/);
    await fails((d) => {
      mkdirSync(path.join(d, 'pki/ca.key'), { recursive: true });
      writeFileSync(path.join(d, 'pki/ca.crt'), first.get('pki/ca.crt')!);
    }, /ca\.key: cannot read this file of kiln cluster gen: it is a directory/);
  });
  it('a failing ISO step (after the secrets are made) leaves DIR as it was', () =>
    fails(
      () => undefined,
      /xorriso: not found/,
      {
        iso: async () => {
          throw new ToolError('xorriso', 'not found');
        },
      },
      1,
    ));
});
