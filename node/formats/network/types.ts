// What both network-config versions are read into before rendering: one entry per interface
// definition, already in networkd's terms, each value keeping the JSON path it came from.

export type Kind = 'ethernet' | 'bond' | 'vlan' | 'bridge';

/** networkd `Key=value` pairs in output order. */
export type Entries = Array<[string, string]>;

export interface Address {
  /** CIDR as written. */
  cidr: string;
  path: string;
  /** Extra [Address] settings (PreferredLifetime, Label, Broadcast); none renders as `Address=`. */
  options: Entries;
}

export interface Route {
  path: string;
  family: 4 | 6;
  /** Destination prefix; a default route is 0.0.0.0/0 or ::/0. */
  to: string;
  via?: string;
  from?: string;
  onLink?: boolean;
  metric?: number;
  table?: number;
  scope?: string;
  type?: string;
  mtu?: number;
  congestionWindow?: number;
  receiveWindow?: number;
}

export interface Rule {
  path: string;
  from?: string;
  to?: string;
  table: number;
  priority?: number;
  mark?: number;
  tos?: number;
}

export interface Net {
  /** The config id (v2) or interface name (v1); names the generated files. */
  id: string;
  kind: Kind;
  path: string;
  /** Path of the first addressing setting, for "members carry no addresses". */
  l3?: string;
  /** Physical devices only: how the device is found; none means `Name=<id>`. */
  match?: { mac?: string; name?: string; driver?: string[]; macPath?: string };
  setName?: string;
  /** The netdev's kind section ([Bond], [VLAN], [Bridge]). */
  netdev: Entries;
  /** Set when this interface is enslaved to a bond or bridge. */
  master?: { kind: 'bond' | 'bridge'; name: string };
  primary?: boolean;
  /** This port's [Bridge] settings in the .network (Cost, Priority). */
  port: Entries;
  /** Names of the VLANs created on this link. */
  vlans: string[];
  mtu?: number;
  mac?: string;
  optional?: boolean;
  ignoreCarrier?: boolean;
  activation?: string;
  dhcp4: boolean;
  dhcp6: boolean;
  dhcpv4: Entries;
  dhcpv6: Entries;
  linkLocal?: string;
  acceptRa?: boolean;
  critical?: boolean;
  ipv6Privacy?: boolean;
  ipv6Mtu?: number;
  addresses: Address[];
  routes: Route[];
  rules: Rule[];
  dns: Array<{ value: string; path: string }>;
  domains: string[];
}

export function newNet(id: string, kind: Kind, path: string): Net {
  return {
    id,
    kind,
    path,
    netdev: [],
    port: [],
    vlans: [],
    dhcp4: false,
    dhcp6: false,
    dhcpv4: [],
    dhcpv6: [],
    addresses: [],
    routes: [],
    rules: [],
    dns: [],
    domains: [],
  };
}

/** The interface name a definition gives its device, when it names one. */
export function ifname(n: Net): string | undefined {
  if (n.kind !== 'ethernet') return n.id;
  return n.setName ?? (n.match ? undefined : n.id);
}

export const hasL3 = (n: Net): boolean =>
  n.dhcp4 || n.dhcp6 || n.addresses.length > 0 || n.routes.length > 0 || n.rules.length > 0 || n.dns.length > 0 || n.domains.length > 0;
