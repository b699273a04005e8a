// kiln's own Helm values for Cilium (chart 1.16+), under whatever the site sets (pure). firstboot
// writes them for the init node; the builder renders the baked chart with them, so the images it
// preloads are the ones the node's install will run.
import { familyOf } from './config/subnets.ts';

export interface CiliumFacts {
  /** The API server as every node reaches it (the VIP). */
  endpoint: { host: string; port: number };
  /** Cilium does the services kube-proxy would (kubeadm skipped addon/kube-proxy). */
  kubeProxyReplacement: boolean;
  /** The cluster's pod networks, one per family. */
  pods: readonly string[];
}

export function kilnCiliumValues(f: CiliumFacts): Record<string, unknown> {
  const families = new Set(f.pods.map(familyOf));
  const v6Only = !families.has(4);
  return {
    // kubeadm skipped its kube-proxy addon (addon/kube-proxy): Cilium's eBPF does services instead
    kubeProxyReplacement: f.kubeProxyReplacement,
    // Without kube-proxy the `kubernetes` ClusterIP means nothing until Cilium itself runs, so the
    // agent talks to the API server through the VIP directly (kept when kube-proxy stays too: it
    // is the one address every node can always reach)
    k8sServiceHost: f.endpoint.host,
    k8sServicePort: f.endpoint.port,
    // pod CIDRs per node from the podSubnet kubeadm gives kube-controller-manager (node.spec.podCIDR)
    // (one per family on a dual-stack node: node.spec.podCIDRs)
    ipam: { mode: 'kubernetes' },
    // the families the pod networks have: the chart's defaults are IPv4 on, IPv6 off
    ipv4: { enabled: families.has(4) },
    ipv6: { enabled: families.has(6) },
    // Cilium 1.16 tunnels (VXLAN) over IPv4 only: an IPv6-only cluster routes pods natively, each
    // node reaching the others' pod ranges directly on the shared link
    ...(v6Only ? { routingMode: 'native', autoDirectNodeRoutes: true, ipv6NativeRoutingCIDR: f.pods[0] } : {}),
  };
}
