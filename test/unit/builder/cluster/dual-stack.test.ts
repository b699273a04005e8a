// A dual-stack cluster from spec to kubeadm: images/examples/cluster-lab.yaml given pod and service
// networks of both families and an IPv6 address on every node; `kiln cluster gen` carries both into
// each node config, and what firstboot renders from it is kubeadm's dual-stack form (comma lists,
// --node-ip per family, upstream keys only) and Cilium with both families on.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { generateCluster, type GenOptions } from '../../../../builder/cluster/generate.ts';
import { parseClusterSpec } from '../../../../builder/cluster/load.ts';
import { ValidationError } from '../../../../core/errors.ts';
import { renderCiliumValues } from '../../../../firstboot/role/cilium.ts';
import { renderKubeadm } from '../../../../firstboot/role/kubeadm.ts';
import type { HostFacts } from '../../../../firstboot/role/types.ts';
import type { NodeConfig } from '../../../../node/config/schema.ts';
import { kubeDocProblems } from '../../../standins/lib/kube-fields.ts';
import { repoRoot } from '../../../helpers/build.ts';
import { kubeFieldLists } from '../../../helpers/upstream.ts';

const EXAMPLE = path.join(repoRoot, 'images/examples/cluster-lab.yaml');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-dual-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const fakeIso: GenOptions['iso'] = async (seed) => Buffer.from(JSON.stringify(seed));
const facts: HostFacts = { kubeletDefaults: {}, preloadImages: [], manifests: [], controlPlaneImagesPreloaded: false, addons: {} };

/** The example made dual-stack (edit breaks it in one further way). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a YAML document edited in place
function dualStack(edit: (d: Record<string, any>) => void = () => {}): string {
  const d = YAML.parse(readFileSync(EXAMPLE, 'utf8'));
  d.network.podSubnet = ['10.244.0.0/16', 'fd00:10:244::/56'];
  d.network.serviceSubnet = ['10.96.0.0/12', 'fd00:10:96::/112'];
  for (const n of d.nodes) n.interfaces[0].addresses.push(`fd00:2::${n.interfaces[0].addresses[0].split('.')[3].split('/')[0]}/64`);
  d.keepalived.externalVips.addresses.push('fd00:2::200');
  edit(d);
  return YAML.stringify(d);
}

const problems = (text: string) => {
  try {
    parseClusterSpec(text, 'dual.yaml');
    return [];
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    return e.problems.map((p) => `${p.path}: ${p.message}`);
  }
};

describe('a dual-stack cluster', () => {
  it('gives every node both families, and kubeadm and Cilium what dual-stack needs', async () => {
    const spec = parseClusterSpec(dualStack(), 'dual.yaml');
    const dir = path.join(tmp, 'gen');
    await generateCluster(spec, EXAMPLE, dir, { iso: fakeIso });
    const lists = kubeFieldLists();
    for (const node of spec.nodes) {
      const userData = readFileSync(path.join(dir, 'nodes', node.name, 'nocloud/user-data'), 'utf8');
      const config = YAML.parse(userData.replace(/^#cloud-config\n/, '')).kiln as NodeConfig;
      const v4 = node.interfaces[0]!.addresses[0]!.split('/')[0]!;
      expect(config.cluster.podSubnet).toEqual(['10.244.0.0/16', 'fd00:10:244::/56']);
      expect(config.node.nodeIps).toEqual([v4, `fd00:2::${v4.split('.')[3]}`]);
      const docs = renderKubeadm(config, facts).flatMap((f) => YAML.parseAllDocuments(f.contents).map((d) => d.toJS()));
      for (const doc of docs) expect(kubeDocProblems(doc, lists), `${node.name} ${doc.kind}`).toEqual([]);
      const registration = docs.find((d) => d.nodeRegistration)!.nodeRegistration;
      expect(registration.kubeletExtraArgs).toContainEqual({ name: 'node-ip', value: `${v4},fd00:2::${v4.split('.')[3]}` });
      if (node.role === 'init') {
        const cluster = docs.find((d) => d.kind === 'ClusterConfiguration')!;
        expect(cluster.networking).toMatchObject({
          podSubnet: '10.244.0.0/16,fd00:10:244::/56',
          serviceSubnet: '10.96.0.0/12,fd00:10:96::/112',
        });
        expect(YAML.parse(renderCiliumValues(config).contents)).toMatchObject({
          ipv4: { enabled: true },
          ipv6: { enabled: true },
          ipam: { mode: 'kubernetes' },
        });
      }
    }
    // the service VIP pool keeps one instance per address, of either family
    const worker = YAML.parse(
      readFileSync(path.join(dir, 'nodes/worker-1/nocloud/user-data'), 'utf8').replace(/^#cloud-config\n/, ''),
    ).kiln;
    expect(worker.keepalived.externalVips.addresses).toEqual(['10.0.2.200', 'fd00:2::200']);
  });

  it('refuses what kubeadm would: a node without an address of each family, services of one family, too large a range', () => {
    expect(problems(dualStack())).toEqual([]);
    expect(problems(dualStack((d) => d.nodes[3].interfaces[0].addresses.pop()))).toEqual([
      "/nodes/3/interfaces: worker-1: the node's addresses (10.0.2.21) are not one per pod network family (IPv4 and IPv6)",
      // the worker holds the IPv6 pool VIP too
      "/nodes/3/interfaces/0/addresses: the pool VIP fd00:2::200 is not in any subnet of worker-1's lan0 (10.0.2.21/24)",
    ]);
    expect(problems(dualStack((d) => (d.network.serviceSubnet = '10.96.0.0/12')))).toEqual([
      "/network/serviceSubnet: the service networks (10.96.0.0/12) are not of the pod networks' families (IPv4 and IPv6)",
    ]);
    expect(problems(dualStack((d) => (d.network.serviceSubnet = ['10.96.0.0/12', 'fd00:10:96::/96'])))).toEqual([
      '/network/serviceSubnet: the service network fd00:10:96::/96 is too large (32 host bits; kube-apiserver allows 20)',
    ]);
    expect(problems(dualStack((d) => (d.network.podSubnet = ['10.244.0.0/16', 'fd00:10:244::/56', 'fd00:11::/56'])))[0]).toMatch(
      /^\/network\/podSubnet: .*expected union value/,
    );
  });
});
