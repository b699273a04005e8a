// What the cluster spec implies but does not spell out: defaults, each node's advertise address,
// VRRP priorities and VIP pool membership. Pure; the semantic rules and the generators share it.
import { NETWORK_DEFAULTS } from '../../node/layout.ts';
import { canonicalIp, contains, hostOf, parseNet } from './ip.ts';
import { familyOf, subnetList } from '../../node/config/subnets.ts';
import type { ClusterNodeSpec, ClusterSpec } from './schema.ts';

const DEFAULT_PORT = 6443;
export const DEFAULT_ALGORITHM = 'rsa-2048';
/** The init node's VRRP priority; each further control plane gets PRIORITY_STEP less (never below 2). */
const INIT_PRIORITY = 150;
const PRIORITY_STEP = 10;
/** Workers hold no control-plane VIP; the pool's own priorities rotate (firstboot/role/keepalived.ts). */
const WORKER_PRIORITY = 100;

/** What `kiln cluster up` gives each VM unless the spec says otherwise. */
const VM_DEFAULTS = { memoryMiB: 2048, cpus: 2, start: 'parallel' } as const;
export const vmsOf = (s: ClusterSpec) => ({ ...VM_DEFAULTS, ...s.vms });

/** The pod networks, one per family (a dual-stack cluster has two). */
export const podSubnetsOf = (s: ClusterSpec) => subnetList(s.network?.podSubnet, NETWORK_DEFAULTS.podSubnet);
export const serviceSubnetsOf = (s: ClusterSpec) => subnetList(s.network?.serviceSubnet, NETWORK_DEFAULTS.serviceSubnet);
/** As the node config carries them: one network as a string, two as a list. */
const asConfig = (list: string[]) => (list.length === 1 ? list[0]! : list);
export const podSubnetOf = (s: ClusterSpec) => asConfig(podSubnetsOf(s));
export const serviceSubnetOf = (s: ClusterSpec) => asConfig(serviceSubnetsOf(s));
export const familiesOf = (s: ClusterSpec) => [...new Set(podSubnetsOf(s).map(familyOf))];
const portOf = (s: ClusterSpec) => s.controlPlane.port ?? DEFAULT_PORT;

/** host:port of the API server, IPv6 in brackets. */
export function endpointOf(s: ClusterSpec): string {
  const vip = canonicalIp(s.controlPlane.vip);
  return `${vip.includes(':') ? `[${vip}]` : vip}:${portOf(s)}`;
}

export const isControlPlane = (n: ClusterNodeSpec) => n.role !== 'worker';

/** The interface keepalived runs on, when the node has it. */
export const vrrpInterfaceOf = (s: ClusterSpec, n: ClusterNodeSpec) => n.interfaces.find((i) => i.name === s.keepalived.interface);

/** Every address of the node (without prefix lengths). */
export const addressesOf = (n: ClusterNodeSpec): string[] => n.interfaces.flatMap((i) => i.addresses.map(hostOf));

/** The given advertise address, else the first address on the keepalived interface, else the first address. */
export function advertiseAddressOf(s: ClusterSpec, n: ClusterNodeSpec): string {
  return n.advertiseAddress ?? hostOf(vrrpInterfaceOf(s, n)?.addresses[0] ?? n.interfaces[0]!.addresses[0]!);
}

/**
 * kubelet's addresses on a dual-stack cluster: the advertise address, then the first address of
 * each other family (the keepalived interface's first); undefined on a single-stack one.
 */
export function nodeIpsOf(s: ClusterSpec, n: ClusterNodeSpec): string[] | undefined {
  const families = familiesOf(s);
  if (families.length < 2) return undefined;
  const advertise = advertiseAddressOf(s, n);
  const vrrp = vrrpInterfaceOf(s, n);
  const ordered = [...(vrrp ? [vrrp] : []), ...n.interfaces.filter((i) => i !== vrrp)].flatMap((i) => i.addresses.map(hostOf));
  const others = families
    .filter((f) => f !== familyOf(advertise))
    .map((f) => ordered.find((ip) => familyOf(ip) === f && !contains(parseNet('fe80::/10')!, ip)))
    .filter((ip): ip is string => ip !== undefined);
  return [advertise, ...others];
}

/** Control planes in spec order, init first: the order their VRRP priorities fall in. */
export function controlPlanes(s: ClusterSpec): ClusterNodeSpec[] {
  const cps = s.nodes.filter(isControlPlane);
  return [...cps.filter((n) => n.role === 'init'), ...cps.filter((n) => n.role !== 'init')];
}

/** The init node holds the VIP first; the others follow in spec order. */
export function priorityOf(s: ClusterSpec, n: ClusterNodeSpec): number {
  const rank = controlPlanes(s).indexOf(n);
  return rank < 0 ? WORKER_PRIORITY : Math.max(2, INIT_PRIORITY - rank * PRIORITY_STEP);
}

/** The names of the nodes sharing the service VIP pool, in order (default: all nodes). */
export function poolMembers(s: ClusterSpec): string[] {
  const pool = s.keepalived.externalVips;
  return pool ? (pool.nodes ?? s.nodes.map((n) => n.name)) : [];
}

/** Every interface address with its JSON path and owner. */
export const addressEntries = (s: ClusterSpec) =>
  s.nodes.flatMap((n, i) =>
    n.interfaces.flatMap((itf, j) =>
      itf.addresses.map((cidr, k) => ({
        node: n.name,
        cidr,
        ip: canonicalIp(hostOf(cidr)),
        path: `/nodes/${i}/interfaces/${j}/addresses/${k}`,
      })),
    ),
  );
