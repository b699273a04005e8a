// TEST ONLY. The files kubeadm leaves on a node, simulated under the root: certificate stubs (or
// the CA kiln placed), kubeconfigs, static Pod manifests; and the node it registers in the
// simulated cluster.
import { createHash, X509Certificate } from 'node:crypto';
import { Refusal, STANDIN, toYaml, type ClusterState, type Ctx, type NodeState } from '../lib/context.ts';
import { makeKubeconfig } from '../lib/kubeconfig.ts';
import { GOARCH } from '../lib/version.ts';
import type { APIEndpoint, ClusterConfiguration, Doc, Taint } from './config.ts';
import { isSkipped } from './flags.ts';
import { applyPatches, type PatchSet } from './patches.ts';

export const MANIFESTS = '/etc/kubernetes/manifests';
export const STATIC_PODS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'] as const;

// --- certificates -------------------------------------------------------------------------------

/** What control planes share (the "kubeadm-certs" Secret, or copied by hand), under the certificate directory. */
export const SHARED_CERTS = [
  'ca.crt',
  'ca.key',
  'sa.key',
  'sa.pub',
  'front-proxy-ca.crt',
  'front-proxy-ca.key',
  'etcd/ca.crt',
  'etcd/ca.key',
];
const NODE_CERTS = ['apiserver.crt', 'apiserver.key', 'apiserver-kubelet-client.crt', 'apiserver-kubelet-client.key'];

export const STUB_PEM = (what: string) => `-----BEGIN ${what}-----\nkiln-test-standin stub\n-----END ${what}-----\n`;

/** Stubs of the shared certificates and keys (and, unless `sharedOnly`, the node's own); files already there are kept. */
export function writeCerts(ctx: Ctx, dir: string, sharedOnly: boolean): void {
  for (const f of sharedOnly ? SHARED_CERTS : [...SHARED_CERTS, ...NODE_CERTS]) {
    if (ctx.exists(`${dir}/${f}`)) continue;
    if (f.endsWith('.key')) ctx.write(`${dir}/${f}`, STUB_PEM('RSA PRIVATE KEY'), 0o600);
    else ctx.write(`${dir}/${f}`, STUB_PEM(f.endsWith('.pub') ? 'PUBLIC KEY' : 'CERTIFICATE'));
  }
}

/** kubeadm's pin of a CA (pubkeypin.Hash): sha256 of its SubjectPublicKeyInfo; undefined when `pem` is no certificate.
 *  Written apart from firstboot's caCertHash on purpose: the stand-in checks kiln, so it must not share kiln's code. */
export function caPin(pem: string): string | undefined {
  try {
    const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
    return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
  } catch {
    return undefined;
  }
}

/** The CA the simulated cluster presents to joiners (the `cluster-ca.crt` knob), with its pin. */
export function clusterCa(ctx: Ctx): { pem: string; pin: string } | undefined {
  const pem = ctx.knob('cluster-ca.crt');
  if (pem === undefined) return undefined;
  const pin = pem.includes('-----BEGIN CERTIFICATE-----') ? caPin(pem) : undefined;
  if (!pin)
    throw new Refusal(
      `${STANDIN} the test knob ${ctx.knobPath('cluster-ca.crt')} is not a PEM certificate: put the cluster's CA certificate there (its pin is what caCertHashes must hold)`,
    );
  return { pem, pin };
}

// --- kubeconfigs --------------------------------------------------------------------------------

/** kubeadm's kubeconfig files (/etc/kubernetes/NAME.conf) and whom each authenticates. */
const KUBECONFIG_USERS = {
  admin: 'kubernetes-admin',
  'super-admin': 'kubernetes-super-admin',
  kubelet: 'system:node:',
  'controller-manager': 'system:kube-controller-manager',
  scheduler: 'system:kube-scheduler',
};
export type KubeconfigName = keyof typeof KUBECONFIG_USERS;
/** Every kubeconfig kubeadm may leave in /etc/kubernetes (reset deletes them). */
export const KUBECONFIG_FILES = ['admin', 'super-admin', 'kubelet', 'bootstrap-kubelet', 'controller-manager', 'scheduler'].map(
  (n) => `/etc/kubernetes/${n}.conf`,
);

/** /etc/kubernetes/NAME.conf (0600) as kubeadm's kubeconfig phase writes it; the kubelet's is for node `nodeName`. */
export function writeKubeconfig(
  ctx: Ctx,
  name: KubeconfigName,
  kc: { server: string; clusterName: string; nodeName: string; caData?: string | undefined },
): void {
  ctx.out(`[kubeconfig] Writing "${name}.conf" kubeconfig file\n`);
  const user = name === 'kubelet' ? `${KUBECONFIG_USERS.kubelet}${kc.nodeName}` : KUBECONFIG_USERS[name];
  ctx.write(
    `/etc/kubernetes/${name}.conf`,
    makeKubeconfig({ server: kc.server, clusterName: kc.clusterName, user, ...(kc.caData ? { caData: kc.caData } : {}) }),
    0o600,
  );
}

// --- static Pods --------------------------------------------------------------------------------

function staticPod(name: string, image: string, command: string[]): Doc {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      annotations: { 'kiln-test-standin': 'stub static Pod written by the kubeadm stand-in' },
      labels: { component: name, tier: 'control-plane' },
      name,
      namespace: 'kube-system',
    },
    spec: { containers: [{ command, image, name }], hostNetwork: true, priorityClassName: 'system-node-critical' },
  };
}

/** The control plane's static Pod manifests (patched), and etcd's data directory; `phases` name the phases that write them. */
export function writeControlPlane(
  ctx: Ctx,
  cluster: ClusterConfiguration,
  endpoint: APIEndpoint,
  patches: PatchSet[],
  skip: Set<string>,
  phases: { etcd: string; cp: string },
): void {
  ctx.out(`[control-plane] Using manifest folder "${MANIFESTS}"\n`);
  const v = String(cluster.kubernetesVersion);
  const repo = String(cluster.imageRepository ?? 'registry.k8s.io');
  const dataDir = String(cluster.etcd?.local?.dataDir ?? '/var/lib/etcd');
  const pods: Array<[string, string, Doc]> = [
    [
      'kube-apiserver',
      `${phases.cp}/apiserver`,
      staticPod('kube-apiserver', `${repo}/kube-apiserver:${v}`, [
        'kube-apiserver',
        `--advertise-address=${endpoint.advertiseAddress}`,
        `--secure-port=${endpoint.bindPort}`,
      ]),
    ],
    [
      'kube-controller-manager',
      `${phases.cp}/controller-manager`,
      staticPod('kube-controller-manager', `${repo}/kube-controller-manager:${v}`, ['kube-controller-manager']),
    ],
    ['kube-scheduler', `${phases.cp}/scheduler`, staticPod('kube-scheduler', `${repo}/kube-scheduler:${v}`, ['kube-scheduler'])],
  ];
  if (!cluster.etcd?.external)
    pods.push(['etcd', phases.etcd, staticPod('etcd', `${repo}/etcd:3.5.15-0`, ['etcd', `--data-dir=${dataDir}`])]);
  for (const [name, phase, pod] of pods) {
    if (isSkipped(skip, phase)) continue;
    ctx.write(`${MANIFESTS}/${name}.yaml`, toYaml(applyPatches(ctx, patches, name, pod)), 0o600);
    ctx.out(
      name === 'etcd'
        ? `[etcd] Creating static Pod manifest for local etcd in "${MANIFESTS}"\n`
        : `[control-plane] Creating static Pod manifest for "${name}"\n`,
    );
    if (name === 'etcd') ctx.mkdir(`${dataDir}/member`, 0o700);
  }
}

// --- the cluster --------------------------------------------------------------------------------

/** The node as the kubelet registers it, with the control-plane label and taint (or `taints`) when marked so. */
export function nodeState(name: string, labels: Record<string, string>, taints: Taint[] | undefined, controlPlane: boolean): NodeState {
  return {
    labels: {
      'beta.kubernetes.io/arch': GOARCH,
      'beta.kubernetes.io/os': 'linux',
      'kubernetes.io/arch': GOARCH,
      'kubernetes.io/hostname': name,
      'kubernetes.io/os': 'linux',
      ...labels,
      ...(controlPlane
        ? { 'node-role.kubernetes.io/control-plane': '', 'node.kubernetes.io/exclude-from-external-load-balancers': '' }
        : {}),
    },
    taints: (taints ?? (controlPlane ? [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] : [])).map((t) => ({
      key: String(t.key),
      ...(t.value !== undefined ? { value: String(t.value) } : {}),
      effect: String(t.effect),
    })),
    registered: new Date().toISOString(),
    controlPlane,
  };
}

/** Registers the node in the simulated cluster (nodeState) and returns it. */
export function registerNode(
  ctx: Ctx,
  name: string,
  labels: Record<string, string>,
  taints: Taint[] | undefined,
  controlPlane: boolean,
): NodeState {
  const state: ClusterState = ctx.loadState();
  const node = nodeState(name, labels, taints, controlPlane);
  state.nodes[name] = node;
  ctx.saveState(state);
  return node;
}
