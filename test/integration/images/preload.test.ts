// Preloaded images through real components: a local docker-registry holds an image the test
// builds; kiln copies it with skopeo into a reproducible OCI archive; a real containerd imports the
// archive into k8s.io and lists it under the same name and digest the registry serves. Mirrors:
// containerd pulls through the hosts.toml kiln writes.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KilnError } from '../../../builder/errors.ts';
import { hostsToml } from '../../../builder/images/refs.ts';
import { preloadImages } from '../../../builder/images/preload.ts';
import { startContainerd, type Containerd } from '../../helpers/containerd.ts';
import { pushTestImage, startRegistry, type Registry } from '../../helpers/registry.ts';
import { tempDir } from '../../helpers/build.ts';
import { defaultSpecWith } from '../../helpers/specs.ts';

const work = tempDir('kiln-images-');
let registry: Registry;
let containerd: Containerd;
let ref: string;
let digest: string;

const specFor = (preload: Array<Record<string, unknown>>) => defaultSpecWith(['tar'], (d) => (d.images = { preload }), path.join(work, 'spec.yaml'));
const fileSha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

beforeAll(async () => {
  registry = await startRegistry(path.join(work, 'registry'));
  containerd = await startContainerd(path.join(work, 'containerd'));
  ref = `${registry.host}/kiln-test/hello:1`;
  digest = await pushTestImage(work, ref, 'hello from the kiln preload test\n');
}, 60_000);

afterAll(async () => {
  await containerd?.stop();
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('images.preload', () => {
  it('copies the image into an archive containerd imports under the same name and digest', async () => {
    const logs: string[] = [];
    const [image] = await preloadImages(specFor([{ ref, tlsVerify: false }]), path.join(work, 'cache-a'), (m) => logs.push(m));
    expect(image!.ref).toBe(ref);
    expect(image!.digest).toBe(digest);
    expect(image!.path).toBe(`/var/lib/kiln/images/00-${ref.replace(/[:/]/g, '_')}.tar`);
    expect(logs).toEqual([`copying ${ref}`]);
    await containerd.ctr(['-n', 'k8s.io', 'images', 'import', image!.archive]);
    const listed = (await containerd.ctr(['-n', 'k8s.io', 'images', 'ls'])).split('\n').find((l) => l.startsWith(`${ref} `));
    expect(listed, 'ctr images ls').toBeDefined();
    expect(listed!.split(/\s+/)[2]).toBe(digest);
  }, 120_000);

  it('is reproducible across caches and reused from the cache without copying again', async () => {
    const spec = specFor([{ ref, tlsVerify: false }]);
    const [a] = await preloadImages(spec, path.join(work, 'cache-b'), () => {});
    const [b] = await preloadImages(spec, path.join(work, 'cache-c'), () => {});
    expect(fileSha(a!.archive)).toBe(fileSha(b!.archive));
    const logs: string[] = [];
    const [again] = await preloadImages(spec, path.join(work, 'cache-b'), (m) => logs.push(m));
    expect(logs).toEqual([]);
    expect(again).toEqual(a);
  }, 120_000);

  it('a new push under the same tag is a new cache entry', async () => {
    const moving = `${registry.host}/kiln-test/moving:1`;
    const first = await pushTestImage(work, moving, 'one\n');
    const cache = path.join(work, 'cache-d');
    const [a] = await preloadImages(specFor([{ ref: moving, tlsVerify: false }]), cache, () => {});
    const second = await pushTestImage(work, moving, 'two\n');
    const [b] = await preloadImages(specFor([{ ref: moving, tlsVerify: false }]), cache, () => {});
    expect([a!.digest, b!.digest]).toEqual([first, second]);
    expect(first).not.toBe(second);
  }, 120_000);

  it('fails naming the field when the registry does not have the image', async () => {
    const e = await preloadImages(specFor([{ ref: `${registry.host}/kiln-test/missing:1`, tlsVerify: false }]), path.join(work, 'cache-e'), () => {}).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KilnError);
    expect((e as KilnError).path).toBe('/images/preload/0/ref');
    expect((e as KilnError).message).toMatch(/kiln-test\/missing:1: skopeo failed: .*(manifest unknown|not found)/i);
  }, 60_000);

  it('refuses a plain-HTTP registry unless tlsVerify is false', async () => {
    const e = await preloadImages(specFor([{ ref }]), path.join(work, 'cache-f'), () => {}).catch((x: unknown) => x);
    expect((e as KilnError).message).toMatch(/skopeo failed: .*http: server gave HTTP response to HTTPS client/);
  }, 60_000);
});

describe('images.mirrors', () => {
  it('containerd pulls a registry host it cannot reach through the mirror in the hosts.toml kiln writes', async () => {
    const hostsDir = path.join(work, 'certs.d');
    mkdirSync(path.join(hostsDir, 'registry.kiln.test'), { recursive: true });
    writeFileSync(path.join(hostsDir, 'registry.kiln.test/hosts.toml'), hostsToml({ host: 'registry.kiln.test', endpoints: [`http://${registry.host}`], skipVerify: false }));
    await containerd.ctr(['-n', 'mirror-test', 'images', 'pull', '--hosts-dir', hostsDir, 'registry.kiln.test/kiln-test/hello:1']);
    const listed = (await containerd.ctr(['-n', 'mirror-test', 'images', 'ls'])).split('\n').find((l) => l.startsWith('registry.kiln.test/kiln-test/hello:1 '));
    expect(listed?.split(/\s+/)[2]).toBe(digest);
  }, 120_000);
});
