// Malformed cluster specs: each row breaks images/examples/cluster-lab.yaml in one small way and
// pins down what the user is told — the JSON pointer, the message, a hint, and file:line:col
// pointing at the line to fix. Plus: the example itself is valid, and the schema exports.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import {
  all,
  del,
  expectRow,
  mutated as mutateText,
  problemsOf as problemsIn,
  rename,
  set,
  type Mutation,
  type Row,
} from '../../../helpers/malformed.ts';
import { CLUSTER_RULES } from '../../../../builder/cluster/semantics.ts';
import { loadClusterFile, parseClusterSpec } from '../../../../builder/cluster/load.ts';
import { exportSchema } from '../../../../builder/commands/schema.ts';
import { repoRoot } from '../../../helpers/build.ts';

const EXAMPLE = path.join(repoRoot, 'images/examples/cluster-lab.yaml');
const TEXT = readFileSync(EXAMPLE, 'utf8');
const FILE = 'cluster.yaml';

const lan = (i: number) => ['nodes', i, 'interfaces', 0];
const mutated = (m: Mutation) => mutateText(TEXT, m);
const problemsOf = (text: string) => problemsIn(parseClusterSpec, text, FILE);

const rows: Row[] = [
  // --- the document ---
  {
    name: 'not a mapping',
    text: '- kind: Cluster\n',
    path: '',
    message: 'the cluster spec must be a YAML mapping',
    hint: /cluster-lab\.yaml/,
    at: null,
  },
  {
    name: 'duplicate key',
    text: TEXT.replace('kind: Cluster\n', 'kind: Cluster\nkind: Cluster\n'),
    path: '',
    message: /a key appears twice in the same mapping/,
    at: 'kind: Cluster',
  },
  {
    name: 'wrong apiVersion',
    mutate: set(['apiVersion'], 'kiln.dev/v1'),
    path: '/apiVersion',
    message: /expected 'kiln\.dev\/v1alpha1'/,
    hint: 'apiVersion: kiln.dev/v1alpha1',
  },
  {
    name: 'an image spec given as a cluster',
    mutate: set(['kind'], 'Image'),
    path: '/kind',
    message: `"Image": expected 'Cluster'`,
    hint: 'kind: Cluster',
  },
  {
    name: 'unknown top-level key (typo)',
    mutate: rename(['keepalived'], 'keepalive'),
    path: '/keepalive',
    message: 'unknown key "keepalive"',
    hint: /did you mean "keepalived"\?/,
  },
  {
    name: 'unknown node key',
    mutate: set(['nodes', 0, 'ip'], '10.0.2.11'),
    path: '/nodes/0/ip',
    message: 'unknown key "ip"',
    hint: /allowed here: name, role, interfaces/,
  },
  {
    name: 'no nodes',
    mutate: set(['nodes'], []),
    path: '/nodes',
    message: /expected array length to be greater or equal to 1/,
    at: 'nodes: []',
  },
  {
    name: 'missing keepalived',
    mutate: del(['keepalived']),
    path: '/keepalived',
    message: 'missing required key "keepalived"',
    hint: /keepalived VRRP/,
    at: /^apiVersion:/,
  },
  // --- values ---
  {
    name: 'kubernetes version without v',
    mutate: set(['kubernetes', 'version'], '1.31.4'),
    path: '/kubernetes/version',
    message: /"1\.31\.4": expected string to match/,
    hint: /v1\.31\.4/,
  },
  {
    name: 'cluster name with capitals',
    mutate: set(['name'], 'Lab'),
    path: '/name',
    message: /"Lab": expected string to match/,
    hint: /DNS label/,
  },
  {
    name: 'VIP not an address',
    mutate: set(['controlPlane', 'vip'], '10.0.2'),
    path: '/controlPlane/vip',
    message: /"10\.0\.2": expected string to match 'kiln-ip' format/,
    hint: /the address the API server answers on/,
  },
  {
    name: 'port out of range',
    mutate: set(['controlPlane', 'port'], 70000),
    path: '/controlPlane/port',
    message: /^70000: /,
    hint: /6443/,
  },
  {
    name: 'unknown key algorithm',
    mutate: set(['pki', 'algorithm'], 'rsa-4096'),
    path: '/pki/algorithm',
    message: '"rsa-4096" is not one of: rsa-2048, ecdsa-p256',
    hint: /kubeadm's default/,
  },
  {
    name: 'role master',
    mutate: set(['nodes', 1, 'role'], 'master'),
    path: '/nodes/1/role',
    message: '"master" is not one of: init, control-plane, worker',
    hint: /kubeadm init/,
  },
  {
    name: 'MAC malformed',
    mutate: set([...lan(0), 'mac'], '52:54:00:6b:69'),
    path: '/nodes/0/interfaces/0/mac',
    message: /expected string to match/,
    hint: /52:54:00/,
  },
  {
    name: 'address without prefix length',
    mutate: set([...lan(0), 'addresses'], ['10.0.2.11']),
    path: '/nodes/0/interfaces/0/addresses/0',
    message: /kiln-cidr/,
    hint: /prefix length/,
    at: '10.0.2.11',
  },
  {
    name: 'interface name too long',
    mutate: set([...lan(3), 'name'], 'enp0s31f6-uplink0'),
    path: '/nodes/3/interfaces/0/name',
    message: /expected string to match/,
    hint: /15 characters/,
  },
  {
    name: 'virtual router id 300',
    mutate: set(['keepalived', 'virtualRouterId'], 300),
    path: '/keepalived/virtualRouterId',
    message: /^300: /,
    hint: /1 to 255/,
  },
  {
    name: 'bad cilium version',
    mutate: set(['cilium', 'version'], 'v1.16'),
    path: '/cilium/version',
    message: /expected string to match/,
    hint: /1\.16\.5/,
  },
  // --- semantic rules ---
  {
    name: 'no init node',
    mutate: set(['nodes', 0, 'role'], 'control-plane'),
    path: '/nodes',
    message: 'no node has role init',
    hint: /exactly one/,
  },
  {
    name: 'two init nodes',
    mutate: set(['nodes', 2, 'role'], 'init'),
    path: '/nodes/2/role',
    message: 'a second init node (the first is /nodes/0)',
    hint: /role: control-plane/,
  },
  {
    name: 'duplicate node name',
    mutate: set(['nodes', 1, 'name'], 'cp-1'),
    path: '/nodes/1/name',
    message: 'node name "cp-1" is taken by /nodes/0',
    hint: /one per machine/,
  },
  {
    name: 'duplicate address',
    mutate: set([...lan(2), 'addresses'], ['10.0.2.11/24']),
    path: '/nodes/2/interfaces/0/addresses/0',
    message: "10.0.2.11 is also cp-1's address (/nodes/0/interfaces/0/addresses/0)",
    hint: /unique/,
    at: '10.0.2.11/24',
  },
  {
    name: 'duplicate MAC, other case',
    mutate: set([...lan(3), 'mac'], '52:54:00:6B:69:11'),
    path: '/nodes/3/interfaces/0/mac',
    message: "MAC 52:54:00:6b:69:11 is also cp-1's (/nodes/0/interfaces/0/mac)",
    hint: /own MACs/,
  },
  {
    name: 'two interfaces with one name',
    mutate: set(['nodes', 3, 'interfaces', 1], { name: 'lan0', addresses: ['192.168.7.21/24'] }),
    path: '/nodes/3/interfaces/1/name',
    message: 'worker-1 has two interfaces named lan0 (also /nodes/3/interfaces/0)',
    hint: /differently/,
  },
  {
    name: 'advertise address not its own',
    mutate: set(['nodes', 1, 'advertiseAddress'], '10.0.2.99'),
    path: '/nodes/1/advertiseAddress',
    message: "10.0.2.99 is not one of cp-2's interface addresses",
    hint: 'use one of: 10.0.2.12',
  },
  {
    name: 'VIP is a node address',
    mutate: set(['controlPlane', 'vip'], '10.0.2.13'),
    path: '/controlPlane/vip',
    message: "the VIP 10.0.2.13 is cp-3's own address (/nodes/2/interfaces/0/addresses/0)",
    hint: /free address/,
  },
  {
    name: 'VIP outside the control-plane subnet',
    mutate: set([...lan(2), 'addresses'], ['10.0.3.13/24']),
    path: '/nodes/2/interfaces/0/addresses',
    message: "the VIP 10.0.2.100 is not in any subnet of cp-3's lan0 (10.0.3.13/24)",
    hint: /layer-2/,
  },
  {
    name: 'no keepalived interface on a control plane',
    mutate: set([...lan(1), 'name'], 'eth0'),
    path: '/nodes/1/interfaces',
    message: 'cp-2 has no interface lan0 (keepalived.interface)',
    hint: /name that NIC so/,
  },
  {
    name: 'node address inside the pod subnet',
    mutate: set(['network', 'podSubnet'], '10.0.0.0/16'),
    path: '/nodes/0/interfaces/0/addresses/0',
    message: '10.0.2.11 lies in the podSubnet 10.0.0.0/16',
    hint: /network\.podSubnet/,
    at: '10.0.2.11/24',
  },
  {
    name: 'VIP inside the service subnet',
    mutate: set(['network', 'serviceSubnet'], '10.0.2.96/27'),
    path: '/controlPlane/vip',
    message: '10.0.2.100 lies in the serviceSubnet 10.0.2.96/27',
    hint: /network\.serviceSubnet/,
  },
  {
    name: 'pod and service subnets overlap',
    mutate: set(['network', 'serviceSubnet'], '10.244.128.0/17'),
    path: '/network/serviceSubnet',
    message: 'the pod subnet 10.244.0.0/16 and the service subnet 10.244.128.0/17 overlap',
    hint: /10\.96\.0\.0\/12/,
  },
  {
    name: 'gateway off the link',
    mutate: set([...lan(0), 'gateway'], '192.168.1.1'),
    path: '/nodes/0/interfaces/0/gateway',
    message: 'gateway 192.168.1.1 is not in a subnet of lan0 (10.0.2.11/24)',
    hint: /same link/,
  },
  {
    name: 'two default routes',
    mutate: set(['nodes', 3, 'interfaces', 1], { name: 'san0', addresses: ['192.168.7.21/24'], gateway: '192.168.7.1' }),
    path: '/nodes/3/interfaces/1/gateway',
    message: 'worker-1 has more than one IPv4 default route in the main table',
    hint: /one default route per node/,
  },
  {
    name: 'a gateway and a default route in the main table',
    mutate: set(['nodes', 3, 'interfaces', 0, 'routes'], [{ to: 'default', via: '10.0.2.254' }]),
    path: '/nodes/3/interfaces/0/routes/0',
    message: 'worker-1 has more than one IPv4 default route in the main table',
    hint: /a table of their own/,
  },
  {
    name: 'a rule looking up a table no route goes into',
    mutate: set(['nodes', 3, 'interfaces', 0, 'routingPolicy'], [{ from: '10.0.2.0/24', table: 100 }]),
    path: '/nodes/3/interfaces/0/routingPolicy/0/table',
    message: 'no route of worker-1 goes into table 100',
    hint: /add routes with table: 100/,
  },
  {
    name: 'four control planes',
    mutate: set(['nodes', 3, 'role'], 'control-plane'),
    path: '/nodes',
    message: /4 control planes: etcd needs a majority/,
    hint: /odd number/,
  },
  {
    name: 'nowhere for pods',
    mutate: all(del(['nodes', 3]), del(['keepalived', 'externalVips'])),
    path: '/nodes',
    message: /pods would have nowhere to run/,
    hint: /hyperconverged: true/,
  },
  {
    name: 'hyperconverged worker',
    mutate: set(['nodes', 3, 'hyperconverged'], true),
    path: '/nodes/3/hyperconverged',
    message: 'a worker has no control-plane taint to drop',
    hint: /control plane/,
  },
  {
    name: 'label kubelet may not set',
    mutate: set(['nodes', 3, 'labels'], { 'node-role.kubernetes.io/worker': '' }),
    path: '/nodes/3/labels/node-role.kubernetes.io~1worker',
    message: /NodeRestriction/,
    hint: /your own prefix/,
  },
  {
    name: 'pool member unknown',
    mutate: set(['keepalived', 'externalVips', 'nodes'], ['worker-9']),
    path: '/keepalived/externalVips/nodes/0',
    message: 'no node is named "worker-9"',
    hint: /cp-1, cp-2, cp-3, worker-1/,
    at: 'worker-9',
  },
  {
    name: 'pool VIP is the control-plane VIP',
    mutate: set(['keepalived', 'externalVips', 'addresses'], ['10.0.2.100']),
    path: '/keepalived/externalVips/addresses/0',
    message: '10.0.2.100 is already the control-plane VIP',
    hint: /free addresses/,
    at: '10.0.2.100',
  },
  {
    name: 'pool router ids include the VIP one',
    mutate: set(['keepalived', 'externalVips', 'firstVirtualRouterId'], 51),
    path: '/keepalived/externalVips/firstVirtualRouterId',
    message: "router ids 51–51 include the control-plane VIP's 51",
    hint: /range of its own/,
  },
  {
    name: 'pool router ids past 255',
    mutate: all(
      set(['keepalived', 'externalVips', 'firstVirtualRouterId'], 255),
      set(['keepalived', 'externalVips', 'addresses'], ['10.0.2.200', '10.0.2.201']),
    ),
    path: '/keepalived/externalVips/firstVirtualRouterId',
    message: '2 VIPs from router id 255 run past 255',
    hint: 'start at 254 or lower',
  },
  {
    name: 'addon twice',
    mutate: set(['addons'], [{ name: 'metrics-server' }, { name: 'metrics-server' }]),
    path: '/addons/1/name',
    message: 'metrics-server is listed twice (also /addons/0)',
    hint: /once/,
  },
  {
    name: 'cilium as an addon',
    mutate: set(['addons'], [{ name: 'cilium' }]),
    path: '/addons/0/name',
    message: 'Cilium is the CNI, not an addon here',
    hint: /cilium:/,
  },
  {
    name: 'IPv6 VIP with IPv4 nodes',
    mutate: set(['controlPlane', 'vip'], 'fd00::100'),
    path: '/nodes/0',
    message: /another address family than the VIP fd00::100/,
    hint: /same family/,
    at: /- name: cp-1/,
  },
];

describe('the example cluster spec', () => {
  it('is valid', async () => {
    const spec = await loadClusterFile(EXAMPLE);
    expect(spec.nodes.map((n) => [n.name, n.role])).toEqual([
      ['cp-1', 'init'],
      ['cp-2', 'control-plane'],
      ['cp-3', 'control-plane'],
      ['worker-1', 'worker'],
    ]);
  });

  it('a missing file is bad input (exit 2) naming the file', async () => {
    await expect(loadClusterFile('/nonexistent/cluster.yaml')).rejects.toMatchObject({ exitCode: 2, file: '/nonexistent/cluster.yaml' });
  });
});

describe('malformed cluster specs', () => {
  it('has a broad table', () => {
    expect(rows.length).toBeGreaterThanOrEqual(CLUSTER_RULES.length + 15);
    expect(new Set(rows.map((r) => r.name)).size).toBe(rows.length);
  });

  it.each(rows)('$name → $path', (row) => {
    const text = row.text ?? mutated(row.mutate!);
    expectRow(row, text, problemsOf(text), FILE);
  });

  it('reports every problem at once, sorted by line', () => {
    const text = mutated(
      all(set(['nodes', 1, 'name'], 'cp-1'), set([...lan(3), 'mac'], '52:54:00:6b:69:11'), set(['pki', 'algorithm'], 'dsa')),
    );
    const problems = problemsOf(text);
    expect(problems.map((p) => p.path)).toEqual(['/pki/algorithm', '/nodes/1/name', '/nodes/3/interfaces/0/mac']);
  });
});

describe('kiln schema cluster', () => {
  it('exports the cluster schema without kiln-private keys', () => {
    const schema = JSON.parse(exportSchema('cluster'));
    expect(schema.title).toBe('kiln cluster spec');
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['controlPlane', 'keepalived', 'nodes', 'pki']));
    expect(JSON.stringify(schema)).not.toMatch(/"x-hint"|kiln-cidr/);
  });

  it('editors validating with it accept the example and flag an unknown key', () => {
    const validate = new Ajv({ strict: false, allErrors: true }).compile(JSON.parse(exportSchema('cluster')));
    const example = parseDocument(TEXT).toJS();
    expect(validate(example) ? [] : validate.errors).toEqual([]);
    expect(validate(parseDocument(mutated(set(['nodes', 0, 'ip'], '10.0.2.11'))).toJS())).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath)).toContain('/nodes/0');
  });
});
