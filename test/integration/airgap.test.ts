// kiln build for an air-gapped site: verified binaries land in rootfs.tar (0755, same bytes),
// preloaded images as OCI archives containerd imports (same digest as the registry's), mirrors as
// containerd hosts.toml, all listed in the manifest; a checksum mismatch stops the build before
// mmdebstrap, with no output written.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { kiln, kilnBuild, rootfsOnlySpec, stagesEnded, tempDir } from '../helpers/build.ts';
import { startContainerd } from '../helpers/containerd.ts';
import { makeChartRepo, workload } from '../helpers/charts.ts';
import { realTools } from '../helpers/real-tools.ts';
import { serveStatic, type StaticServer } from '../helpers/http.ts';
import { pushTestImage, startRegistry, type Registry } from '../helpers/registry.ts';
import type { SpecDoc } from '../helpers/specs.ts';

const VERSION = 'v1.31.4';
const METRICS_IMAGE = 'registry.k8s.io/metrics-server/metrics-server:v0.7.2';
const work = tempDir('kiln-binaries-build-');
const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
/** TEST ONLY stand-in "binaries": small scripts; this test image is never shipped. */
const standin = (name: string) => `#!/bin/sh\n# kiln test stand-in for ${name}\necho ${name}\n`;
let server: StaticServer;
let registry: Registry;

/** The real helm as the image's helm: the build renders the addon's chart with it (a test image, never shipped). */
const helmBinary = () => ({ name: 'helm', file: realTools().helm, sha256: sha(readFileSync(realTools().helm)) });

function specWith(edit: (doc: SpecDoc) => void): string {
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
  registry = await startRegistry(path.join(work, 'registry'));
});

afterAll(async () => {
  await server?.close();
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('kiln build for an air-gapped site', () => {
  it('bakes verified binaries, preloaded images and mirrors into rootfs.tar and lists them in the manifest', async () => {
    const release = `http://127.0.0.1:${server.port}/release`;
    const ref = `${registry.host}/kiln-test/airgap:1`;
    const digest = await pushTestImage(work, ref, 'air-gapped\n');
    const metricsFrom = `${registry.host}/mirror/metrics-server:v0.7.2`;
    const metricsDigest = await pushTestImage(work, metricsFrom, 'metrics-server stand-in image\n');
    // the chart runs its image as the real one does: the build learns it from helm template
    const chartSha = makeChartRepo(path.join(work, 'release/charts'), 'metrics-server', '3.12.2', {
      values: `image: ${METRICS_IMAGE}\n`,
      templates: { 'deployment.yaml': workload('Deployment', 'metrics-server', '{{ .Values.image }}') },
    });
    const spec = specWith((d) => {
      d.kubernetes.source = { release };
      d.binaries = [{ name: 'crictl', file: 'crictl', sha256: sha(standin('crictl')) }, helmBinary()];
      d.images = {
        // the addon's image, named as its chart refers to it, pulled from the local registry
        preload: [
          { ref, tlsVerify: false },
          { ref: METRICS_IMAGE, from: metricsFrom, tlsVerify: false },
        ],
        mirrors: [{ host: 'docker.io', endpoints: ['https://mirror.lab.internal:5000'] }],
      };
      d.addons = [{ name: 'metrics-server', repository: `http://127.0.0.1:${server.port}/release/charts` }];
    });
    const out = path.join(work, 'out');
    await kilnBuild(spec, out);
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(manifest.binaries).toEqual([
      {
        path: '/usr/bin/kubeadm',
        sha256: sha(standin('kubeadm')),
        size: standin('kubeadm').length,
        origin: `${release}/${VERSION}/bin/linux/amd64/kubeadm`,
      },
      {
        path: '/usr/bin/kubectl',
        sha256: sha(standin('kubectl')),
        size: standin('kubectl').length,
        origin: `${release}/${VERSION}/bin/linux/amd64/kubectl`,
      },
      {
        path: '/usr/bin/kubelet',
        sha256: sha(standin('kubelet')),
        size: standin('kubelet').length,
        origin: `${release}/${VERSION}/bin/linux/amd64/kubelet`,
      },
      { path: '/usr/local/bin/crictl', sha256: sha(standin('crictl')), size: standin('crictl').length, origin: path.join(work, 'crictl') },
      { path: '/usr/local/bin/helm', sha256: helmBinary().sha256, size: expect.any(Number), origin: realTools().helm },
    ]);
    const tar = path.join(out, 'rootfs.tar');
    const listing = execFileSync('tar', ['-tvf', tar, './usr/bin/kubeadm', './usr/bin/kubelet', './usr/local/bin/crictl'], {
      encoding: 'utf8',
    });
    for (const line of listing.trim().split('\n')) expect(line, line).toMatch(/^-rwxr-xr-x 0\/0 /);
    expect(execFileSync('tar', ['-xOf', tar, './usr/bin/kubelet'], { encoding: 'utf8' })).toBe(standin('kubelet'));
    expect(execFileSync('tar', ['-xOf', tar, './usr/local/bin/crictl'], { encoding: 'utf8' })).toBe(standin('crictl'));

    const archive = `/var/lib/kiln/images/00-${ref.replace(/[:/]/g, '_')}.tar`;
    expect(manifest.images).toEqual([
      { ref, digest, size: expect.any(Number), path: archive },
      {
        ref: METRICS_IMAGE,
        digest: metricsDigest,
        size: expect.any(Number),
        path: `/var/lib/kiln/images/01-${METRICS_IMAGE.replace(/[:/]/g, '_')}.tar`,
      },
    ]);
    // the addon: its chart verified and baked where firstboot looks, with the descriptor it installs from
    expect(manifest.addons).toEqual([
      {
        name: 'metrics-server',
        chart: 'metrics-server-3.12.2',
        sha256: chartSha,
        size: expect.any(Number),
        origin: `http://127.0.0.1:${server.port}/release/charts/metrics-server-3.12.2.tgz`,
      },
    ]);
    expect(sha(execFileSync('tar', ['-xOf', tar, './usr/share/kiln/charts/metrics-server-3.12.2.tgz'], { maxBuffer: 1 << 26 }))).toBe(
      chartSha,
    );
    const descriptor = JSON.parse(execFileSync('tar', ['-xOf', tar, './usr/share/kiln/addons/metrics-server.json'], { encoding: 'utf8' }));
    expect(descriptor).toMatchObject({
      name: 'metrics-server',
      chart: '/usr/share/kiln/charts/metrics-server-3.12.2.tgz',
      namespace: 'kube-system',
      sha256: chartSha,
      images: [METRICS_IMAGE],
    });
    const extracted = path.join(work, 'image.tar');
    writeFileSync(extracted, execFileSync('tar', ['-xOf', tar, `.${archive}`], { maxBuffer: 1 << 26 }));
    expect(manifest.images[0].size).toBe(readFileSync(extracted).length);
    // what firstboot does on the node: import into k8s.io; kubelet then finds it by name
    const containerd = await startContainerd(path.join(work, 'containerd'));
    try {
      await containerd.ctr(['-n', 'k8s.io', 'images', 'import', extracted]);
      expect((await containerd.images('k8s.io')).get(ref)).toBe(digest);
    } finally {
      await containerd.stop();
    }
    expect(execFileSync('tar', ['-xOf', tar, './etc/containerd/certs.d/docker.io/hosts.toml'], { encoding: 'utf8' })).toContain(
      '[host."https://mirror.lab.internal:5000"]',
    );
  }, 600_000);

  it('a chart that runs an image the catalogue does not list, or is another chart, stops the build before mmdebstrap: exit 2, no output', async () => {
    const charts = path.join(work, 'release/charts-drift');
    makeChartRepo(charts, 'metrics-server', '3.12.2', {
      values: `image: ${METRICS_IMAGE}\nsidecar: registry.k8s.io/addon-resizer:1.8.21\n`,
      templates: {
        'deployment.yaml': workload('Deployment', 'metrics-server', '{{ .Values.image }}'),
        'resizer.yaml': workload('Deployment', 'resizer', '{{ .Values.sidecar }}'),
      },
    });
    const impostor = path.join(work, 'release/charts-impostor');
    makeChartRepo(impostor, 'metrics-server', '3.12.2', { chartYaml: { name: 'metrics-server', version: '3.13.0' } });
    const cases = [
      {
        repo: 'charts-drift',
        message:
          'addon metrics-server: chart metrics-server 3.12.2 runs registry.k8s.io/addon-resizer:1.8.21 (Deployment/kube-system/resizer container resizer), not in addons/metrics-server.yaml images',
      },
      {
        repo: 'charts-impostor',
        message: `addon metrics-server: metrics-server-3.12.2.tgz from http://127.0.0.1:${server.port}/release/charts-impostor/metrics-server-3.12.2.tgz: the archive is metrics-server 3.13.0, not metrics-server 3.12.2`,
      },
    ];
    for (const c of cases) {
      const spec = specWith((d) => {
        d.binaries = [helmBinary()];
        d.addons = [{ name: 'metrics-server', repository: `http://127.0.0.1:${server.port}/release/${c.repo}` }];
      });
      const out = path.join(work, `out-${c.repo}`);
      const r = await kiln(['build', spec, '--out', out, '--cache-dir', path.join(work, 'cache-drift'), '--json'], { reject: false });
      expect(r.exitCode, r.all).toBe(2);
      expect(r.all).toContain(`/addons/0: ${c.message}`);
      expect(r.all).not.toMatch(/\n\s+at /); // no stack trace
      expect(stagesEnded(r.stdout)).toEqual(['validate', 'binaries']);
      expect(existsSync(out)).toBe(false);
    }
  }, 120_000);

  it('a checksum mismatch fails at the binaries stage: exit 2, the field named, no output', async () => {
    const spec = specWith((d) => (d.binaries = [{ name: 'crictl', file: 'crictl', sha256: 'e'.repeat(64) }]));
    const out = path.join(work, 'out-bad');
    const r = await kiln(['build', spec, '--out', out, '--cache-dir', path.join(work, 'cache'), '--json'], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.all).toContain(
      `/binaries/0/file: crictl: ${path.join(work, 'crictl')}: SHA-256 mismatch: expected ${'e'.repeat(64)}, got ${sha(standin('crictl'))}`,
    );
    expect(stagesEnded(r.stdout)).toEqual(['validate']); // neither skopeo nor mmdebstrap ran
    expect(existsSync(out)).toBe(false);
    expect(existsSync(path.join(work, 'cache/rootfs'))).toBe(false);
  }, 120_000);
});
