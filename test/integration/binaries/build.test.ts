// kiln build with binaries: the verified files land in rootfs.tar (0755, same bytes) and in the
// manifest; a checksum mismatch stops the build before mmdebstrap, with no output written.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { kiln, kilnBuild, rootfsOnlySpec, tempDir } from '../../helpers/build.ts';
import { serveStatic, type StaticServer } from '../../helpers/http.ts';

const VERSION = 'v1.31.4';
const work = tempDir('kiln-binaries-build-');
const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
/** TEST ONLY stand-in "binaries": small scripts; this test image is never shipped. */
const standin = (name: string) => `#!/bin/sh\n# kiln test stand-in for ${name}\necho ${name}\n`;
let server: StaticServer;

function specWith(edit: (doc: Record<string, any>) => void): string {
  const file = rootfsOnlySpec(work);
  const doc = YAML.parse(readFileSync(file, 'utf8'));
  edit(doc);
  writeFileSync(file, YAML.stringify(doc));
  return file;
}

beforeAll(async () => {
  const bin = path.join(work, 'release', VERSION, 'bin/linux/amd64');
  mkdirSync(bin, { recursive: true });
  for (const c of ['kubeadm', 'kubectl', 'kubelet']) {
    writeFileSync(path.join(bin, c), standin(c));
    writeFileSync(path.join(bin, `${c}.sha256`), sha(standin(c)));
  }
  writeFileSync(path.join(work, 'crictl'), standin('crictl'));
  server = await serveStatic(path.join(work, 'release'), '/release');
});

afterAll(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('kiln build with kubernetes.source and binaries', () => {
  it('bakes each verified binary into rootfs.tar and lists it in the manifest', async () => {
    const release = `http://127.0.0.1:${server.port}/release`;
    const spec = specWith((d) => {
      d.kubernetes.source = { release };
      d.binaries = [{ name: 'crictl', file: 'crictl', sha256: sha(standin('crictl')) }];
    });
    const out = path.join(work, 'out');
    await kilnBuild(spec, out);
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(manifest.binaries).toEqual([
      { path: '/usr/bin/kubeadm', sha256: sha(standin('kubeadm')), size: standin('kubeadm').length, origin: `${release}/${VERSION}/bin/linux/amd64/kubeadm` },
      { path: '/usr/bin/kubectl', sha256: sha(standin('kubectl')), size: standin('kubectl').length, origin: `${release}/${VERSION}/bin/linux/amd64/kubectl` },
      { path: '/usr/bin/kubelet', sha256: sha(standin('kubelet')), size: standin('kubelet').length, origin: `${release}/${VERSION}/bin/linux/amd64/kubelet` },
      { path: '/usr/local/bin/crictl', sha256: sha(standin('crictl')), size: standin('crictl').length, origin: path.join(work, 'crictl') },
    ]);
    const tar = path.join(out, 'rootfs.tar');
    const listing = execFileSync('tar', ['-tvf', tar, './usr/bin/kubeadm', './usr/bin/kubelet', './usr/local/bin/crictl'], { encoding: 'utf8' });
    for (const line of listing.trim().split('\n')) expect(line, line).toMatch(/^-rwxr-xr-x 0\/0 /);
    expect(execFileSync('tar', ['-xOf', tar, './usr/bin/kubelet'], { encoding: 'utf8' })).toBe(standin('kubelet'));
    expect(execFileSync('tar', ['-xOf', tar, './usr/local/bin/crictl'], { encoding: 'utf8' })).toBe(standin('crictl'));
  }, 600_000);

  it('a checksum mismatch fails at the binaries stage: exit 2, the field named, no output', async () => {
    const spec = specWith((d) => (d.binaries = [{ name: 'crictl', file: 'crictl', sha256: 'e'.repeat(64) }]));
    const out = path.join(work, 'out-bad');
    const r = await kiln(['build', spec, '--out', out, '--cache-dir', path.join(work, 'cache'), '--json'], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.all).toContain(`/binaries/0/file: crictl: ${path.join(work, 'crictl')}: SHA-256 mismatch: expected ${'e'.repeat(64)}, got ${sha(standin('crictl'))}`);
    const stages = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((e) => e.event === 'stage-end').map((e) => e.stage);
    expect(stages).toEqual(['validate']); // mmdebstrap never ran
    expect(existsSync(out)).toBe(false);
    expect(existsSync(path.join(work, 'cache/rootfs'))).toBe(false);
  }, 120_000);
});
