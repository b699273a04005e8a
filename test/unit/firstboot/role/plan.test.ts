// The role plan per role, as golden files: which steps, in which order, writing which files
// (paths, modes, secret flags; the file contents have their own golden tests).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import type { NodeConfig } from '../../../../node/config/schema.ts';
import { describePlan, planRole } from '../../../../firstboot/role/plan.ts';
import type { HostFacts } from '../../../../firstboot/role/types.ts';
import { expectGolden } from '../../../helpers/specs.ts';

const configs = path.resolve(import.meta.dirname, '../../../fixtures/firstboot/role/configs');
const golden = path.resolve(import.meta.dirname, '../../../fixtures/firstboot/role/plans');
const facts: HostFacts = {
  kubeletDefaults: { apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', maxPods: 110 },
  preloadImages: [],
  manifests: [],
  controlPlaneImagesPreloaded: false,
  addons: {},
};
const load = (name: string) => YAML.parse(readFileSync(path.join(configs, name), 'utf8')) as NodeConfig;

describe('role plans', () => {
  it.each(
    readdirSync(configs)
      .filter((n) => n.endsWith('.yaml'))
      .sort(),
  )('%s', (name) => {
    expectGolden(path.join(golden, name.replace(/\.yaml$/, '.txt')), `${describePlan(planRole(load(name), facts))}\n`);
  });

  it('control plane with a service VIP pool (golden)', () => {
    const cp = load('control-plane.yaml');
    const config: NodeConfig = {
      ...cp,
      keepalived: {
        interface: 'lan0',
        virtualRouterId: 51,
        priority: 140,
        externalVips: { addresses: ['10.0.2.200', '10.0.2.201', '10.0.2.202'], firstVirtualRouterId: 60, memberIndex: 1, members: 3 },
      },
    };
    expectGolden(path.join(golden, 'control-plane-with-vip-pool.txt'), `${describePlan(planRole(config, facts))}\n`);
  });

  it('adds the optional steps by condition: preloaded images, manifests, addons, the VIP pool on a worker', () => {
    const init = load('init.yaml');
    const names = (c: NodeConfig, f: HostFacts = facts) => planRole(c, f).map((s) => s.name);
    expect(names(init)).not.toContain('preload-images');
    expect(names(init, { ...facts, preloadImages: ['/var/lib/kiln/images/k8s.tar'] })).toContain('preload-images');
    expect(names(init, { ...facts, manifests: ['/etc/kiln/manifests/a.yaml'] })).toContain('manifests');
    expect(names({ ...init, addons: [{ name: 'metrics-server', chart: '/usr/share/kiln/charts/metrics-server.tgz' }] })).toContain(
      'addons',
    );
    const worker = load('worker.yaml');
    expect(names(worker)).not.toContain('keepalived');
    expect(
      names({
        ...worker,
        keepalived: {
          interface: 'lan0',
          virtualRouterId: 51,
          priority: 100,
          externalVips: { addresses: ['10.0.2.200'], firstVirtualRouterId: 60, memberIndex: 0, members: 2 },
        },
      }),
    ).toContain('keepalived');
  });

  it('never puts a secret into a world-readable file', () => {
    for (const name of readdirSync(configs).filter((n) => n.endsWith('.yaml'))) {
      const config = load(name);
      const secrets = [config.join?.token, config.join?.certificateKey, config.ca?.key, config.keepalived?.authPass].filter(
        (s): s is string => Boolean(s),
      );
      for (const file of planRole(config, facts).flatMap((s) => s.files)) {
        const holds = secrets.some((s) => file.contents.includes(s.trim().split('\n')[1] ?? s));
        if (holds) expect({ path: file.path, mode: (file.mode & 0o077).toString(8) }).toEqual({ path: file.path, mode: '0' });
      }
    }
  });
});
