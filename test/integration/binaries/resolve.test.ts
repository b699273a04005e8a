// Binaries from a release tree served over HTTP on loopback (the dl.k8s.io layout, with real
// .sha256 files), from bundles (directory and tarball) and as archive members: every file is
// verified, a mismatch installs nothing, and a second resolve downloads nothing.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveBinaries } from '../../../builder/binaries/resolve.ts';
import { KilnError } from '../../../core/errors.ts';
import { tempDir } from '../../helpers/build.ts';
import { serveStatic, type StaticServer } from '../../helpers/http.ts';
import { defaultSpecWith, type SpecDoc } from '../../helpers/specs.ts';

const VERSION = 'v1.31.4';
const COMPONENTS = ['kubeadm', 'kubectl', 'kubelet'];
const work = tempDir('kiln-binaries-');
const tree = path.join(work, 'release');
const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
/** TEST ONLY stand-in "binaries": small scripts, never what a user's image carries. */
const standin = (name: string) => `#!/bin/sh\n# kiln test stand-in for ${name} ${VERSION}\necho ${name}\n`;
let server: StaticServer;
let base: string;
let n = 0;
const cacheDir = () => path.join(work, `cache-${++n}`);

beforeAll(async () => {
  const bin = path.join(tree, VERSION, 'bin/linux/amd64');
  mkdirSync(bin, { recursive: true });
  for (const c of COMPONENTS) {
    writeFileSync(path.join(bin, c), standin(c), { mode: 0o755 });
    writeFileSync(path.join(bin, `${c}.sha256`), sha(standin(c))); // dl.k8s.io: bare hex, no newline
  }
  // a tool released as a tarball with a "<hex>  <name>" checksum file beside it (helm's layout)
  const tool = path.join(work, 'tool/linux-amd64');
  mkdirSync(tool, { recursive: true });
  writeFileSync(path.join(tool, 'helm'), standin('helm'), { mode: 0o755 });
  execFileSync('tar', ['-czf', path.join(tree, 'helm-v3.16.3-linux-amd64.tar.gz'), '-C', path.join(work, 'tool'), 'linux-amd64']);
  writeFileSync(
    path.join(tree, 'helm-v3.16.3-linux-amd64.tar.gz.sha256sum'),
    `${sha(readFileSync(path.join(tree, 'helm-v3.16.3-linux-amd64.tar.gz')))}  helm-v3.16.3-linux-amd64.tar.gz\n`,
  );
  server = await serveStatic(tree, '/release');
  base = `http://127.0.0.1:${server.port}/release`;
});

afterAll(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

const releaseSpec = (edit: (d: SpecDoc) => void = () => {}) =>
  defaultSpecWith(
    ['tar'],
    (d) => {
      d.kubernetes.source = { release: base };
      edit(d);
    },
    path.join(work, 'spec.yaml'),
  );

async function failure(p: Promise<unknown>): Promise<KilnError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(KilnError);
  return e as KilnError;
}

describe('kubernetes.source.release', () => {
  it('installs each component at /usr/bin, verified against its .sha256; a second resolve downloads nothing', async () => {
    const cache = cacheDir();
    server.requests.length = 0;
    const first = await resolveBinaries(releaseSpec(), cache, () => {});
    expect(first.map((b) => [b.path, b.sha256, b.origin])).toEqual(
      COMPONENTS.map((c) => [`/usr/bin/${c}`, sha(standin(c)), `${base}/${VERSION}/bin/linux/amd64/${c}`]),
    );
    for (const b of first) expect(readFileSync(b.blob, 'utf8')).toBe(standin(path.basename(b.path)));
    expect(server.requests.filter((r) => !r.endsWith('.sha256')).sort()).toEqual(
      COMPONENTS.map((c) => `GET /release/${VERSION}/bin/linux/amd64/${c}`),
    );
    server.requests.length = 0;
    const second = await resolveBinaries(releaseSpec(), cache, () => {});
    expect(second).toEqual(first);
    // only the small checksum files again: the binaries come from the cache, found by checksum
    expect(server.requests.sort()).toEqual(COMPONENTS.map((c) => `GET /release/${VERSION}/bin/linux/amd64/${c}.sha256`));
  });

  it('fails on a checksum mismatch, names the field and stores nothing', async () => {
    const file = path.join(tree, VERSION, 'bin/linux/amd64/kubelet.sha256');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, 'f'.repeat(64));
    const cache = cacheDir();
    try {
      const e = await failure(resolveBinaries(releaseSpec(), cache, () => {}));
      expect(e.path).toBe('/kubernetes/source/release');
      expect(e.describe()).toContain(`kubelet ${VERSION}: SHA-256 mismatch: expected ${'f'.repeat(64)}, got ${sha(standin('kubelet'))}`);
      expect(e.hint).toMatch(/nothing was installed/);
      const stored = readdirSync(path.join(cache, 'blobs/sha256'));
      expect(stored).not.toContain(sha(standin('kubelet')));
      expect(readdirSync(path.join(cache, 'blobs')).filter((f) => f.startsWith('.tmp'))).toEqual([]);
    } finally {
      writeFileSync(file, good);
    }
  });

  it('fails when a checksum file is missing (never installs an unverified file)', async () => {
    const e = await failure(
      resolveBinaries(
        releaseSpec((d) => (d.kubernetes.version = 'v1.31.9')),
        cacheDir(),
        () => {},
      ),
    );
    expect(e.describe()).toMatch(
      /kubeadm v1\.31\.9: http:\/\/127\.0\.0\.1:\d+\/release\/v1\.31\.9\/bin\/linux\/amd64\/kubeadm\.sha256: HTTP 404/,
    );
    expect(e.hint).toMatch(/never installs an unverified file/);
  });
});

describe('kubernetes.source.bundle', () => {
  function makeBundle(dir: string, list = true) {
    mkdirSync(path.join(dir, 'bin'), { recursive: true });
    for (const c of COMPONENTS) writeFileSync(path.join(dir, 'bin', c), standin(c), { mode: 0o755 });
    if (list) writeFileSync(path.join(dir, 'SHA256SUMS'), COMPONENTS.map((c) => `${sha(standin(c))}  bin/${c}\n`).join(''));
  }
  const bundleSpec = (bundle: string) => defaultSpecWith(['tar'], (d) => (d.kubernetes.source = { bundle }), path.join(work, 'spec.yaml'));

  it('reads a directory bundle, paths relative to the spec', async () => {
    makeBundle(path.join(work, 'bundle-dir'));
    const got = await resolveBinaries(bundleSpec('./bundle-dir'), cacheDir(), () => {});
    expect(got.map((b) => [b.path, b.sha256, b.origin])).toEqual(
      COMPONENTS.map((c) => [`/usr/bin/${c}`, sha(standin(c)), `./bundle-dir:bin/${c}`]),
    );
  });

  it('reads a tarball bundle and refuses one whose file does not match its list', async () => {
    const dir = path.join(work, 'bundle-tar');
    makeBundle(dir);
    execFileSync('tar', ['-czf', path.join(work, 'bundle.tar.gz'), '-C', dir, '.']);
    const got = await resolveBinaries(bundleSpec('bundle.tar.gz'), cacheDir(), () => {});
    expect(got.map((b) => b.sha256)).toEqual(COMPONENTS.map((c) => sha(standin(c))));
    writeFileSync(path.join(dir, 'bin/kubectl'), 'tampered');
    execFileSync('tar', ['-czf', path.join(work, 'bad.tar.gz'), '-C', dir, '.']);
    const e = await failure(resolveBinaries(bundleSpec('bad.tar.gz'), cacheDir(), () => {}));
    expect(e.path).toBe('/kubernetes/source/bundle');
    expect(e.describe()).toContain(`SHA-256 mismatch: expected ${sha(standin('kubectl'))}, got ${sha('tampered')}`);
  });

  it('refuses a bundle whose list leaves a component out', async () => {
    const dir = path.join(work, 'bundle-short');
    makeBundle(dir);
    writeFileSync(path.join(dir, 'SHA256SUMS'), `${sha(standin('kubeadm'))}  bin/kubeadm\n`);
    const e = await failure(resolveBinaries(bundleSpec('./bundle-short'), cacheDir(), () => {}));
    expect(e.describe()).toMatch(/SHA256SUMS of bundle .*bundle-short lists no kubectl/);
    expect(e.hint).toMatch(/checksum listed/);
  });
});

describe('binaries', () => {
  const toolSpec = (tool: Record<string, unknown>) => releaseSpec((d) => (d.binaries = [tool]));

  it('extracts a member of a checksummed tarball (sha256Url in "<hex>  <name>" form)', async () => {
    const url = `${base}/helm-v3.16.3-linux-amd64.tar.gz`;
    const got = await resolveBinaries(
      toolSpec({ name: 'helm', url, sha256Url: `${url}.sha256sum`, extract: 'linux-amd64/helm' }),
      cacheDir(),
      () => {},
    );
    const helm = got.find((b) => b.path === '/usr/local/bin/helm')!;
    expect(helm.origin).toBe(`${url}:linux-amd64/helm`);
    expect(readFileSync(helm.blob, 'utf8')).toBe(standin('helm'));
    expect(helm.sha256).toBe(sha(standin('helm')));
  });

  it('names extract when the member is not in the archive', async () => {
    const url = `${base}/helm-v3.16.3-linux-amd64.tar.gz`;
    const e = await failure(
      resolveBinaries(toolSpec({ name: 'helm', url, sha256Url: `${url}.sha256sum`, extract: 'helm' }), cacheDir(), () => {}),
    );
    expect(e.path).toBe('/binaries/0/extract');
    expect(e.describe()).toContain('has no file helm');
  });

  it('verifies a local file against its pinned sha256', async () => {
    writeFileSync(path.join(work, 'crictl'), standin('crictl'));
    const ok = await resolveBinaries(
      toolSpec({ name: 'crictl', file: 'crictl', sha256: sha(standin('crictl')).toUpperCase() }),
      cacheDir(),
      () => {},
    );
    expect(ok.find((b) => b.path === '/usr/local/bin/crictl')?.sha256).toBe(sha(standin('crictl')));
    const e = await failure(resolveBinaries(toolSpec({ name: 'crictl', file: 'crictl', sha256: '0'.repeat(64) }), cacheDir(), () => {}));
    expect(e.path).toBe('/binaries/0/file');
    expect(e.describe()).toContain('SHA-256 mismatch');
  });
});
