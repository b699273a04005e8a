// Cluster networks for one or both address families (pure). kubeadm takes podSubnet and
// serviceSubnet as comma lists, at most one network per family; a dual-stack cluster needs both
// families in each, and every node a kubelet --node-ip per family. What kube-controller-manager and
// kube-apiserver would refuse at start-up is refused here, before kubeadm runs.
import { isIP } from 'node:net';

export type Family = 4 | 6;

/** A spec value (one network, a list, or kubeadm's comma list) as a list. */
export function subnetList(value: string | readonly string[] | undefined, fallback: string): string[] {
  if (value === undefined) return [fallback];
  return (typeof value === 'string' ? value.split(',') : [...value]).map((s) => s.trim());
}

export const familyOf = (ipOrCidr: string): Family => (isIP(ipOrCidr.split('/')[0]!.split('%')[0]!) === 6 ? 6 : 4);
const prefixOf = (cidr: string) => Number(cidr.split('/')[1]);
const families = (list: readonly string[]) => list.map(familyOf);
const name = (f: Family) => `IPv${f}`;

/** kube-controller-manager's default --node-cidr-mask-size per family: each node's pod range. */
export const NODE_CIDR_MASK: Record<Family, number> = { 4: 24, 6: 64 };

export interface SubnetProblem {
  /** Which list: pods, services or the node's addresses. */
  field: 'pods' | 'services' | 'nodeIps' | 'advertiseAddress';
  message: string;
  hint: string;
}

/** Why kubeadm, kube-apiserver or kube-controller-manager would refuse these networks; empty when they would not. */
export function subnetProblems(
  pods: readonly string[],
  services: readonly string[],
  node?: { ips: readonly string[]; apiServerAddress?: string | undefined },
): SubnetProblem[] {
  const nodeIps = node?.ips;
  const out: SubnetProblem[] = [];
  for (const [field, list] of [
    ['pods', pods],
    ['services', services],
  ] as const) {
    const fam = families(list);
    if (list.length > 2 || new Set(fam).size !== fam.length)
      out.push({
        field,
        message: `${list.join(', ')}: at most one network per address family`,
        hint: 'one network for a single-stack cluster, or one IPv4 and one IPv6 network for dual-stack',
      });
  }
  const [pf, sf] = [new Set(families(pods)), new Set(families(services))];
  // the family comparisons below mean nothing once a list holds two of one family
  const listsFine = out.length === 0;
  if (listsFine && (pf.size !== sf.size || [...pf].some((f) => !sf.has(f))))
    out.push({
      field: 'services',
      message: `the service networks (${services.join(', ')}) are not of the pod networks' families (${[...pf].map(name).join(' and ')})`,
      hint: 'give serviceSubnet one network per family the pods have, e.g. [10.96.0.0/12, fd00:10:96::/112] for dual-stack',
    });
  for (const cidr of services) {
    // kube-apiserver: a service range of more than 20 host bits is refused
    const bits = (familyOf(cidr) === 4 ? 32 : 128) - prefixOf(cidr);
    if (bits > 20)
      out.push({
        field: 'services',
        message: `the service network ${cidr} is too large (${bits} host bits; kube-apiserver allows 20)`,
        hint: familyOf(cidr) === 4 ? 'use a /12 or smaller, e.g. 10.96.0.0/12' : 'use a /108 or smaller, e.g. fd00:10:96::/112',
      });
  }
  for (const cidr of pods) {
    // kube-controller-manager: node ranges of NODE_CIDR_MASK bits, at most 16 bits of them per cluster range
    const f = familyOf(cidr);
    const diff = NODE_CIDR_MASK[f] - prefixOf(cidr);
    if (diff < 0 || diff > 16)
      out.push({
        field: 'pods',
        message: `the pod network ${cidr} does not fit /${NODE_CIDR_MASK[f]} node ranges (${diff < 0 ? 'smaller than one node range' : `${diff} bits of them; the limit is 16`})`,
        hint: f === 4 ? 'use a prefix from /8 to /24, e.g. 10.244.0.0/16' : 'use a prefix from /48 to /64, e.g. fd00:10:244::/56',
      });
  }
  // kube-apiserver: the first service network's family is the family of the address it advertises
  const api = node?.apiServerAddress;
  if (api && listsFine && services.length > 0 && familyOf(api) !== familyOf(services[0]!))
    out.push({
      field: 'advertiseAddress',
      message: `the API server would advertise ${api} (${name(familyOf(api))}), but the first service network ${services[0]} is ${name(familyOf(services[0]!))}`,
      hint: 'kube-apiserver refuses to start so: list the service network of the advertise address family first (or advertise an address of the first one)',
    });
  if (nodeIps && listsFine) {
    const nf = families(nodeIps);
    if (new Set(nf).size !== nf.length || nf.length !== pf.size || nf.some((f) => !pf.has(f)))
      out.push({
        field: 'nodeIps',
        message: `the node's addresses (${nodeIps.join(', ')}) are not one per pod network family (${[...pf].map(name).join(' and ')})`,
        hint: 'a dual-stack node gives kubelet one IPv4 and one IPv6 address (--node-ip)',
      });
  }
  return out;
}

/** The node config's networks and kubelet addresses, defaults filled in. */
export function clusterNetworks(
  c: {
    cluster: { podSubnet?: string | string[] | undefined; serviceSubnet?: string | string[] | undefined };
    node: { advertiseAddress: string; nodeIps?: string[] | undefined };
  },
  defaults: { podSubnet: string; serviceSubnet: string },
) {
  const pods = subnetList(c.cluster.podSubnet, defaults.podSubnet);
  return {
    pods,
    services: subnetList(c.cluster.serviceSubnet, defaults.serviceSubnet),
    nodeIps: c.node.nodeIps ?? [c.node.advertiseAddress],
    families: [...new Set(pods.map(familyOf))],
  };
}
