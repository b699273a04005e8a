// The addon catalogue kiln ships, and how a chart is found in a repository index.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalogue, parseAddon } from '../../../../builder/addons/catalogue.ts';
import { findInIndex } from '../../../../builder/addons/charts.ts';
import { KilnError, ValidationError } from '../../../../core/errors.ts';
import { addonsOf } from '../../../../builder/addons/resolve.ts';
import { defaultSpecWith } from '../../../helpers/specs.ts';
import { hasRegistryHost, parseImageRef } from '../../../../builder/images/refs.ts';
import { repoRoot } from '../../../helpers/build.ts';

describe('the catalogue', () => {
  it('has what the bare-metal guides installed, each valid, pinned and from https', async () => {
    const catalogue = await loadCatalogue();
    expect([...catalogue.keys()].sort()).toEqual([
      'cilium',
      'fluent-bit',
      'ingress-nginx',
      'kube-state-metrics',
      'metrics-server',
      'nfs-provisioner',
      'node-exporter',
    ]);
    for (const a of catalogue.values()) {
      expect(a.chart.repository, a.name).toMatch(/^https:\/\//);
      for (const ref of a.images) {
        expect(hasRegistryHost(ref), ref).toBe(true);
        expect(parseImageRef(ref)?.tag, ref).toMatch(/^v?[0-9]/); // a version tag, never latest
      }
    }
    // firstboot looks for Cilium's chart at /usr/share/kiln/charts/cilium-<version>.tgz
    expect(catalogue.get('cilium')!.chart.name).toBe('cilium');
    expect(catalogue.get('nfs-provisioner')!.requiredValues).toEqual(['nfs.server', 'nfs.path']);
  });

  it("is set through each chart's own keys where the real charts showed it must be", async () => {
    const c = await loadCatalogue();
    const at = (name: string, dotted: string) =>
      dotted.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown>)?.[k], c.get(name)!.values);
    // the singletons helm --wait waits for run on a control plane too (the init node may be alone)
    const tolerate = [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }];
    for (const [name, key] of [
      ['metrics-server', 'tolerations'],
      ['kube-state-metrics', 'tolerations'],
      ['nfs-provisioner', 'tolerations'],
      ['ingress-nginx', 'controller.admissionWebhooks.patch.tolerations'],
    ] as const)
      expect(at(name, key), `${name} ${key}`).toEqual(tolerate);
    // metrics-server appends args to defaultArgs: the address types are replaced in defaultArgs
    expect(at('metrics-server', 'defaultArgs')).toContain('--kubelet-preferred-address-types=InternalIP');
    expect((at('metrics-server', 'args') as string[]).some((a) => a.startsWith('--kubelet-preferred-address-types'))).toBe(false);
    // Cilium 1.16's envoy DaemonSet is named by tag, like the agent and operator, and listed
    expect(at('cilium', 'envoy.image.useDigest')).toBe(false);
    expect(c.get('cilium')!.images).toContain('quay.io/cilium/cilium-envoy:v1.30.8-1733837904-eaae5aca0fb988583e5617170a65ac5aa51c0aa8');
  });

  it('fluent-bit reads the journal', async () => {
    const fb = (await loadCatalogue()).get('fluent-bit')!;
    expect((fb.values.config as { inputs: string }).inputs).toMatch(/Name systemd\n\s+Tag journal\.\*\n\s+Path \/var\/log\/journal/);
  });

  it('a bad entry names the file and the field', () => {
    const text = readFileSync(path.join(repoRoot, 'addons/metrics-server.yaml'), 'utf8').replace('version: 3.12.2', 'version: latest');
    const e = (() => {
      try {
        parseAddon(text, 'addons/metrics-server.yaml');
      } catch (x) {
        return x;
      }
    })() as ValidationError;
    expect(e).toBeInstanceOf(ValidationError);
    expect(e.problems[0]).toMatchObject({ file: 'addons/metrics-server.yaml', line: 3, col: expect.any(Number), path: '/chart/version' });
    expect(() => parseAddon(readFileSync(path.join(repoRoot, 'addons/metrics-server.yaml'), 'utf8'), 'addons/metrics.yaml')).toThrow(
      ValidationError,
    );
  });
});

describe('addonsOf', () => {
  const HELM = { name: 'helm', file: 'helm', sha256: 'e'.repeat(64) };
  it('names an addon the catalogue does not have, with the closest name', async () => {
    const spec = defaultSpecWith(['tar'], (d) => {
      d.addons = [{ name: 'metrics-server' }, { name: 'fluentbit' }];
      d.binaries = [HELM];
    });
    const e = await addonsOf(spec).catch((x: unknown) => x as KilnError);
    expect(e).toBeInstanceOf(KilnError);
    expect((e as KilnError).path).toBe('/addons/1/name');
    expect((e as KilnError).message).toBe('no addon "fluentbit" in kiln\'s catalogue');
    expect((e as KilnError).hint).toMatch(/^did you mean "fluent-bit"\? known: cilium, fluent-bit,/);
    expect(
      (await addonsOf(defaultSpecWith(['tar'], (d) => ((d.addons = [{ name: 'cilium' }]), (d.binaries = [HELM]))))).map(
        (a) => a.chart.name,
      ),
    ).toEqual(['cilium']);
  });
});

describe('findInIndex', () => {
  const index = readFileSync(path.join(repoRoot, 'test/fixtures/addons/index.yaml'), 'utf8');
  const repo = 'https://charts.example.org/stable';
  it('takes the digest and the first URL, resolving relative ones against the repository', () => {
    expect(findInIndex(index, repo, 'metrics-server', '3.12.2')).toEqual({
      url: 'https://github.com/kubernetes-sigs/metrics-server/releases/download/metrics-server-helm-chart-3.12.2/metrics-server-3.12.2.tgz',
      sha256: '1'.repeat(64),
    });
    expect(findInIndex(index, repo, 'metrics-server', '3.12.1')).toEqual({
      url: 'https://charts.example.org/stable/charts/metrics-server-3.12.1.tgz',
      sha256: '2'.repeat(64),
    });
  });
  it('says what is missing', () => {
    expect(findInIndex(index, repo, 'metrics-server', '3.12.0')).toEqual({
      error: 'the index gives metrics-server 3.12.0 no sha256 digest',
    });
    expect(findInIndex(index, repo, 'metrics-server', '9.9.9')).toEqual({
      error: 'the repository has no metrics-server 9.9.9 (newest: 3.12.2, 3.12.1, 3.12.0)',
    });
    expect(findInIndex(index, repo, 'cilium', '1.16.5')).toEqual({ error: 'the repository has no chart cilium' });
    expect(findInIndex('entries: [', repo, 'x', '1.0.0')).toMatchObject({
      error: expect.stringMatching(/^index\.yaml line \d+: YAML syntax: /),
    });
    // a hostile index: aliases that multiply are refused, not expanded
    const laughs = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...'bcdefgh'.split('').map((l, i) => `${l}: &${l} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`),
    ];
    expect(findInIndex(laughs.join('\n'), repo, 'x', '1.0.0')).toMatchObject({
      error: expect.stringMatching(/aliases expand to more than/),
    });
  });
});
