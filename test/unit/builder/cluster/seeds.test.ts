// What `kiln cluster gen` writes for each node, checked by outside oracles: the upstream Ignition
// 3.4 and cloud-init schemas (../shared/upstream), kiln-firstboot's own node-config schema and its
// real parsers (the model they produce), and the kubeadm config firstboot would render from it
// against upstream's kubeadm/kubelet field lists.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import Ajv from 'ajv-draft-04';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { generateCluster } from '../../../../builder/cluster/generate.ts';
import { loadClusterFile } from '../../../../builder/cluster/load.ts';
import { discoveryHash } from '../../../../builder/cluster/pki.ts';
import { renderTemplate } from '../../../../builder/overlays/render.ts';
import { DEFAULT_KUBELET } from '../../../../builder/spec/defaults.ts';
import { nodeConfigProblems } from '../../../../node/config/parse.ts';
import { NodeConfigSchema, type NodeConfig } from '../../../../node/config/schema.ts';
import { parseIgnition } from '../../../../node/formats/ignition/parse.ts';
import { decodeMetadata } from '../../../../node/metadata/decode.ts';
import type { Provisioning } from '../../../../node/model.ts';
import { kubeadmArgs, renderKubeadm } from '../../../../firstboot/role/kubeadm.ts';
import { renderKeepalived } from '../../../../firstboot/role/keepalived.ts';
import type { HostFacts } from '../../../../firstboot/role/types.ts';
import type { Doc, JoinConfiguration } from '../../../standins/kubeadm/config.ts';
import { kubeDocProblems } from '../../../standins/lib/kube-fields.ts';
import { repoRoot } from '../../../helpers/build.ts';
import { kubeFieldLists, upstreamDir } from '../../../helpers/upstream.ts';

const EXAMPLE = path.join(repoRoot, 'images/examples/cluster-lab.yaml');
const NODES = ['cp-1', 'cp-2', 'cp-3', 'worker-1'] as const;
const ROLES: Record<string, string> = { 'cp-1': 'init', 'cp-2': 'control-plane', 'cp-3': 'control-plane', 'worker-1': 'worker' };
const ADDRESSES: Record<string, string> = { 'cp-1': '10.0.2.11', 'cp-2': '10.0.2.12', 'cp-3': '10.0.2.13', 'worker-1': '10.0.2.21' };
const MACS: Record<string, string> = {
  'cp-1': '52:54:00:6b:69:11',
  'cp-2': '52:54:00:6b:69:12',
  'cp-3': '52:54:00:6b:69:13',
  'worker-1': '52:54:00:6b:69:21',
};

const tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-seeds-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const read = (rel: string) => readFileSync(path.join(tmp, rel), 'utf8');
const userData = (node: string) => read(`nodes/${node}/nocloud/user-data`);
const ignition = (node: string) => read(`nodes/${node}/ignition.json`);
let secrets: { token: string; certificateKey: string };
let caHash: string;

beforeAll(async () => {
  await generateCluster(await loadClusterFile(EXAMPLE), EXAMPLE, tmp, { iso: async () => Buffer.alloc(0) });
  secrets = JSON.parse(read('secrets.json'));
  caHash = discoveryHash(read('pki/ca.crt'));
});

// upstream schemas: draft-04 for Ignition and cloud-config; network-config v2 is draft-07 text that
// the draft-04 Ajv compiles with its $schema dropped (as test/unit/node/formats does)
const ajv = () => new Ajv.default({ strict: false, allErrors: true, validateFormats: false });
const upstream = (rel: string) => JSON.parse(readFileSync(path.join(upstreamDir, rel), 'utf8'));
const ignitionSchema = ajv().compile(upstream('ignition/ignition-v3_4.schema.json'));
const cloudConfigSchema = ajv().compile(upstream('cloud-init/schema-cloud-config-v1.json'));
const networkSchema = ajv().compile((({ $schema: _, ...rest }) => rest)(upstream('cloud-init/schema-network-config-v2.json')));
const errorsOf = (validate: { errors?: unknown[] | null }, ok: boolean) => (ok ? [] : validate.errors);

describe('upstream schemas accept the generated metadata', () => {
  it.each(NODES)('%s: ignition.json is valid Ignition 3.4', (node) => {
    const doc = JSON.parse(ignition(node));
    expect(doc.ignition.version).toBe('3.4.0');
    expect(errorsOf(ignitionSchema, ignitionSchema(doc) as boolean)).toEqual([]);
  });

  it.each(NODES)('%s: user-data is valid cloud-config (with kiln: taken out) read as YAML 1.1', (node) => {
    const doc = YAML.parse(userData(node), { version: '1.1' }) as Record<string, unknown>;
    expect(userData(node).startsWith('#cloud-config\n')).toBe(true);
    const { kiln, ...rest } = doc;
    expect(kiln).toBeDefined();
    expect(errorsOf(cloudConfigSchema, cloudConfigSchema(rest) as boolean)).toEqual([]);
  });

  it.each(NODES)('%s: network-config is valid network-config v2, MACs still strings under YAML 1.1', (node) => {
    const doc = YAML.parse(read(`nodes/${node}/nocloud/network-config`), { version: '1.1' });
    expect(errorsOf(networkSchema, networkSchema(doc) as boolean)).toEqual([]);
    expect(doc.ethernets.lan0.match.macaddress).toBe(MACS[node]);
  });

  it('the oracles are real: a wrong type or a misspelt key fails each of them', () => {
    // upstream's Ignition schema allows unknown keys (Ignition's Go code does not): a wrong type it does catch
    const ign = JSON.parse(ignition('cp-1'));
    expect(ignitionSchema({ ...ign, storage: { ...ign.storage, files: [{ ...ign.storage.files[0], mode: '0600' }] } })).toBe(false);
    expect(cloudConfigSchema({ hostname: 'x', write_file: [] })).toBe(false);
    expect(networkSchema({ version: 2, ethernets: { lan0: { match: { macadress: '52:54:00:6b:69:11' } } } })).toBe(false);
  });
});

/** The seed as kiln-firstboot reads it from a cidata volume. */
function noCloudModel(node: string): Provisioning {
  const file = (name: string) => ({ name: `cidata/${name}`, data: Buffer.from(read(`nodes/${node}/nocloud/${name}`)) });
  return decodeMetadata({
    kind: 'nocloud',
    userData: file('user-data'),
    metaData: file('meta-data'),
    networkConfig: file('network-config'),
  });
}
const ignitionModel = (node: string) => parseIgnition(ignition(node), `${node}/ignition.json`);
const FORMATS = [
  ['nocloud', noCloudModel],
  ['ignition', ignitionModel],
] as const;

describe.each(FORMATS)("kiln-firstboot's parsers accept the %s metadata", (_format, modelOf) => {
  it.each(NODES)('%s: role, host name and address', (node) => {
    const model = modelOf(node);
    expect(model.warnings).toEqual([]);
    expect(model.hostname).toBe(node);
    expect(model.node?.role).toBe(ROLES[node]);
    expect(model.node?.node).toMatchObject({ name: node, advertiseAddress: ADDRESSES[node] });
    expect(model.node?.cluster).toMatchObject({
      name: 'lab',
      controlPlaneEndpoint: '10.0.2.100:6443',
      podSubnet: '10.244.0.0/16',
      serviceSubnet: '10.96.0.0/12',
    });
  });

  it.each(NODES)('%s: join material by role, the CA key on the init node only', (node) => {
    const config = modelOf(node).node!;
    expect(config.join?.token).toBe(secrets.token);
    expect(config.join?.caCertHashes).toEqual([caHash]);
    expect(config.join?.certificateKey).toBe(node === 'worker-1' ? undefined : secrets.certificateKey);
    expect(config.ca?.key).toBe(node === 'cp-1' ? read('pki/ca.key') : undefined);
    expect(config.ca?.cert).toBe(node === 'cp-1' ? read('pki/ca.crt') : undefined);
    expect(config.cilium?.version).toBe(node === 'cp-1' ? '1.16.5' : undefined);
    expect(config.addons?.map((a) => a.name)).toEqual(node === 'cp-1' ? ['metrics-server'] : undefined);
  });

  it.each(NODES)('%s: the network: static address on the NIC found by MAC, named lan0', (node) => {
    const network =
      modelOf(node).network.length > 0
        ? modelOf(node).network
        : modelOf(node)
            .files.filter((f) => f.path.startsWith('/etc/systemd/network/'))
            .map((f) => ({ name: path.basename(f.path), contents: (f.contents as { data: Buffer }).data.toString() }));
    const byName = Object.fromEntries(network.map((f) => [f.name, f.contents]));
    expect(Object.keys(byName).sort()).toEqual(['10-kiln-lan0.link', '10-kiln-lan0.network']);
    expect(byName['10-kiln-lan0.link']).toMatch(new RegExp(`MACAddress=${MACS[node]}[\\s\\S]*Name=lan0`));
    expect(byName['10-kiln-lan0.network']).toContain(`Address=${ADDRESSES[node]}/24`);
    expect(byName['10-kiln-lan0.network']).toContain('Gateway=10.0.2.2');
    expect(byName['10-kiln-lan0.network']).toContain('DNS=10.0.2.3');
  });
});

describe('secret files inside the metadata', () => {
  it.each(FORMATS)('%s: the node config and the CA files on the init node are secret, mode 0600', (_, modelOf) => {
    const model = modelOf('cp-1');
    const secretFiles = model.files.filter((f) => f.secret).map((f) => [f.path, f.mode.toString(8)]);
    const expected = [
      ['/etc/kubernetes/pki/front-proxy-ca.crt', '600'],
      ['/etc/kubernetes/pki/front-proxy-ca.key', '600'],
      ['/etc/kubernetes/pki/etcd/ca.crt', '600'],
      ['/etc/kubernetes/pki/etcd/ca.key', '600'],
      ['/etc/kiln/node.yaml', '600'],
    ];
    expect(secretFiles.sort()).toEqual(expected.sort());
    expect(modelOf('cp-2').files.filter((f) => f.path.startsWith('/etc/kubernetes/'))).toEqual([]);
  });

  it('the init node gets the front-proxy and etcd CAs kiln generated', () => {
    const files = noCloudModel('cp-1').files;
    const text = (p: string) => (files.find((f) => f.path === p)!.contents as { data: Buffer }).data.toString();
    expect(text('/etc/kubernetes/pki/front-proxy-ca.key')).toBe(read('pki/front-proxy-ca.key'));
    expect(text('/etc/kubernetes/pki/etcd/ca.crt')).toBe(read('pki/etcd/ca.crt'));
  });

  it('the Ignition config masks the catch-all DHCP network, as firstboot does for NoCloud', () => {
    expect(ignitionModel('cp-1').links).toMatchObject([
      { path: '/etc/systemd/network/99-kiln-default.network', target: '/dev/null', overwrite: true },
    ]);
  });
});

describe('node configs', () => {
  const configOf = (node: string) => noCloudModel(node).node!;

  it.each(NODES)("%s: valid under kiln-firstboot's NodeConfigSchema and rules; ignition carries the same", (node) => {
    expect(Value.Check(NodeConfigSchema, configOf(node))).toBe(true);
    expect(nodeConfigProblems(configOf(node), node)).toEqual([]);
    expect(ignitionModel(node).node).toEqual(configOf(node));
  });

  it('VRRP: control planes share the VIP, init first; the worker holds only the service pool', () => {
    expect(NODES.map((n) => configOf(n).keepalived?.priority)).toEqual([150, 140, 130, 100]);
    expect(configOf('worker-1').keepalived?.externalVips).toEqual({
      addresses: ['10.0.2.200'],
      firstVirtualRouterId: 60,
      memberIndex: 0,
      members: 1,
    });
    expect(configOf('cp-2').keepalived?.externalVips).toBeUndefined();
    for (const n of NODES) expect(renderKeepalived(configOf(n)).length, n).toBeGreaterThan(0);
  });

  it('instance-ids are unique and look like NoCloud ones', () => {
    const ids = NODES.map((n) => noCloudModel(n).instanceId);
    expect(new Set(ids).size).toBe(NODES.length);
    for (const [i, id] of ids.entries()) expect(id).toMatch(new RegExp(`^lab-${NODES[i]}-[0-9a-f]{12}$`));
  });
});

describe('the kubeadm config firstboot renders for each node', () => {
  const template = readFileSync(path.join(repoRoot, 'overlays/node-tuning/etc/kiln/kubelet-defaults.yaml.hbs'), 'utf8');
  const facts: HostFacts = {
    kubeletDefaults: YAML.parse(renderTemplate(template, { kubelet: DEFAULT_KUBELET }, 'kubelet-defaults.yaml.hbs')),
    preloadImages: [],
    manifests: [],
    controlPlaneImagesPreloaded: false,
    addons: {},
  };
  const lists = kubeFieldLists();
  const docsOf = (config: NodeConfig) =>
    renderKubeadm(config, facts).flatMap((f) => YAML.parseAllDocuments(f.contents).map((d) => d.toJS() as Doc));

  it.each(NODES)('%s: only keys upstream kubeadm v1beta4 and kubelet v1beta1 define', (node) => {
    const docs = docsOf(noCloudModel(node).node!);
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) expect(kubeDocProblems(doc, lists), `${doc.kind}`).toEqual([]);
  });

  it('init: kubeadm init with the token, certificate key and the cluster networks; joiners pin the CA', () => {
    const init = docsOf(noCloudModel('cp-1').node!);
    expect(kubeadmArgs(noCloudModel('cp-1').node!)).toContain('--upload-certs');
    expect(init.find((d) => d.kind === 'InitConfiguration')).toMatchObject({
      bootstrapTokens: [{ token: secrets.token }],
      certificateKey: secrets.certificateKey,
    });
    expect(init.find((d) => d.kind === 'ClusterConfiguration')).toMatchObject({
      clusterName: 'lab',
      controlPlaneEndpoint: '10.0.2.100:6443',
      networking: { podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12' },
    });
    const cp = docsOf(noCloudModel('cp-2').node!).find((d) => d.kind === 'JoinConfiguration') as JoinConfiguration;
    expect(cp.discovery!.bootstrapToken).toEqual({ apiServerEndpoint: '10.0.2.100:6443', token: secrets.token, caCertHashes: [caHash] });
    expect(cp.controlPlane).toEqual({
      certificateKey: secrets.certificateKey,
      localAPIEndpoint: { advertiseAddress: '10.0.2.12', bindPort: 6443 },
    });
    expect(docsOf(noCloudModel('worker-1').node!).find((d) => d.kind === 'JoinConfiguration')!.controlPlane).toBeUndefined();
  });
});
