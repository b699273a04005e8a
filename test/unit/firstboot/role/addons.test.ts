// Addons baked into the image: a node config names them without a chart; their defaults go under
// the node's values; what the image lacks, or a value the chart cannot do without, is refused.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { readFileSync } from 'node:fs';
import { type AddonDescriptor } from '../../../../node/layout.ts';
import { addonProblems, readAddonDescriptors, resolveAddon } from '../../../../firstboot/role/addons.ts';
import { planRole } from '../../../../firstboot/role/plan.ts';
import type { HostFacts, NodeConfig } from '../../../../firstboot/role/types.ts';

const nfs: AddonDescriptor = {
  name: 'nfs-provisioner',
  chart: '/usr/share/kiln/charts/nfs-subdir-external-provisioner-4.0.18.tgz',
  version: '4.0.18',
  namespace: 'kube-system',
  values: { storageClass: { name: 'nfs' } },
  requiredValues: ['nfs.server', 'nfs.path'],
};
const init = YAML.parse(
  readFileSync(path.resolve(import.meta.dirname, '../../../fixtures/firstboot/role/configs/init.yaml'), 'utf8'),
) as NodeConfig;

describe('baked addons', () => {
  it('resolves a chart-less addon to the baked chart, namespace and version; an own chart wins', () => {
    expect(resolveAddon({ name: 'nfs-provisioner' }, { 'nfs-provisioner': nfs })).toEqual({
      chart: nfs.chart,
      namespace: 'kube-system',
      version: '4.0.18',
      defaults: nfs.values,
      // the baked archive is checked against its own Chart.yaml before helm reads it
      expect: { version: '4.0.18' },
    });
    expect(resolveAddon({ name: 'nfs-provisioner', namespace: 'storage' }, { 'nfs-provisioner': nfs }).namespace).toBe('storage');
    expect(resolveAddon({ name: 'nfs-provisioner', chart: '/opt/charts/nfs.tgz' }, { 'nfs-provisioner': nfs })).toEqual({
      chart: '/opt/charts/nfs.tgz',
      namespace: 'kube-system',
      expect: {},
    });
  });

  it('the plan writes the defaults beside the node values', () => {
    const facts: HostFacts = {
      kubeletDefaults: {},
      preloadImages: [],
      manifests: [],
      controlPlaneImagesPreloaded: false,
      addons: { 'nfs-provisioner': nfs },
    };
    const config: NodeConfig = {
      ...init,
      addons: [{ name: 'nfs-provisioner', values: { nfs: { server: '10.0.0.5', path: '/export/k8s' } } }],
    };
    const step = planRole(config, facts).find((s) => s.name === 'addons')!;
    expect(step.files.map((f) => [f.path, JSON.parse(f.contents)])).toEqual([
      ['/etc/kiln/addons/nfs-provisioner.defaults.json', nfs.values],
      ['/etc/kiln/addons/nfs-provisioner.values.json', { nfs: { server: '10.0.0.5', path: '/export/k8s' } }],
    ]);
  });

  it('refuses an addon the image does not hold, and required values left out', () => {
    const config: NodeConfig = {
      ...init,
      addons: [{ name: 'nfs-provisioner', values: { nfs: { server: '10.0.0.5' } } }, { name: 'metrics-server' }],
    };
    expect(addonProblems(config, { 'nfs-provisioner': nfs })).toEqual([
      {
        path: '/addons/0/values',
        message: 'addon "nfs-provisioner" needs values.nfs.path',
        hint: expect.stringContaining('set values: { nfs: { path: … }'),
      },
      {
        path: '/addons/1/chart',
        message: 'addon "metrics-server" has no chart and this image has none baked in',
        hint: 'baked here: nfs-provisioner; or give chart (a path in the image)',
      },
    ]);
    expect(addonProblems({ ...init, addons: [{ name: 'x', chart: '/opt/x.tgz' }] }, {})).toEqual([]);
  });

  it("a baked Cilium chart of the configured version brings its values, under kiln's", () => {
    const cilium: AddonDescriptor = {
      name: 'cilium',
      chart: '/usr/share/kiln/charts/cilium-1.16.5.tgz',
      version: '1.16.5',
      namespace: 'kube-system',
      values: { image: { useDigest: false } },
      requiredValues: [],
    };
    const facts: HostFacts = {
      kubeletDefaults: {},
      preloadImages: [],
      manifests: [],
      controlPlaneImagesPreloaded: false,
      addons: { cilium },
    };
    const files = (version: string) =>
      planRole({ ...init, cilium: { version } }, facts)
        .find((s) => s.name === 'cilium')!
        .files.map((f) => f.path);
    expect(files('1.16.5')).toEqual(['/etc/kiln/addons/cilium.defaults.json', '/etc/kiln/cilium-values.yaml']);
    expect(files('1.17.0')).toEqual(['/etc/kiln/cilium-values.yaml']);
  });

  it('reads the descriptors the builder writes', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'kiln-addons-'));
    try {
      expect(readAddonDescriptors(root)).toEqual({});
      mkdirSync(path.join(root, 'usr/share/kiln/addons'), { recursive: true });
      writeFileSync(path.join(root, 'usr/share/kiln/addons/nfs-provisioner.json'), JSON.stringify(nfs));
      expect(readAddonDescriptors(root)).toEqual({ 'nfs-provisioner': nfs });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
