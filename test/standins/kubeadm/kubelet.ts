// TEST ONLY. What kubeadm sets up for the kubelet: /var/lib/kubelet/config.yaml (kubeadm's
// defaults, the given KubeletConfiguration, then patches) and kubeadm-flags.env; and the
// --node-labels the kubelet itself would refuse at start.
import type { Ctx } from '../lib/context.ts';
import { toYaml } from '../lib/context.ts';
import { mergePatch } from '../lib/patch.ts';
import { nthAddress, validateSubnets } from '../lib/validate.ts';
import { DEFAULT_CRI, KUBELET, get, type ClusterConfiguration, type Doc, type NodeRegistrationOptions } from './config.ts';
import { applyPatches, type PatchSet } from './patches.ts';
import { extraArgs } from './validate.ts';

const KUBELET_LABELS = new Set([
  'kubernetes.io/hostname',
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
  'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/instance-type',
  'kubernetes.io/os',
  'kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
]);

/** The node labels the kubelet registers with (--node-labels), or the kubelet's own refusal. */
export function kubeletNodeLabels(reg: NodeRegistrationOptions): { labels: Record<string, string>; kubeletError?: string } {
  const labels: Record<string, string> = {};
  for (const a of extraArgs(reg.kubeletExtraArgs).filter((x) => x.name === 'node-labels')) {
    for (const pair of String(a.value ?? '')
      .split(',')
      .filter(Boolean)) {
      const [k, v = ''] = pair.split('=');
      labels[k!] = v;
    }
  }
  const bad = Object.keys(labels).filter((k) => {
    if (KUBELET_LABELS.has(k)) return false;
    const ns = k.includes('/') ? k.split('/')[0]! : '';
    const restricted = ns === 'kubernetes.io' || ns === 'k8s.io' || ns.endsWith('.kubernetes.io') || ns.endsWith('.k8s.io');
    const allowedNs = ['kubelet.kubernetes.io', 'node.kubernetes.io'].some((a) => ns === a || ns.endsWith(`.${a}`));
    return restricted && !allowedNs;
  });
  if (bad.length === 0) return { labels };
  return {
    labels,
    kubeletError: `unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels: [${bad.join(' ')}]\n--node-labels in the 'kubernetes.io' namespace must begin with an allowed prefix (kubelet.kubernetes.io, node.kubernetes.io) or be in the specifically allowed set (${[...KUBELET_LABELS].sort().join(', ')})`,
  };
}

/** /var/lib/kubelet/config.yaml: kubeadm's defaults under the given document, then patches. */
export function writeKubeletConfig(
  ctx: Ctx,
  given: Doc | undefined,
  cluster: ClusterConfiguration,
  reg: NodeRegistrationOptions,
  patches: PatchSet[],
): void {
  const subnet = String(get(cluster, 'networking.serviceSubnet') ?? '10.96.0.0/12').split(',')[0]!;
  const cidrs = validateSubnets(subnet, 0).cidrs;
  const defaults: Doc = {
    apiVersion: KUBELET,
    kind: 'KubeletConfiguration',
    authentication: {
      anonymous: { enabled: false },
      webhook: { cacheTTL: '0s', enabled: true },
      x509: { clientCAFile: `${get(cluster, 'certificatesDir') ?? '/etc/kubernetes/pki'}/ca.crt` },
    },
    authorization: { mode: 'Webhook', webhook: { cacheAuthorizedTTL: '0s', cacheUnauthorizedTTL: '0s' } },
    cgroupDriver: 'systemd',
    clusterDNS: cidrs[0] ? [nthAddress(cidrs[0], 10)] : [],
    clusterDomain: get(cluster, 'networking.dnsDomain') ?? 'cluster.local',
    containerRuntimeEndpoint: reg.criSocket ?? DEFAULT_CRI,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    rotateCertificates: true,
    staticPodPath: '/etc/kubernetes/manifests',
  };
  const merged = mergePatch(defaults, given ?? {});
  ctx.out('[kubelet-start] Writing kubelet configuration to file "/var/lib/kubelet/config.yaml"\n');
  ctx.write('/var/lib/kubelet/config.yaml', toYaml(applyPatches(ctx, patches, 'kubeletconfiguration', merged)));
}

/** /var/lib/kubelet/kubeadm-flags.env: the CRI endpoint and nodeRegistration.kubeletExtraArgs. */
export function writeKubeletFlags(ctx: Ctx, reg: NodeRegistrationOptions): void {
  const args = extraArgs(reg.kubeletExtraArgs).map((a) => `--${a.name}=${a.value ?? ''}`);
  ctx.out('[kubelet-start] Writing kubelet environment file with flags to file "/var/lib/kubelet/kubeadm-flags.env"\n');
  ctx.write(
    '/var/lib/kubelet/kubeadm-flags.env',
    `KUBELET_KUBEADM_ARGS="${[`--container-runtime-endpoint=${reg.criSocket ?? DEFAULT_CRI}`, ...args].join(' ')}"\n`,
  );
}
