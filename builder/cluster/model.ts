// What the cluster spec implies but does not spell out: defaults, each node's advertise address,
// VRRP priorities and VIP pool membership. Pure; the semantic rules and the generators share it.
import { NETWORK_DEFAULTS } from '../../node/layout.ts';
import { canonicalIp, hostOf } from './ip.ts';
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

export const podSubnetOf = (s: ClusterSpec) => s.network?.podSubnet ?? NETWORK_DEFAULTS.podSubnet;
export const serviceSubnetOf = (s: ClusterSpec) => s.network?.serviceSubnet ?? NETWORK_DEFAULTS.serviceSubnet;
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
