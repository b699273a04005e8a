// kubernetes.source.apt with the real mmdebstrap and apt: kubeadm, kubelet and kubectl come from a
// signed repository on loopback (flat, like pkgs.k8s.io), pinned to the spec's version; a package
// that does not match the signed index fails the build.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { kiln, rootfsOnlySpec, tempDir, testCacheDir } from '../helpers/build.ts';
import { makeAptRepo } from '../helpers/apt-repo.ts';
import { serveStatic, type StaticServer } from '../helpers/http.ts';

const work = tempDir('kiln-apt-');
/** TEST ONLY stand-in contents; this image is never shipped. */
const standin = (name: string, version: string) => `#!/bin/sh\n# kiln test stand-in for ${name} ${version}\necho ${name} ${version}\n`;
let server: StaticServer;

beforeAll(async () => {
  const packages = ['kubeadm', 'kubelet', 'kubectl'].flatMap((name) => [
    { name, version: '1.31.4-1.1', files: { [`/usr/bin/${name}`]: standin(name, '1.31.4') } },
    // a newer release in the same repository: the spec's version must win
    { name, version: '1.31.5-1.1', files: { [`/usr/bin/${name}`]: standin(name, '1.31.5') } },
  ]);
  writeFileSync(path.join(work, 'Release.key'), makeAptRepo(path.join(work, 'apt'), packages));
  server = await serveStatic(path.join(work, 'apt/repo'), '/deb');
});

afterAll(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

function specFor(name: string): string {
  const file = rootfsOnlySpec(work);
  const doc = YAML.parse(readFileSync(file, 'utf8'));
  doc.kubernetes.source = { apt: { url: `http://127.0.0.1:${server.port}/deb/`, key: 'Release.key' } };
  const out = path.join(work, `${name}.yaml`);
  writeFileSync(out, YAML.stringify(doc));
  return out;
}

describe('kubernetes.source.apt', () => {
  it('installs the spec version from the signed repository and keeps the source for upgrades', async () => {
    const out = path.join(work, 'out');
    await kiln(['build', specFor('good'), '--out', out, '--cache-dir', testCacheDir]);
    const tar = path.join(out, 'rootfs.tar');
    expect(execFileSync('tar', ['-xOf', tar, './usr/bin/kubeadm'], { encoding: 'utf8' })).toBe(standin('kubeadm', '1.31.4'));
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    const versions = Object.fromEntries(
      manifest.packages
        .filter((p: { name: string }) => ['kubeadm', 'kubelet', 'kubectl'].includes(p.name))
        .map((p: { name: string; version: string }) => [p.name, p.version]),
    );
    expect(versions).toEqual({ kubeadm: '1.31.4-1.1', kubectl: '1.31.4-1.1', kubelet: '1.31.4-1.1' });
    expect(manifest.binaries).toEqual([]);
    const listing = execFileSync('tar', ['-tf', tar], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const sources = listing.split('\n').filter((l) => /^\.\/etc\/apt\/sources\.list(\.d\/.+)?$/.test(l));
    const text = sources.map((s) => execFileSync('tar', ['-xOf', tar, s], { encoding: 'utf8' })).join('\n');
    expect(text).toContain(`URIs: http://127.0.0.1:${server.port}/deb/`);
    expect(text).toContain('BEGIN PGP PUBLIC KEY BLOCK');
  }, 900_000);

  it('a repository signed by another key fails the build at apt update, writing no output', async () => {
    // the same repository, but the spec trusts a different key: apt must refuse its InRelease
    writeFileSync(path.join(work, 'Release.key'), makeAptRepo(path.join(work, 'other'), []));
    const out = path.join(work, 'out-bad');
    const r = await kiln(['build', specFor('bad'), '--out', out, '--cache-dir', path.join(work, 'cache-bad')], { reject: false });
    expect(r.exitCode).not.toBe(0);
    expect(r.all).toMatch(/mmdebstrap/);
    expect(r.all).toMatch(/NO_PUBKEY|not signed|signatures couldn't be verified|is not signed/i);
    expect(existsSync(path.join(out, 'rootfs.tar'))).toBe(false);
  }, 900_000);
});
