// images/examples/bare-metal-ha.yaml, the cluster the bare-metal guide describes: three hyperconverged
// control planes with two NICs, the control-plane VIP on lan0, a pool of three service VIPs on the
// gateway's subnet (wan0) with policy routing so replies leave by wan0, and faster node-health
// timing. What `kiln cluster gen` writes for it: network-config v2 that upstream cloud-init's schema
// accepts, the same routes and rules in the Ignition networkd files, keepalived's pool on wan0, and
// kubeadm/kubelet with the one node-health setting spelt out consistently.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv from 'ajv-draft-04';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { generateCluster, type GenOptions } from '../../../../builder/cluster/generate.ts';
import { loadClusterFile, parseClusterSpec } from '../../../../builder/cluster/load.ts';
import { ValidationError } from '../../../../core/errors.ts';
import { renderKeepalived } from '../../../../firstboot/role/keepalived.ts';
import { renderKubeadm } from '../../../../firstboot/role/kubeadm.ts';
import type { HostFacts } from '../../../../firstboot/role/types.ts';
import { nodeConfigProblems } from '../../../../node/config/parse.ts';
import type { NodeConfig } from '../../../../node/config/schema.ts';
import { kubeDocProblems } from '../../../standins/lib/kube-fields.ts';
import { repoRoot } from '../../../helpers/build.ts';
import { kubeFieldLists, upstreamDir } from '../../../helpers/upstream.ts';

const EXAMPLE = path.join(repoRoot, 'images/examples/bare-metal-ha.yaml');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-metal-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const fakeIso: GenOptions['iso'] = async (seed) => Buffer.from(JSON.stringify(seed));
const facts: HostFacts = { kubeletDefaults: {}, preloadImages: [], manifests: [], controlPlaneImagesPreloaded: false, addons: {} };
const schemaV2 = (() => {
  const schema = JSON.parse(readFileSync(path.join(upstreamDir, 'cloud-init/schema-network-config-v2.json'), 'utf8'));
  delete schema.$schema;
  return new Ajv.default({ strict: false, allErrors: true }).compile(schema);
})();

const dir = path.join(tmp, 'out');
const configOf = (node: string) =>
  YAML.parse(readFileSync(path.join(dir, 'nodes', node, 'nocloud/user-data'), 'utf8').replace(/^#cloud-config\n/, '')).kiln as NodeConfig;
const networkd = (node: string) => {
  const ign = JSON.parse(readFileSync(path.join(dir, 'nodes', node, 'ignition.json'), 'utf8'));
  return Object.fromEntries(
    (ign.storage.files as Array<{ path: string; contents: { source: string } }>)
      .filter((f) => f.path.startsWith('/etc/systemd/network/'))
      .map((f) => [path.basename(f.path), Buffer.from(f.contents.source.split(',')[1]!, 'base64').toString('utf8')]),
  );
};

beforeAll(async () => {
  await generateCluster(await loadClusterFile(EXAMPLE), EXAMPLE, dir, { iso: fakeIso });
});

describe('the bare-metal HA example', () => {
  it.each(['cp-1', 'cp-2', 'cp-3'])(
    '%s: policy routing in network-config v2 (upstream schema) and in the Ignition networkd files',
    (node) => {
      const text = readFileSync(path.join(dir, 'nodes', node, 'nocloud/network-config'), 'utf8');
      const doc = YAML.parse(text);
      // upstream's v2 schema lists only to, via and metric for routes (netplan has table too): the
      // seed passes it once exactly those keys are taken out, and not before
      expect(schemaV2(doc)).toBe(false);
      const stripped = structuredClone(doc);
      for (const itf of Object.values(stripped.ethernets) as Array<{ routes?: Array<Record<string, unknown>> }>)
        for (const r of itf.routes ?? []) delete r.table;
      expect(schemaV2(stripped), JSON.stringify(schemaV2.errors)).toBe(true);
      expect(doc.ethernets.wan0.routes).toEqual([{ to: 'default', via: '192.0.2.1', table: 100 }]);
      expect(doc.ethernets.wan0['routing-policy']).toEqual([{ from: '192.0.2.0/24', table: 100, priority: 100 }]);
      const wan = networkd(node)['10-kiln-wan0.network']!;
      expect(wan).toContain('[Route]\nDestination=0.0.0.0/0\nGateway=192.0.2.1\nTable=100\n');
      expect(wan).toContain('[RoutingPolicyRule]\nFrom=192.0.2.0/24\nTable=100\nPriority=100\n');
      // the main table keeps lan0's default route
      expect(networkd(node)['10-kiln-lan0.network']).toContain('[Route]\nDestination=0.0.0.0/0\nGateway=10.10.0.1\n');
      expect(nodeConfigProblems(configOf(node), 'user-data')).toEqual([]);
    },
  );

  it('runs the control-plane VIP on lan0 and the service pool on wan0, each VIP preferring another node', () => {
    const holders = new Map<string, { vrid: number; priority: number }[]>();
    for (const node of ['cp-1', 'cp-2', 'cp-3']) {
      const conf = renderKeepalived(configOf(node)).find((f) => f.path === '/etc/keepalived/keepalived.conf')!.contents;
      const blocks = conf.split('vrrp_instance ').slice(1);
      expect(blocks.filter((b) => b.includes('interface lan0')).map((b) => b.split(' ')[0])).toEqual(['kiln_apiserver']);
      const pool = blocks.filter((b) => b.includes('interface wan0'));
      expect(pool.map((b) => /virtual_ipaddress \{\n\s+(\S+)/.exec(b)![1])).toEqual(['192.0.2.200/32', '192.0.2.201/32', '192.0.2.202/32']);
      holders.set(
        node,
        pool.map((b) => ({ vrid: Number(/virtual_router_id (\d+)/.exec(b)![1]), priority: Number(/priority (\d+)/.exec(b)![1]) })),
      );
    }
    // for each pool VIP the highest priority is a different node
    const preferred = [0, 1, 2].map((v) => [...holders.entries()].sort((a, b) => b[1][v]!.priority - a[1][v]!.priority)[0]![0]);
    expect(new Set(preferred).size).toBe(3);
  });

  it('spells the one node-health setting out for kube-controller-manager and every kubelet', () => {
    const lists = kubeFieldLists();
    for (const node of ['cp-1', 'cp-2', 'cp-3']) {
      const config = configOf(node);
      expect(config.cluster.nodeHealth).toEqual({
        nodeMonitorGracePeriod: '20s',
        nodeMonitorPeriod: '3s',
        nodeStatusUpdateFrequency: '5s',
      });
      const docs = renderKubeadm(config, facts).flatMap((f) => YAML.parseAllDocuments(f.contents).map((d) => d.toJS()));
      for (const d of docs) expect(kubeDocProblems(d, lists), `${node} ${d.kind}`).toEqual([]);
      // init: its KubeletConfiguration; joiners: the last of their kubelet patches
      expect(docs.filter((d) => d.kind === 'KubeletConfiguration').at(-1)).toMatchObject({
        nodeStatusUpdateFrequency: '5s',
        nodeStatusReportFrequency: '5s',
        nodeLeaseDurationSeconds: 20,
      });
      if (config.role === 'init')
        expect(docs.find((d) => d.kind === 'ClusterConfiguration').controllerManager.extraArgs).toEqual([
          { name: 'node-monitor-grace-period', value: '20s' },
          { name: 'node-monitor-period', value: '3s' },
        ]);
    }
  });

  it('refuses a pool interface a member lacks, a pool VIP off its link, a route via an unreachable gateway, and node timing that flaps', () => {
    const text = readFileSync(EXAMPLE, 'utf8');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a YAML document edited in place
    const problems = (edit: (d: Record<string, any>) => void) => {
      const d = YAML.parse(text);
      edit(d);
      try {
        parseClusterSpec(YAML.stringify(d), 'metal.yaml');
        return [];
      } catch (e) {
        if (!(e instanceof ValidationError)) throw e;
        return e.problems.map((p) => `${p.path}: ${p.message}`);
      }
    };
    expect(problems(() => {})).toEqual([]);
    expect(problems((d) => (d.nodes[2].interfaces = d.nodes[2].interfaces.slice(0, 1)))).toEqual([
      '/nodes/2/interfaces: cp-3 holds the VIP pool and has no interface wan0 (keepalived.externalVips.interface)',
    ]);
    expect(problems((d) => (d.keepalived.externalVips.addresses[1] = '198.51.100.9'))).toEqual(
      ['cp-1', 'cp-2', 'cp-3'].map(
        (n, i) =>
          `/nodes/${i}/interfaces/1/addresses: the pool VIP 198.51.100.9 is not in any subnet of ${n}'s wan0 (192.0.2.1${i + 1}/24)`,
      ),
    );
    expect(problems((d) => (d.nodes[0].interfaces[1].routes[0].via = '198.51.100.1'))).toEqual([
      '/nodes/0/interfaces/1/routes/0/via: gateway 198.51.100.1 is not in a subnet of wan0 (192.0.2.11/24)',
    ]);
    expect(problems((d) => delete d.nodes[0].interfaces[1].routingPolicy)).toEqual([
      '/nodes/0/interfaces/1/routes/0/table: no routingPolicy rule of cp-1 looks up table 100',
    ]);
    expect(problems((d) => (d.nodeHealth.gracePeriod = 4))).toEqual([
      '/nodeHealth/gracePeriod: 4: expected integer to be greater or equal to 8',
    ]);
  });
});
