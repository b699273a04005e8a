// Preloaded images through real components: a local docker-registry holds an image the test
// builds; kiln copies it with skopeo into a reproducible OCI archive; a real containerd imports the
// archive into k8s.io and lists it under the same name and digest the registry serves. Mirrors:
// containerd pulls through the hosts.toml kiln writes.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KilnError } from '../../../core/errors.ts';
import { hostsToml } from '../../../builder/images/refs.ts';
import { preloadImages } from '../../../builder/images/preload.ts';
import { startContainerd, type Containerd } from '../../helpers/containerd.ts';
import { pushTestImage, startRegistry, type Registry } from '../../helpers/registry.ts';
import { tempDir } from '../../helpers/build.ts';
import { defaultSpecWith } from '../../helpers/specs.ts';
import { bundled } from '../../helpers/firstboot.ts';

const work = tempDir('kiln-images-');
let registry: Registry;
let containerd: Containerd;
let ref: string;
let digest: string;

const specFor = (preload: Array<Record<string, unknown>>) =>
  defaultSpecWith(['tar'], (d) => (d.images = { preload }), path.join(work, 'spec.yaml'));
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
    const [image] = await preloadImages(specFor([{ ref, tlsVerify: false }]), [], path.join(work, 'cache-a'), (m) => logs.push(m));
    expect(image!.ref).toBe(ref);
    expect(image!.digest).toBe(digest);
    expect(image!.path).toBe(`/var/lib/kiln/images/00-${ref.replace(/[:/]/g, '_')}.tar`);
    expect(logs).toEqual([`copying ${ref}`]);
    await containerd.ctr(['-n', 'k8s.io', 'images', 'import', image!.archive]);
    expect((await containerd.images('k8s.io')).get(ref), 'ctr images ls').toBe(digest);
  }, 120_000);

  it('is reproducible across caches and reused from the cache without copying again', async () => {
    const spec = specFor([{ ref, tlsVerify: false }]);
    const [a] = await preloadImages(spec, [], path.join(work, 'cache-b'), () => {});
    const [b] = await preloadImages(spec, [], path.join(work, 'cache-c'), () => {});
    expect(fileSha(a!.archive)).toBe(fileSha(b!.archive));
    const logs: string[] = [];
    const [again] = await preloadImages(spec, [], path.join(work, 'cache-b'), (m) => logs.push(m));
    expect(logs).toEqual([]);
    expect(again).toEqual(a);
  }, 120_000);

  it('a new push under the same tag is a new cache entry', async () => {
    const moving = `${registry.host}/kiln-test/moving:1`;
    const first = await pushTestImage(work, moving, 'one\n');
    const cache = path.join(work, 'cache-d');
    const [a] = await preloadImages(specFor([{ ref: moving, tlsVerify: false }]), [], cache, () => {});
    const second = await pushTestImage(work, moving, 'two\n');
    const [b] = await preloadImages(specFor([{ ref: moving, tlsVerify: false }]), [], cache, () => {});
    expect([a!.digest, b!.digest]).toEqual([first, second]);
    expect(first).not.toBe(second);
  }, 120_000);

  it('fails naming the field when the registry does not have the image', async () => {
    const e = await preloadImages(
      specFor([{ ref: `${registry.host}/kiln-test/missing:1`, tlsVerify: false }]),
      [],
      path.join(work, 'cache-e'),
      () => {},
    ).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KilnError);
    expect((e as KilnError).path).toBe('/images/preload/0/ref');
    expect((e as KilnError).message).toMatch(/kiln-test\/missing:1: skopeo failed: .*(manifest unknown|not found)/i);
  }, 60_000);

  it('refuses a plain-HTTP registry unless tlsVerify is false', async () => {
    const e = await preloadImages(specFor([{ ref }]), [], path.join(work, 'cache-f'), () => {}).catch((x: unknown) => x);
    expect((e as KilnError).message).toMatch(/skopeo failed: .*http: server gave HTTP response to HTTPS client/);
  }, 60_000);
});

describe('images.kubernetes and from', () => {
  it('bakes what the verified kubeadm lists, pulled from a registry.k8s.io mirror but named as kubeadm expects', async () => {
    // the kubeadm stand-in (TEST ONLY) answers `config images list` as kubeadm 1.31 does
    const main = await bundled('test/standins/main.ts');
    const kubeadm = path.join(work, 'kubeadm-blob');
    writeFileSync(kubeadm, `#!/bin/sh\nexec "${process.execPath}" "${main}" kubeadm "$@"\n`);
    const names = [
      'kube-apiserver:v1.31.4',
      'kube-controller-manager:v1.31.4',
      'kube-scheduler:v1.31.4',
      'kube-proxy:v1.31.4',
      'coredns/coredns:v1.11.3',
      'pause:3.10',
      'etcd:3.5.15-0',
    ];
    const pushed = new Map<string, string>();
    for (const n of names) pushed.set(`registry.k8s.io/${n}`, await pushTestImage(work, `${registry.host}/k8s/${n}`, `${n}\n`));
    const spec = defaultSpecWith(
      ['tar'],
      (d) => {
        d.kubernetes.source = { release: 'http://127.0.0.1:9/release' }; // binaries are handed in below
        d.images = {
          kubernetes: { pullFrom: `${registry.host}/k8s`, tlsVerify: false },
          preload: [
            { ref: 'registry.k8s.io/pause:3.10', from: `${registry.host}/k8s/pause:3.10`, tlsVerify: false },
            { ref: 'registry.kiln.test/team/app:1', from: ref, tlsVerify: false },
          ],
        };
      },
      path.join(work, 'spec.yaml'),
    );
    const binaries = [{ path: '/usr/bin/kubeadm', blob: kubeadm, sha256: fileSha(kubeadm), size: 0, origin: 'test' }];
    const logs: string[] = [];
    const images = await preloadImages(spec, binaries, path.join(work, 'cache-k'), (m) => logs.push(m));
    // kubeadm's order, pause once (the spec's own entry is the same image), then the spec's
    expect(images.map((i) => [i.ref, i.digest])).toEqual([
      ...[...pushed].map(([r, d]) => [r, d]),
      ['registry.kiln.test/team/app:1', digest],
    ]);
    expect(logs[0]).toBe(`copying ${registry.host}/k8s/kube-apiserver:v1.31.4 as registry.k8s.io/kube-apiserver:v1.31.4`);
    for (const image of images) await containerd.ctr(['-n', 'kube-test', 'images', 'import', image.archive]);
    expect(await containerd.images('kube-test')).toEqual(new Map([...pushed, ['registry.kiln.test/team/app:1', digest]]));
  }, 240_000);
});

describe('a digest-pinned image', () => {
  it('is found in the cache without the registry (an air-gapped rebuild)', async () => {
    const own = await startRegistry(path.join(work, 'registry-pinned'));
    const pushed = await pushTestImage(work, `${own.host}/kiln-test/pinned:1`, 'pinned by digest\n');
    const spec = specFor([
      { ref: 'registry.kiln.test/kiln-test/pinned:1', from: `${own.host}/kiln-test/pinned@${pushed}`, tlsVerify: false },
    ]);
    const cache = path.join(work, 'cache-pinned');
    const [first] = await preloadImages(spec, [], cache, () => {});
    expect(first!.digest).toBe(pushed);
    await own.stop(); // the registry is gone: only the cache can answer now
    const logs: string[] = [];
    const [again] = await preloadImages(spec, [], cache, (m) => logs.push(m));
    expect(again).toEqual(first);
    expect(logs).toEqual([]);
    // a tag is asked about: with the registry gone that fails, naming the field
    const tagged = specFor([{ ref: `${own.host}/kiln-test/pinned:1`, tlsVerify: false }]);
    const e = await preloadImages(tagged, [], cache, () => {}).catch((x: unknown) => x as KilnError);
    expect(e).toBeInstanceOf(KilnError);
    expect((e as KilnError).path).toBe('/images/preload/0/ref');
  }, 120_000);
});

describe('images.mirrors', () => {
  it('containerd pulls a registry host it cannot reach through the mirror in the hosts.toml kiln writes', async () => {
    const hostsDir = path.join(work, 'certs.d');
    mkdirSync(path.join(hostsDir, 'registry.kiln.test'), { recursive: true });
    writeFileSync(
      path.join(hostsDir, 'registry.kiln.test/hosts.toml'),
      hostsToml({ host: 'registry.kiln.test', endpoints: [`http://${registry.host}`], skipVerify: false }),
    );
    await containerd.ctr(['-n', 'mirror-test', 'images', 'pull', '--hosts-dir', hostsDir, 'registry.kiln.test/kiln-test/hello:1']);
    expect((await containerd.images('mirror-test')).get('registry.kiln.test/kiln-test/hello:1')).toBe(digest);
  }, 120_000);
});
