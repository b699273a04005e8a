// The role plan: a pure function (node config, host facts) → the ordered, named steps that make
// this machine the node its config describes. Optional steps are added by condition, here only.
// A step that does more than write its files runs the action of its own name (actions.ts).
import type { NodeConfig } from '../../node/config/schema.ts';
import { resolveAddon } from './addons.ts';
import { renderCiliumValues } from './cilium.ts';
import { renderEtcdSnapshots } from './etcd.ts';
import { renderKeepalived } from './keepalived.ts';
import { renderKubeadm } from './kubeadm.ts';
import type { ActionName, FilesOnlyStep, HostFacts, PlannedStep, RenderedFile } from './types.ts';

type StepDef = {
  why: string;
  when: (c: NodeConfig, f: HostFacts) => boolean;
  files?: (c: NodeConfig, f: HostFacts) => RenderedFile[];
} & ({ name: ActionName; action: true } | { name: FilesOnlyStep; action: false });

const always = () => true;
const controlPlane = (c: NodeConfig) => c.role !== 'worker';
const init = (c: NodeConfig) => c.role === 'init';

function caFiles(c: NodeConfig): RenderedFile[] {
  return [
    { path: '/etc/kubernetes/pki/ca.crt', mode: 0o644, contents: c.ca!.cert.endsWith('\n') ? c.ca!.cert : `${c.ca!.cert}\n` },
    { path: '/etc/kubernetes/pki/ca.key', mode: 0o600, contents: c.ca!.key.endsWith('\n') ? c.ca!.key : `${c.ca!.key}\n`, secret: true },
  ];
}

const KUBEADM_WHY = 'kubeadm creates or joins the cluster (joins pin the CA and retry until the endpoint is up)';

const STEPS: StepDef[] = [
  { name: 'node-hosts', why: 'the node name resolves to its advertise address (/etc/hosts)', when: always, action: true },
  {
    name: 'keepalived',
    why: 'VRRP: the control-plane VIP follows a healthy apiserver; the service VIP pool rotates preferred holders',
    when: (c) => renderKeepalived(c).length > 0,
    files: (c) => renderKeepalived(c),
    action: true,
  },
  {
    name: 'wait-vip',
    why: 'kubeadm init reaches the apiserver through the VIP, so the VIP must be up first',
    when: (c) => init(c) && c.keepalived !== undefined,
    action: true,
  },
  { name: 'containerd', why: 'kubeadm needs a ready CRI', when: always, action: true },
  {
    name: 'preload-images',
    why: 'images baked into the image are imported so kubeadm and Cilium need no registry',
    when: (_c, f) => f.preloadImages.length > 0,
    action: true,
  },
  {
    name: 'cluster-ca',
    why: 'the pre-generated CA, so joiners can pin its hash before the cluster exists',
    when: (c) => init(c) && c.ca !== undefined,
    files: caFiles,
    action: false,
  },
  {
    name: 'kubeadm-config',
    why: 'kubeadm v1beta4 configuration for this role (0600: it holds the join token)',
    when: always,
    files: (c, f) => renderKubeadm(c, f),
    action: false,
  },
  { name: 'kubeadm-init', why: KUBEADM_WHY, when: init, action: true },
  { name: 'kubeadm-join', why: KUBEADM_WHY, when: (c) => !init(c), action: true },
  { name: 'wait-apiserver', why: 'the addons need a ready API server', when: init, action: true },
  {
    name: 'coredns-spread',
    why: 'CoreDNS replicas on different nodes: the second waits for another node instead of sharing the first one',
    when: (c) => init(c) && c.cluster.coreDnsSpread === true,
    action: true,
  },
  {
    name: 'cilium',
    why: 'Cilium with Helm: the CNI, replacing kube-proxy, reaching the API through the VIP',
    when: (c) => init(c) && c.cilium !== undefined,
    files: (c, f) => [...ciliumDefaults(c, f), renderCiliumValues(c)],
    action: true,
  },
  {
    name: 'addons',
    why: 'the Helm addons the config lists, after the CNI',
    when: (c) => init(c) && (c.addons?.length ?? 0) > 0,
    files: addonValues,
    action: true,
  },
  {
    name: 'manifests',
    why: 'the manifests folder, applied last',
    when: (c, f) => init(c) && f.manifests.length > 0,
    action: true,
  },
  {
    name: 'labels-taints',
    why: 'converge labels and taints on the node object (control planes hold admin credentials)',
    when: controlPlane,
    action: true,
  },
  {
    name: 'etcd-snapshots',
    why: 'a systemd timer snapshots etcd and keeps the newest ones',
    when: controlPlane,
    files: (c) => renderEtcdSnapshots(c),
    action: true,
  },
];

export const ADDON_VALUES_DIR = '/etc/kiln/addons';

/** A baked Cilium chart of the configured version brings the catalogue's values (kiln's go over them). */
export function bakedCilium(c: NodeConfig, f: HostFacts) {
  const d = f.addons.cilium;
  return d && d.version === c.cilium?.version ? d : undefined;
}

function ciliumDefaults(c: NodeConfig, f: HostFacts): RenderedFile[] {
  const d = bakedCilium(c, f);
  return d ? [{ path: `${ADDON_VALUES_DIR}/cilium.defaults.json`, mode: 0o644, contents: json(d.values) }] : [];
}

const json = (v: unknown) => `${JSON.stringify(v ?? {}, null, 2)}\n`;

/** The node's values per addon, and a baked addon's defaults beside them (helm merges them in that order). */
function addonValues(c: NodeConfig, f: HostFacts): RenderedFile[] {
  return (c.addons ?? []).flatMap((a) => {
    const { defaults } = resolveAddon(a, f.addons);
    return [
      ...(defaults ? [{ path: `${ADDON_VALUES_DIR}/${a.name}.defaults.json`, mode: 0o644, contents: json(defaults) }] : []),
      { path: `${ADDON_VALUES_DIR}/${a.name}.values.json`, mode: 0o644, contents: json(a.values) },
    ];
  });
}

export function planRole(config: NodeConfig, facts: HostFacts): PlannedStep[] {
  return STEPS.filter((s) => s.when(config, facts)).map(({ when: _when, files, ...s }) => ({ ...s, files: files?.(config, facts) ?? [] }));
}

/** The plan as people read it (`kiln-firstboot plan`): step, why, files, its action; never file contents. */
export function describePlan(steps: PlannedStep[]): string {
  return steps
    .map((s, i) =>
      [
        `${String(i + 1).padStart(2)}. ${s.name} — ${s.why}`,
        ...s.files.map((f) => `      writes ${f.path} (${f.mode.toString(8).padStart(4, '0')}${f.secret ? ', secret' : ''})`),
        ...(s.action ? [`      then: ${s.name}`] : []),
      ].join('\n'),
    )
    .join('\n');
}
