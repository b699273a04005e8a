// kiln-firstboot update --check against a node root laid out as the image bakes it: the trusted
// keys under /usr/share/kiln/update-keys/<key id>.pub and /etc/kiln/image.json. It takes a newer
// bundle signed by a baked key and within the skew policy, refuses everything else with exit 2
// and a reason, and writes nothing either way.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { generateUpdateKeys, updatePrivateKey, writeBundle } from '../../../../builder/update/bundle.ts';
import { runProgram } from '../../../../core/cli.ts';
import { KILN_FIRSTBOOT } from '../../../../firstboot/program.ts';

const dir = path.join(os.tmpdir(), `kiln-update-check-${process.pid}`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const signer = generateUpdateKeys();
const stranger = generateUpdateKeys();
const IMAGE = { name: 'node', specHash: 'a'.repeat(64), sourceDateEpoch: 1_747_699_200, kubernetesVersion: 'v1.31.4' };

/** A node root: image.json, and the given keys baked under the names given. */
function nodeRoot(name: string, keys: Array<[file: string, pem: string]>, image: object = IMAGE): string {
  const root = path.join(dir, name);
  mkdirSync(path.join(root, 'etc/kiln'), { recursive: true });
  writeFileSync(path.join(root, 'etc/kiln/image.json'), JSON.stringify(image));
  if (keys.length) mkdirSync(path.join(root, 'usr/share/kiln/update-keys'), { recursive: true });
  for (const [file, pem] of keys) writeFileSync(path.join(root, 'usr/share/kiln/update-keys', file), pem);
  return root;
}

async function bundle(name: string, kubernetes = 'v1.31.5', by = signer): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const part = path.join(dir, `${name}.squashfs`);
  writeFileSync(part, Buffer.alloc(70_000, 's'));
  const file = path.join(dir, `${name}.tar`);
  const about = { kiln: '0.1.0', image: 'node', specHash: 'b'.repeat(64), kubernetes, sourceDateEpoch: 1_750_000_000 };
  await writeBundle(file, about, [{ name: 'rootfs.squashfs', role: 'root', file: part }], updatePrivateKey(by.privatePem, 'k'));
  return file;
}

async function check(...argv: string[]) {
  let out = '';
  const capture = (chunk: unknown) => ((out += String(chunk)), true);
  const o = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const e = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    return { code: await runProgram(KILN_FIRSTBOOT, ['update', '--check', ...argv]), out };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

const baked = (k = signer): [string, string] => [`${k.keyId}.pub`, k.publicPem];

describe('kiln-firstboot update --check', () => {
  it('takes a newer bundle signed by a baked key, says what it checked, and writes nothing', async () => {
    const root = nodeRoot('good', [baked(stranger), baked()]);
    const file = await bundle('good');
    const before = readdirSync(dir, { recursive: true }).sort();
    const r = await check(file, '--root', root, '--role', 'worker', '--control-plane', 'v1.31.9');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(`${file}: this node would take it`);
    expect(r.out).toMatch(/image node \(bbbbbbbbbbbb\), Kubernetes v1\.31\.5, built at 2025-06-15T/);
    expect(r.out).toMatch(/newer than the running node \(aaaaaaaaaaaa, 2025-05-20T00:00:00\.000Z\)/);
    expect(r.out).toContain('1 parts, 0 MiB, every sha256 verified: rootfs.squashfs (root)');
    expect(r.out).toContain('version skew: v1.31.5 on a worker under a v1.31.9 control plane is within policy');
    expect(readdirSync(dir, { recursive: true }).sort()).toEqual(before);
    const json = await check(file, '--root', root, '--json');
    expect(JSON.parse(json.out)).toMatchObject({ accepted: true, skewChecked: false, manifest: { kubernetes: 'v1.31.5' } });
  });

  it('refuses a worker update ahead of the control plane, naming the way round', async () => {
    const r = await check(
      await bundle('ahead', 'v1.32.0'),
      '--root',
      nodeRoot('ahead', [baked()]),
      '--role',
      'worker',
      '--control-plane',
      'v1.31.4',
    );
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/v1\.32\.0 on a cluster whose control plane runs v1\.31\.4: the kubelet would be newer than the apiserver/);
    expect(r.out).toMatch(/hint: update every control plane first/);
  });

  it('refuses a bundle by a key the image does not bake, or an image that bakes none', async () => {
    const file = await bundle('stranger', 'v1.31.5', stranger);
    const r = await check(file, '--root', nodeRoot('other-key', [baked()]));
    expect(r.code).toBe(2);
    expect(r.out).toContain(`signed by key ${stranger.keyId}, which this node does not trust (it trusts: ${signer.keyId})`);
    const none = await check(file, '--root', nodeRoot('no-keys', []));
    expect(none.code).toBe(2);
    expect(none.out).toContain('this node’s image trusts no update key, so it takes no bundle');
  });

  it('refuses a baked key whose file name is not its id (a swapped key), and a replay of the running image', async () => {
    const swapped = await check(await bundle('swapped'), '--root', nodeRoot('swapped', [[`${stranger.keyId}.pub`, signer.publicPem]]));
    expect(swapped.code).toBe(2);
    expect(swapped.out).toContain(`holds key ${signer.keyId}, not the key its name says`);
    const same = nodeRoot('same', [baked()], { ...IMAGE, specHash: 'b'.repeat(64), sourceDateEpoch: 1_750_000_000 });
    const replay = await check(await bundle('replay'), '--root', same);
    expect(replay.code).toBe(2);
    expect(replay.out).toContain('this node already runs that image (spec bbbbbbbbbbbb)');
  });

  it('refuses usage it cannot act on', async () => {
    expect((await check()).code).toBe(2);
    const half = await check(path.join(dir, 'x.tar'), '--role', 'worker');
    expect(half.code).toBe(2);
    expect(half.out).toContain('--role and --control-plane go together');
    expect((await check(path.join(dir, 'x.tar'), '--role', 'etcd', '--control-plane', 'v1.31.4')).out).toContain(
      '--role etcd is not a node role',
    );
  });
});
