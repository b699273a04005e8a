// kubeadm v1beta4 / KubeletConfiguration / Cilium values rendering. Golden cases pin every file per
// node-config fixture (UPDATE_GOLDEN=1 npx vitest run --project unit test/unit/firstboot/role/kubeadm
// rewrites them); upstream's field lists (../shared/upstream/kubernetes) are the outside oracle that
// every rendered document only uses keys kubeadm and kubelet define; the rest pins kiln's rules.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { renderTemplate } from '../../../../builder/overlays/render.ts';
import { DEFAULT_KUBELET } from '../../../../builder/spec/defaults.ts';
import { caCertHash, nodeConfigProblems } from '../../../../node/config/parse.ts';
import type { NodeConfig } from '../../../../node/config/schema.ts';
import { CILIUM_VALUES, renderCiliumValues } from '../../../../firstboot/role/cilium.ts';
import {
  CONTROL_PLANE_TAINT,
  KUBEADM_CONFIG,
  KUBEADM_PATCHES,
  kubeadmArgs,
  kubeletConfig,
  renderKubeadm,
} from '../../../../firstboot/role/kubeadm.ts';
import type { HostFacts, RenderedFile } from '../../../../firstboot/role/types.ts';
import type { ClusterConfiguration, Doc, InitConfiguration, JoinConfiguration } from '../../../standins/kubeadm/config.ts';
import { kubeDocProblems } from '../../../standins/lib/kube-fields.ts';
import { NodeRoot } from '../../../standins/testing.ts';
import { repoRoot } from '../../../helpers/build.ts';
import { expectGolden } from '../../../helpers/specs.ts';
import { kubeFieldLists } from '../../../helpers/upstream.ts';

const FIXTURES = path.join(repoRoot, 'test/fixtures/firstboot/role');
const CONFIGS = path.join(FIXTURES, 'configs');
const GOLDEN = path.join(FIXTURES, 'kubeadm');
const cases = readdirSync(CONFIGS)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.replace(/\.yaml$/, ''))
  .sort();
const configOf = (name: string) => YAML.parse(readFileSync(path.join(CONFIGS, `${name}.yaml`), 'utf8')) as NodeConfig;

// What the image ships: overlays/node-tuning's template rendered with the builder's defaults.
const template = readFileSync(path.join(repoRoot, 'overlays/node-tuning/etc/kiln/kubelet-defaults.yaml.hbs'), 'utf8');
const facts: HostFacts = {
  kubeletDefaults: YAML.parse(renderTemplate(template, { kubelet: DEFAULT_KUBELET }, 'kubelet-defaults.yaml.hbs')),
  preloadImages: [],
  manifests: [],
  controlPlaneImagesPreloaded: false,
  addons: {},
};

const lists = kubeFieldLists();
const docsOf = (f: RenderedFile) => YAML.parseAllDocuments(f.contents).map((d) => d.toJS() as Record<string, unknown>);
const rendered = (config: NodeConfig) => [...renderKubeadm(config, facts), ...(config.cilium ? [renderCiliumValues(config)] : [])];
const kubeDocs = (config: NodeConfig) => renderKubeadm(config, facts).flatMap(docsOf);
/** The documents renderKubeadm writes, by kind. */
interface Kinds {
  InitConfiguration: InitConfiguration;
  JoinConfiguration: JoinConfiguration;
  ClusterConfiguration: ClusterConfiguration;
  KubeletConfiguration: Doc;
}
const byKind = <K extends keyof Kinds>(config: NodeConfig, kind: K) => kubeDocs(config).filter((d) => d.kind === kind) as Array<Kinds[K]>;
const one = <K extends keyof Kinds>(config: NodeConfig, kind: K) => byKind(config, kind)[0]!;
/** The documents with a nodeRegistration. */
const registers = (d: Doc): d is InitConfiguration | JoinConfiguration => d.kind === 'InitConfiguration' || d.kind === 'JoinConfiguration';
const clone = (name: string): NodeConfig => structuredClone(configOf(name));

/** RFC 7386 JSON merge patch, as kubeadm applies `+merge` patch files. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as object) } : {};
  for (const [k, v] of Object.entries(patch))
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  return out;
}

describe('node-config fixtures', () => {
  it('covers the roles and variants the plan and VM tests use', () => {
    expect(cases).toEqual(['control-plane', 'dual-stack', 'hyperconverged-init', 'init', 'kube-proxy', 'worker', 'worker-labels-taints']);
  });

  it('refuses networks kubeadm, kube-apiserver or kube-controller-manager would refuse, naming the field', () => {
    const with_ = (edit: (c: NodeConfig) => void) => {
      const c = clone('dual-stack');
      edit(c);
      return nodeConfigProblems(c, 'n.yaml').map((p) => `${p.path}: ${p.message}`);
    };
    expect(with_((c) => (c.cluster.serviceSubnet = '10.96.0.0/12'))).toEqual([
      "/cluster/serviceSubnet: the service networks (10.96.0.0/12) are not of the pod networks' families (IPv4 and IPv6)",
    ]);
    expect(with_((c) => (c.cluster.podSubnet = ['10.244.0.0/16', '10.245.0.0/16']))).toEqual([
      '/cluster/podSubnet: 10.244.0.0/16, 10.245.0.0/16: at most one network per address family',
    ]);
    expect(with_((c) => (c.cluster.serviceSubnet = ['10.96.0.0/12', 'fd00:10:96::/64']))).toEqual([
      '/cluster/serviceSubnet: the service network fd00:10:96::/64 is too large (64 host bits; kube-apiserver allows 20)',
    ]);
    expect(with_((c) => (c.cluster.podSubnet = ['10.244.0.0/16', 'fd00:10:244::/80']))).toEqual([
      '/cluster/podSubnet: the pod network fd00:10:244::/80 does not fit /64 node ranges (smaller than one node range)',
    ]);
    expect(with_((c) => (c.node.nodeIps = ['10.0.2.15']))).toEqual([
      "/node/nodeIps: the node's addresses (10.0.2.15) are not one per pod network family (IPv4 and IPv6)",
    ]);
    expect(with_((c) => (c.node.nodeIps = ['10.0.2.16', 'fd00:2::15']))).toEqual([
      '/node/nodeIps: the advertise address 10.0.2.15 is not among nodeIps',
    ]);
    // a dual-stack cluster with no nodeIps: kubelet would get one family only
    expect(with_((c) => delete c.node.nodeIps)).toEqual([
      "/node/advertiseAddress: the node's addresses (10.0.2.15) are not one per pod network family (IPv4 and IPv6)",
    ]);
    // kube-apiserver advertises in the first service network's family
    expect(with_((c) => (c.cluster.serviceSubnet = ['fd00:10:96::/112', '10.96.0.0/12']))).toEqual([
      '/node/advertiseAddress: the API server would advertise 10.0.2.15 (IPv4), but the first service network fd00:10:96::/112 is IPv6',
    ]);
    // single-stack: the node's address is of the pods' family
    expect(
      with_((c) => {
        delete c.node.nodeIps;
        c.cluster.podSubnet = 'fd00:10:244::/56';
        c.cluster.serviceSubnet = 'fd00:10:96::/112';
      }),
    ).toEqual([
      '/node/advertiseAddress: the API server would advertise 10.0.2.15 (IPv4), but the first service network fd00:10:96::/112 is IPv6',
      "/node/advertiseAddress: the node's addresses (10.0.2.15) are not one per pod network family (IPv6)",
    ]);
  });

  it.each(cases)('%s is a valid node config', (name) => {
    expect(nodeConfigProblems(configOf(name), `${name}.yaml`)).toEqual([]);
  });

  it('all pin the fixture CA, whose hash kubeadm would compute', () => {
    const hash = caCertHash(configOf('init').ca!.cert);
    expect(hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    for (const name of cases) expect(configOf(name).join?.caCertHashes).toEqual([hash]);
  });
});

describe('golden files', () => {
  it.each(cases)('%s', (name) => {
    const config = configOf(name);
    const files = rendered(config);
    const manifest = files.map((f) => `${f.mode.toString(8).padStart(4, '0')}${f.secret ? ' secret' : ''} ${f.path}`).join('\n');
    const expected = [...files.map((f) => path.basename(f.path)), 'files.txt', 'kubeadm-args.txt'].sort();
    expectGolden(path.join(GOLDEN, name, 'files.txt'), `${manifest}\n`);
    expectGolden(path.join(GOLDEN, name, 'kubeadm-args.txt'), `kubeadm ${kubeadmArgs(config).join(' ')}\n`);
    for (const f of files) expectGolden(path.join(GOLDEN, name, path.basename(f.path)), f.contents);
    expect(readdirSync(path.join(GOLDEN, name)).sort()).toEqual(expected);
  });

  it('is deterministic whatever order the config lists things in', () => {
    const config = clone('worker-labels-taints');
    const reversed = clone('worker-labels-taints');
    reversed.node.labels = Object.fromEntries(Object.entries(reversed.node.labels!).reverse());
    reversed.kubelet = Object.fromEntries(Object.entries(reversed.kubelet!).reverse());
    const shuffled: HostFacts = { ...facts, kubeletDefaults: Object.fromEntries(Object.entries(facts.kubeletDefaults).reverse()) };
    expect(renderKubeadm(reversed, shuffled)).toEqual(renderKubeadm(config, facts));
  });

  it('writes YAML that YAML 1.1 readers (Go in kubeadm and Helm) read the same way', () => {
    for (const name of cases)
      for (const f of rendered(configOf(name))) {
        expect(f.contents.split('\n')[0]).toBe('# generated by kiln-firstboot');
        const docs = (version: '1.1' | '1.2') => YAML.parseAllDocuments(f.contents, { version }).map((d) => d.toJS());
        expect(docs('1.1')).toEqual(docs('1.2'));
      }
    expect(renderKubeadm(configOf('worker-labels-taints'), facts)[0]!.contents).toContain('value: "true"');
  });
});

describe('upstream field lists (kubeadm v1beta4, kubelet v1beta1)', () => {
  it.each(cases)('%s: every kubeadm and kubelet document uses only upstream keys and values', (name) => {
    const docs = kubeDocs(configOf(name));
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) expect(kubeDocProblems(doc, lists), `${doc.kind}`).toEqual([]);
  });

  it.each(cases.filter((c) => configOf(c).role === 'init'))(
    "%s: the stand-in kubeadm init (kubeadm's own validation: networks, node masks, endpoints) takes the rendered config",
    async (name) => {
      const node = new NodeRoot();
      try {
        const config = configOf(name);
        for (const f of rendered(config)) node.write(f.path, f.contents, f.mode);
        const r = await node.run('kubeadm', kubeadmArgs(config));
        expect(r.code, r.stderr).toBe(0);
      } finally {
        node.cleanup();
      }
    },
  );

  it('would catch a misspelt key, a v1beta3-style map and a bad enum value', () => {
    const init = one(configOf('init'), 'InitConfiguration');
    const kubelet = one(configOf('init'), 'KubeletConfiguration');
    expect(kubeDocProblems({ ...kubelet, cgroupdriver: 'systemd' }, lists)).toEqual(['KubeletConfiguration: unknown field "cgroupdriver"']);
    expect(kubeDocProblems({ ...init, nodeRegistration: { ...init.nodeRegistration, kubeletExtraArg: [] } }, lists)).toEqual([
      'InitConfiguration: unknown field "nodeRegistration.kubeletExtraArg"',
    ]);
    expect(
      kubeDocProblems({ ...init, nodeRegistration: { ...init.nodeRegistration, kubeletExtraArgs: { 'node-ip': '10.0.2.15' } } }, lists),
    ).toEqual(['InitConfiguration: unknown field "nodeRegistration.kubeletExtraArgs.node-ip"']);
    expect(kubeDocProblems({ ...kubelet, cgroupDriver: 'systemD' }, lists)).toEqual([
      'KubeletConfiguration: cgroupDriver = "systemD" is not one of cgroupfs, systemd',
    ]);
  });

  // kubeDocProblems checks enums of scalar fields only, not of string-list items: check those here
  it.each(cases)('%s: enforceNodeAllocatable and token usages are values upstream allows', (name) => {
    const enums = Object.assign({}, ...lists.map((l) => l.enums)) as Record<string, string[]>;
    for (const doc of kubeDocs(configOf(name))) {
      for (const item of (doc.enforceNodeAllocatable as string[] | undefined) ?? [])
        expect(enums['KubeletConfiguration.enforceNodeAllocatable[]']).toContain(item);
      for (const token of (doc.bootstrapTokens as Array<{ usages: string[] }> | undefined) ?? [])
        for (const usage of token.usages) expect(enums['InitConfiguration.bootstrapTokens[].usages[]']).toContain(usage);
    }
  });
});

describe('kiln rules', () => {
  it.each(cases)('%s: imagePullPolicy Never when the image carries the control-plane images, else IfNotPresent', (name) => {
    const config = configOf(name);
    const policies = (f: HostFacts) =>
      renderKubeadm(config, f)
        .flatMap(docsOf)
        .filter(registers)
        .map((d) => d.nodeRegistration!.imagePullPolicy);
    expect(policies(facts)).toEqual(['IfNotPresent']);
    expect(policies({ ...facts, controlPlaneImagesPreloaded: true })).toEqual(['Never']);
  });

  it.each(cases)('%s: no unsafeSkipCAVerification anywhere; joins pin the CA', (name) => {
    const config = configOf(name);
    for (const f of rendered(config)) expect(f.contents).not.toMatch(/unsafeSkipCAVerification/i);
    for (const join of byKind(config, 'JoinConfiguration')) {
      expect(join.discovery!.bootstrapToken).toEqual({
        apiServerEndpoint: '10.0.2.100:6443',
        token: config.join!.token,
        caCertHashes: config.join!.caCertHashes,
      });
      expect(join.discovery!.bootstrapToken!.caCertHashes!.length).toBeGreaterThan(0);
    }
  });

  it.each(cases)('%s: skipPhases has addon/kube-proxy iff Cilium replaces kube-proxy', (name) => {
    const config = configOf(name);
    const replacing = config.cluster.kubeProxyReplacement !== false;
    for (const doc of kubeDocs(config).filter((d) => d.kind === 'InitConfiguration' || d.kind === 'JoinConfiguration'))
      expect(((doc.skipPhases as string[] | undefined) ?? []).includes('addon/kube-proxy')).toBe(
        replacing && doc.kind === 'InitConfiguration',
      );
    if (config.role === 'init') expect(one(config, 'ClusterConfiguration').proxy?.disabled === true).toBe(replacing);
  });

  it.each(cases)('%s: the token and certificate key appear only in the 0600 secret file', (name) => {
    const config = configOf(name);
    const secrets = [config.join!.token, config.join!.certificateKey].filter(Boolean) as string[];
    for (const f of rendered(config)) {
      const holds = secrets.some((s) => f.contents.includes(s));
      expect(holds, f.path).toBe(f.path === KUBEADM_CONFIG);
      if (f.path === KUBEADM_CONFIG) expect([f.mode, f.secret]).toEqual([0o600, true]);
      else expect([f.mode, f.secret]).toEqual([0o644, undefined]);
    }
  });

  it('kubeadm args: init uploads certificates only with a certificate key, and prints no secrets', () => {
    expect(kubeadmArgs(configOf('init'))).toEqual([
      'init',
      '--config',
      KUBEADM_CONFIG,
      '--upload-certs',
      '--skip-certificate-key-print',
      '--skip-token-print',
    ]);
    expect(kubeadmArgs(configOf('kube-proxy'))).toEqual(['init', '--config', KUBEADM_CONFIG, '--skip-token-print']);
    expect(kubeadmArgs(configOf('control-plane'))).toEqual(['join', '--config', KUBEADM_CONFIG]);
    expect(kubeadmArgs(configOf('worker'))).toEqual(['join', '--config', KUBEADM_CONFIG]);
  });

  it('init: VIP endpoint, bootstrap token with kubeadm defaults, certificate key, networking defaults, SANs', () => {
    const config = configOf('init');
    const init = one(config, 'InitConfiguration');
    const cluster = one(config, 'ClusterConfiguration');
    expect(init.bootstrapTokens).toEqual([
      {
        token: config.join!.token,
        description: 'kiln: joins the nodes of cluster lab',
        ttl: '24h0m0s',
        usages: ['signing', 'authentication'],
        groups: ['system:bootstrappers:kubeadm:default-node-token'],
      },
    ]);
    expect(init.certificateKey).toBe(config.join!.certificateKey);
    expect(init.localAPIEndpoint).toEqual({ advertiseAddress: '10.0.2.15', bindPort: 6443 });
    expect(cluster).toMatchObject({ clusterName: 'lab', kubernetesVersion: 'v1.31.4', controlPlaneEndpoint: '10.0.2.100:6443' });
    expect(cluster.networking).toEqual({ podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12', dnsDomain: 'cluster.local' });
    expect(cluster.apiServer!.certSANs).toEqual(['10.0.2.100', '10.0.2.15']);
    const legacy = one(configOf('kube-proxy'), 'ClusterConfiguration');
    expect(legacy.networking).toEqual({ podSubnet: '172.16.0.0/16', serviceSubnet: '172.17.0.0/16', dnsDomain: 'legacy.internal' });
    expect(legacy.kubernetesVersion).toBe('v1.31.4');
    expect(one(configOf('kube-proxy'), 'InitConfiguration').certificateKey).toBeUndefined();
  });

  it('nodeRegistration: containerd, IfNotPresent, node-ip and kubelet-settable node-labels as a v1beta4 list', () => {
    const reg = one(configOf('worker-labels-taints'), 'JoinConfiguration').nodeRegistration!;
    expect(reg).toMatchObject({ name: 'gpu-1', criSocket: 'unix:///run/containerd/containerd.sock', imagePullPolicy: 'IfNotPresent' });
    expect(reg.kubeletExtraArgs).toEqual([
      { name: 'node-ip', value: '10.0.2.22' },
      {
        name: 'node-labels',
        value:
          'example.com/accelerator=nvidia-l4,example.com/burn-in=passed,node.kubernetes.io/instance-type=gpu-large,topology.kubernetes.io/zone=rack-b',
      },
    ]);
    expect(one(configOf('worker'), 'JoinConfiguration').nodeRegistration!.kubeletExtraArgs).toEqual([
      { name: 'node-ip', value: '10.0.2.21' },
    ]);
    // an unvalidated config: kubelet would refuse to start with a node-role label, so it is left out
    const sneaky = clone('worker');
    sneaky.node.labels = { 'node-role.kubernetes.io/worker': '', 'example.com/ok': 'yes' };
    expect(one(sneaky, 'JoinConfiguration').nodeRegistration!.kubeletExtraArgs![1]).toEqual({
      name: 'node-labels',
      value: 'example.com/ok=yes',
    });
  });

  it('taints are always explicit: control planes get the default taint unless hyperconverged', () => {
    const taintsOf = (c: NodeConfig) => kubeDocs(c).find(registers)!.nodeRegistration!;
    expect(taintsOf(configOf('init')).taints).toEqual([CONTROL_PLANE_TAINT]);
    expect(taintsOf(configOf('control-plane')).taints).toEqual([CONTROL_PLANE_TAINT]);
    expect(taintsOf(configOf('hyperconverged-init')).taints).toEqual([]);
    expect(taintsOf(configOf('worker')).taints).toEqual([]);
    expect(renderKubeadm(configOf('worker'), facts)[0]!.contents).toMatch(/^ {2}taints: \[\]$/m);
    expect(taintsOf(configOf('worker-labels-taints')).taints).toEqual([
      { key: 'example.com/gpu', value: 'true', effect: 'NoSchedule' },
      { key: 'example.com/maintenance', effect: 'PreferNoSchedule' },
    ]);
    const both = clone('control-plane');
    both.node.taints = [{ key: 'example.com/etcd', effect: 'NoExecute' }, { ...CONTROL_PLANE_TAINT }];
    expect(taintsOf(both).taints).toEqual([CONTROL_PLANE_TAINT, { key: 'example.com/etcd', effect: 'NoExecute' }]);
    both.node.hyperconverged = true;
    expect(taintsOf(both).taints).toEqual([{ key: 'example.com/etcd', effect: 'NoExecute' }, CONTROL_PLANE_TAINT]);
  });

  it('joins: control planes carry the certificate key and their API endpoint; workers do not; both patch the kubelet', () => {
    const cp = one(configOf('control-plane'), 'JoinConfiguration');
    expect(cp.controlPlane).toEqual({
      certificateKey: configOf('control-plane').join!.certificateKey,
      localAPIEndpoint: { advertiseAddress: '10.0.2.16', bindPort: 6443 },
    });
    expect(one(configOf('worker'), 'JoinConfiguration').controlPlane).toBeUndefined();
    for (const name of ['control-plane', 'worker']) {
      expect(one(configOf(name), 'JoinConfiguration').patches).toEqual({ directory: KUBEADM_PATCHES });
      expect(renderKubeadm(configOf(name), facts).map((f) => f.path)).toEqual([
        KUBEADM_CONFIG,
        `${KUBEADM_PATCHES}/kubeletconfiguration0+merge.yaml`,
        `${KUBEADM_PATCHES}/kubeletconfiguration1+merge.yaml`,
      ]);
    }
    expect(renderKubeadm(configOf('init'), facts).map((f) => f.path)).toEqual([KUBEADM_CONFIG]);
  });

  it('refuses to render a join without the CA pin or a control-plane join without the certificate key', () => {
    const unpinned = clone('worker');
    delete unpinned.join!.caCertHashes;
    expect(() => renderKubeadm(unpinned, facts)).toThrow(/caCertHashes/);
    const keyless = clone('control-plane');
    delete keyless.join!.certificateKey;
    expect(() => renderKubeadm(keyless, facts)).toThrow(/certificateKey/);
  });
});

describe('kubelet configuration', () => {
  it('is the image defaults with the node settings merged over them, maps per key', () => {
    const config = configOf('worker-labels-taints');
    expect(kubeletConfig(config, facts)).toEqual({
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      cgroupDriver: 'systemd',
      kubeReservedCgroup: '/kubesvc.slice',
      systemReservedCgroup: '/system.slice',
      enforceNodeAllocatable: ['pods', 'kube-reserved', 'system-reserved'],
      maxPods: 60,
      kubeReserved: { cpu: '500m', memory: '512Mi' },
      systemReserved: { cpu: '250m', memory: '1Gi' },
      evictionHard: {
        'memory.available': '1Gi',
        'nodefs.available': '10%',
        'nodefs.inodesFree': '5%',
        'imagefs.available': '15%',
        'pid.available': '10%',
      },
      imageGCHighThresholdPercent: 75,
      imageGCLowThresholdPercent: 60,
      nodeStatusUpdateFrequency: '20s',
    });
    expect(one(configOf('init'), 'KubeletConfiguration')).toEqual(kubeletConfig(configOf('init'), facts));
    expect(one(configOf('hyperconverged-init'), 'KubeletConfiguration').maxPods).toBe(250);
  });

  it('enforces a reservation only when one is set', () => {
    const bare: HostFacts = { ...facts, kubeletDefaults: {} };
    expect(kubeletConfig(configOf('worker'), bare)).toEqual({
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      cgroupDriver: 'systemd',
      kubeReservedCgroup: '/kubesvc.slice',
      systemReservedCgroup: '/system.slice',
      enforceNodeAllocatable: ['pods'],
    });
    const kubeOnly = clone('worker');
    kubeOnly.kubelet = { kubeReserved: { memory: '1Gi' } };
    expect(kubeletConfig(kubeOnly, bare).enforceNodeAllocatable).toEqual(['pods', 'kube-reserved']);
    kubeOnly.kubelet = { kubeReserved: {}, systemReserved: { cpu: '1' } };
    expect(kubeletConfig(kubeOnly, bare).enforceNodeAllocatable).toEqual(['pods', 'system-reserved']);
    expect(kubeletConfig(configOf('worker'), facts).enforceNodeAllocatable).toEqual(['pods', 'kube-reserved', 'system-reserved']);
  });

  it("a joiner's patches turn the cluster's (init node's) kubelet config into exactly its own", () => {
    const clusterWide = clone('init');
    clusterWide.kubelet = {
      maxPods: 200,
      evictionHard: { 'nodefs.inodesFree': '9%', 'imagefs.inodesFree': '7%' },
      kubeReserved: { 'ephemeral-storage': '1Gi' },
    };
    for (const name of ['worker', 'worker-labels-taints', 'control-plane']) {
      const config = configOf(name);
      const patches = renderKubeadm(config, facts).filter((f) => f.path.startsWith(`${KUBEADM_PATCHES}/`));
      const result = patches.reduce<unknown>((acc, f) => mergePatch(acc, docsOf(f)[0]), kubeletConfig(clusterWide, facts));
      expect(result, name).toEqual(kubeletConfig(config, facts));
    }
  });
});

describe('cilium values', () => {
  const values = (c: NodeConfig) => {
    const f = renderCiliumValues(c);
    expect([f.path, f.mode, f.secret]).toEqual([CILIUM_VALUES, 0o644, undefined]);
    return YAML.parse(f.contents);
  };

  it('replaces kube-proxy and reaches the API server through the VIP, with kubeadm-allocated pod CIDRs', () => {
    expect(values(configOf('init'))).toEqual({
      kubeProxyReplacement: true,
      k8sServiceHost: '10.0.2.100',
      k8sServicePort: 6443,
      ipam: { mode: 'kubernetes' },
      ipv4: { enabled: true },
      ipv6: { enabled: false },
    });
    expect(values(configOf('kube-proxy'))).toMatchObject({
      kubeProxyReplacement: false,
      k8sServiceHost: '10.0.2.100',
      k8sServicePort: 6443,
    });
  });

  it("deep-merges the user's values over kiln's (user wins, null drops a value)", () => {
    const config = clone('init');
    config.cilium!.values = {
      ipam: { operator: { clusterPoolIPv4MaskSize: 24 } },
      k8sServicePort: 443,
      hubble: { enabled: false },
      kubeProxyReplacement: null,
    };
    expect(values(config)).toEqual({
      k8sServiceHost: '10.0.2.100',
      k8sServicePort: 443,
      ipam: { mode: 'kubernetes', operator: { clusterPoolIPv4MaskSize: 24 } },
      hubble: { enabled: false },
      ipv4: { enabled: true },
      ipv6: { enabled: false },
    });
    expect(values(configOf('hyperconverged-init')).operator).toEqual({ replicas: 1 });
  });

  it('routes an IPv6-only cluster natively (Cilium 1.16 tunnels over IPv4 only); dual-stack keeps the tunnel', () => {
    const six = clone('init');
    six.cluster.podSubnet = 'fd00:10:244::/56';
    expect(values(six)).toMatchObject({
      ipv4: { enabled: false },
      ipv6: { enabled: true },
      routingMode: 'native',
      autoDirectNodeRoutes: true,
      ipv6NativeRoutingCIDR: 'fd00:10:244::/56',
    });
    expect(values(configOf('dual-stack')).routingMode).toBeUndefined();
  });

  it('gives an IPv6 VIP without brackets', () => {
    const config = clone('init');
    config.cluster.controlPlaneEndpoint = '[fd00:10::100]:6443';
    expect(values(config)).toMatchObject({ k8sServiceHost: 'fd00:10::100', k8sServicePort: 6443 });
  });
});
