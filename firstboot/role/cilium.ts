// Helm values for Cilium (chart 1.16+), which the init node installs: kiln's settings, then the
// user's `cilium.values` deep-merged over them (user wins; null drops a kiln value, as in Helm).
import { controlPlaneEndpoint } from '../../node/config/vrrp.ts';
import { mergeValues, replacesKubeProxy, yamlFile } from './kubeadm.ts';
import type { NodeConfig, RenderedFile } from './types.ts';
import { clusterNetworks } from '../../node/config/subnets.ts';
import { NETWORK_DEFAULTS } from '../../node/layout.ts';

export const CILIUM_VALUES = '/etc/kiln/cilium-values.yaml';

/** kiln's own values, before the user's. */
function ciliumValues(config: NodeConfig): Record<string, unknown> {
  const { host, port } = controlPlaneEndpoint(config);
  const { families } = clusterNetworks(config, NETWORK_DEFAULTS);
  return {
    // kubeadm skipped its kube-proxy addon (addon/kube-proxy): Cilium's eBPF does services instead
    kubeProxyReplacement: replacesKubeProxy(config),
    // Without kube-proxy the `kubernetes` ClusterIP means nothing until Cilium itself runs, so the
    // agent talks to the API server through the VIP directly (kept when kube-proxy stays too: it
    // is the one address every node can always reach)
    k8sServiceHost: host,
    k8sServicePort: port,
    // pod CIDRs per node from the podSubnet kubeadm gives kube-controller-manager (node.spec.podCIDR)
    // (one per family on a dual-stack node: node.spec.podCIDRs)
    ipam: { mode: 'kubernetes' },
    // the families the pod networks have: the chart's defaults are IPv4 on, IPv6 off
    ipv4: { enabled: families.includes(4) },
    ipv6: { enabled: families.includes(6) },
  };
}

/** /etc/kiln/cilium-values.yaml (0644: nothing secret in it). */
export function renderCiliumValues(config: NodeConfig): RenderedFile {
  const values = mergeValues(ciliumValues(config), config.cilium?.values ?? {});
  const chart = config.cilium ? `Cilium ${config.cilium.version}` : 'Cilium';
  return yamlFile(
    CILIUM_VALUES,
    0o644,
    [values],
    `Helm values for ${chart} in cluster ${config.cluster.name}: kiln's, then cilium.values over them`,
  );
}
