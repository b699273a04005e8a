// network-config version 1: cloud-init's own list of physical, bond, bridge, vlan, nameserver and
// route entries, with subnets per interface.
import { closest } from '../../../core/schema.ts';
import { PRIMARY_MODES, V1_BOND, V1_BOND_UNSUPPORTED, V1_BRIDGE, readParams } from './netdev.ts';
import { hasL3, newNet, type Kind, type Net, type Route } from './types.ts';
import { type Report } from '../../../core/problem.ts';
import {
  DOMAIN,
  Fields,
  IFNAME,
  IP,
  MAC,
  UINT32_MAX,
  familyOf,
  hasHostBits,
  inPrefix,
  prefixLength,
  readString,
  show,
} from './validate.ts';

const TYPES = ['physical', 'bond', 'bridge', 'vlan', 'nameserver', 'route'] as const;
type IfaceType = Exclude<(typeof TYPES)[number], 'nameserver' | 'route'>;
const IFACE_KEYS: Readonly<Record<IfaceType, readonly string[]>> = {
  physical: ['type', 'name', 'mac_address', 'mtu', 'subnets', 'accept-ra', 'keep_configuration'],
  bond: ['type', 'name', 'mac_address', 'bond_interfaces', 'mtu', 'accept-ra', 'params', 'subnets'],
  bridge: ['type', 'name', 'bridge_interfaces', 'accept-ra', 'params', 'subnets'],
  vlan: ['type', 'name', 'vlan_link', 'vlan_id', 'mtu', 'subnets', 'mac_address', 'accept-ra'],
};
const SUBNET_KEYS = [
  'type',
  'control',
  'address',
  'netmask',
  'broadcast',
  'gateway',
  'dns_nameservers',
  'dns_search',
  'routes',
  'ipv4',
  'ipv6',
  'metric',
];
const SUBNET_TYPES = [
  'dhcp',
  'dhcp4',
  'dhcp6',
  'static',
  'static6',
  'ipv6_dhcpv6-stateful',
  'ipv6_dhcpv6-stateless',
  'ipv6_slaac',
  'manual',
] as const;
const ROUTE_KEYS = ['type', 'destination', 'network', 'netmask', 'gateway', 'metric'];
const ENTRY_HINT = 'a mapping with a type: physical, bond, bridge, vlan, nameserver or route';

type Entry = { f: Fields; n: Net };

export function parseV1(r: Report, doc: Fields): Net[] {
  doc.keys(['version', 'config']);
  if (!doc.need('config', 'a list of entries, e.g. [{type: physical, name: eth0, subnets: [{type: dhcp}]}]')) return [];
  const items = doc.list('config', 'a list of entries, e.g. [{type: physical, name: eth0, subnets: [{type: dhcp}]}]') ?? [];
  const nets = new Map<string, Entry>();
  const later: Array<{ f: Fields; type: 'nameserver' | 'route' }> = [];
  for (const [i, item] of items.entries()) {
    const f = Fields.of(r, item, doc.at('config', i), 'a config entry', ENTRY_HINT);
    if (!f || !f.need('type', `one of: ${TYPES.join(', ')}`)) continue;
    const type = f.choice('type', TYPES);
    if (!type) continue;
    if (type === 'nameserver' || type === 'route') {
      later.push({ f, type });
      continue;
    }
    f.keys(IFACE_KEYS[type]);
    const name = f.need('name', 'the interface name, e.g. eth0') ? f.str('name', IFNAME) : undefined;
    if (name === undefined) continue;
    if (nets.has(name)) {
      r.error(f.at('name'), `interface "${name}" is already defined at ${nets.get(name)!.f.path}`, 'define each interface once');
      continue;
    }
    nets.set(name, { f, n: newNet(name, (type === 'physical' ? 'ethernet' : type) as Kind, f.path) });
  }
  for (const e of nets.values()) readInterface(r, e);
  for (const e of nets.values()) readRelations(r, e, nets);
  const global: Array<Pick<Net, 'dns' | 'domains'> & { path: string }> = [];
  for (const { f, type } of later) {
    if (type === 'route') readGlobalRoute(r, f, nets);
    else readNameserver(r, f, nets, global);
  }
  // cloud-init's global nameservers serve every interface that gets an address
  const targets = [...nets.values()].map((e) => e.n).filter((n) => !n.master && (n.dhcp4 || n.dhcp6 || n.addresses.length > 0));
  for (const ns of global) {
    if (targets.length === 0)
      r.warn(
        ns.path,
        'this nameserver applies to no interface',
        'no interface has an address or DHCP; add subnets, or name one with interface:',
      );
    for (const n of targets) {
      n.dns.push(...ns.dns);
      n.domains.push(...ns.domains.filter((d) => !n.domains.includes(d)));
    }
  }
  return [...nets.values()].map((e) => e.n);
}

function readInterface(r: Report, { f, n }: Entry): void {
  const mac = f.str('mac_address', MAC)?.toLowerCase();
  if (mac && n.kind === 'ethernet') {
    // cloud-init names the device with this MAC: a .link renames it, the .network follows the MAC
    n.match = { mac, macPath: f.at('mac_address') };
    n.setName = n.id;
  } else n.mac = mac;
  n.mtu = f.int('mtu', 68, 65535, 'an MTU in bytes from 68 to 65535, e.g. 9000 for jumbo frames');
  n.acceptRa = f.bool('accept-ra');
  n.critical = f.bool('keep_configuration');
  for (const [i, item] of (f.list('subnets', 'a list of subnets, e.g. [{type: dhcp}]') ?? []).entries()) {
    const s = Fields.of(r, item, f.at('subnets', i), 'a subnet', 'a mapping with a type: dhcp, static, ...');
    if (s) readSubnet(r, s, n);
  }
}

function readSubnet(r: Report, s: Fields, n: Net): void {
  s.keys(SUBNET_KEYS);
  const type = s.need('type', `one of: ${SUBNET_TYPES.join(', ')}`) ? s.choice('type', SUBNET_TYPES) : undefined;
  const metric = s.int('metric', 0, UINT32_MAX);
  s.bool('ipv4');
  s.bool('ipv6');
  const control = s.choice('control', ['auto', 'manual', 'hotplug']);
  if (control && control !== 'auto')
    r.warn(
      s.at('control'),
      `control: ${control} is not supported; the interface is brought up at boot`,
      'remove control, or leave the interface out of network-config',
    );
  const l3 = (key: string) => (n.l3 ??= s.at(key));
  if (type === 'dhcp' || type === 'dhcp4') {
    n.dhcp4 = true;
    if (metric !== undefined) n.dhcpv4.push(['RouteMetric', String(metric)]);
  } else if (type === 'dhcp6' || type === 'ipv6_dhcpv6-stateful') n.dhcp6 = true;
  else if (type === 'ipv6_slaac' || type === 'ipv6_dhcpv6-stateless') n.acceptRa = true;
  if (type && type !== 'manual') l3('type');
  if (type === 'static' || type === 'static6') readStatic(r, s, n, type, metric);
  else
    for (const key of ['address', 'netmask', 'broadcast', 'gateway'])
      if (s.has(key))
        r.warn(
          s.at(key),
          `${key} is ignored for a ${type ?? 'subnet without type'} subnet`,
          'only static and static6 subnets take addresses and a gateway',
        );
  for (const [i, value] of (s.list('dns_nameservers', 'a list of DNS server IP addresses') ?? []).entries()) {
    const dns = readString(r, value, s.at('dns_nameservers', i), IP);
    if (dns) n.dns.push({ value: dns, path: s.at('dns_nameservers', i) });
  }
  n.domains.push(...(s.strings('dns_search', DOMAIN, 'a list of search domains, e.g. [example.com]') ?? []));
  for (const [i, item] of (s.list('routes', 'a list of routes, e.g. [{network: 10.0.0.0/8, gateway: 192.0.2.1}]') ?? []).entries()) {
    l3('routes');
    const route = readRoute(r, item, s.at('routes', i));
    if (route) n.routes.push(route);
  }
}

function readStatic(r: Report, s: Fields, n: Net, type: 'static' | 'static6', metric: number | undefined): void {
  const hint = 'an IPv4 or IPv6 address, optionally with its prefix length, e.g. 192.0.2.10/24';
  if (!s.need('address', hint)) return;
  const address = s.str('address');
  if (address === undefined) return;
  const [ip, bits, ...rest] = address.split('/');
  const family = familyOf(ip!);
  if (!family || rest.length > 0) return void r.error(s.at('address'), `${show(address)} is not an IP address`, hint);
  if (type === 'static6' && family !== 6)
    return void r.error(
      s.at('address'),
      `${show(address)} is not an IPv6 address`,
      'a static6 subnet takes an IPv6 address; use type: static for IPv4',
    );
  let prefix = bits === undefined ? undefined : prefixLength(bits, family);
  if (bits !== undefined && prefix === undefined)
    return void r.error(
      s.at('address'),
      `${show(address)} has an invalid prefix length`,
      `a prefix length from 0 to ${family === 4 ? 32 : 128}`,
    );
  if (s.has('netmask')) {
    const mask = prefixLength(s.value.netmask, family);
    if (mask === undefined)
      return void r.error(
        s.at('netmask'),
        `${show(s.value.netmask)} is not a netmask`,
        family === 4 ? 'a dotted netmask such as 255.255.255.0, or a prefix length such as 24' : 'a prefix length such as 64',
      );
    if (prefix !== undefined && prefix !== mask)
      return void r.error(
        s.at('netmask'),
        `netmask /${mask} contradicts the address's /${prefix}`,
        'give the prefix length once: in address or in netmask',
      );
    prefix = mask;
  }
  if (prefix === undefined)
    return void r.error(
      s.at('address'),
      `${show(address)} has no prefix length`,
      family === 4 ? `write ${ip}/24 (for example), or add netmask: 255.255.255.0` : `write ${ip}/64 (for example), or add netmask: 64`,
    );
  const broadcast = s.str('broadcast', IP);
  if (broadcast && familyOf(broadcast) !== 4)
    r.error(s.at('broadcast'), `${show(broadcast)} is not an IPv4 address`, 'broadcast addresses exist for IPv4 only');
  n.addresses.push({
    cidr: `${ip}/${prefix}`,
    path: s.at('address'),
    options: broadcast && family === 4 ? [['Broadcast', broadcast]] : [],
  });
  const gateway = s.str('gateway', IP);
  if (!gateway) return;
  if (familyOf(gateway) !== family)
    return void r.error(
      s.at('gateway'),
      `${show(gateway)} is IPv${familyOf(gateway)} but the address is IPv${family}`,
      'the gateway must be of the address family of the subnet',
    );
  n.routes.push({ path: s.at('gateway'), family, to: family === 4 ? '0.0.0.0/0' : '::/0', via: gateway, metric });
}

/** A v1 route: destination (or network) with netmask or prefix, through a gateway. */
function readRoute(r: Report, item: unknown, path: string): Route | undefined {
  const f = Fields.of(r, item, path, 'a route', 'a mapping such as {destination: 10.0.0.0/8, gateway: 192.0.2.1}');
  if (!f) return undefined;
  const before = r.problems.length;
  f.keys(ROUTE_KEYS);
  if (f.has('type')) f.choice('type', ['route']);
  const key = f.has('destination') || !f.has('network') ? 'destination' : 'network';
  const hasDest = f.need(key, 'the destination network, e.g. 10.0.0.0/8 (or 10.0.0.0 with netmask: 255.0.0.0)');
  const hasGateway = f.need('gateway', 'the IP address of the router to send this traffic to');
  const raw = f.str(key);
  const gateway = f.str('gateway', IP);
  const metric = f.int('metric', 0, UINT32_MAX);
  if (!hasDest || !hasGateway || raw === undefined || gateway === undefined || r.problems.length > before) return undefined;
  const [net, bits, ...rest] = raw.split('/');
  const family = familyOf(net!);
  if (!family || rest.length > 0)
    return void r.error(f.at(key), `${show(raw)} is not a network address`, 'e.g. 10.0.0.0/8, or 10.0.0.0 with netmask: 255.0.0.0');
  let prefix = bits === undefined ? undefined : prefixLength(bits, family);
  if (bits !== undefined && prefix === undefined)
    return void r.error(f.at(key), `${show(raw)} has an invalid prefix length`, `a prefix length from 0 to ${family === 4 ? 32 : 128}`);
  if (f.has('netmask')) {
    prefix = prefixLength(f.value.netmask, family);
    if (prefix === undefined)
      return void r.error(
        f.at('netmask'),
        `${show(f.value.netmask)} is not a netmask`,
        'a dotted netmask such as 255.0.0.0, or a prefix length such as 8',
      );
  }
  // no mask: 0.0.0.0 and :: mean the default route, anything else one host
  prefix ??= net === '0.0.0.0' || net === '::' ? 0 : family === 4 ? 32 : 128;
  const to = `${net}/${prefix}`;
  if (hasHostBits(to))
    return void r.error(f.at(key), `${to} has host bits set`, 'give the network address, e.g. 10.0.0.0/8 rather than 10.1.2.3/8');
  if (familyOf(gateway) !== family)
    return void r.error(
      f.at('gateway'),
      `${show(gateway)} is IPv${familyOf(gateway)} but the destination is IPv${family}`,
      'the gateway must be of the destination’s address family',
    );
  return { path, family, to, via: gateway, metric };
}

function readRelations(r: Report, { f, n }: Entry, nets: Map<string, Entry>): void {
  const member = (name: unknown, path: string, kinds: Kind[], role: string): Net | undefined => {
    const id = readString(r, name, path);
    if (id === undefined) return undefined;
    const found = nets.get(id)?.n;
    if (!found) {
      const candidates = [...nets.values()].filter((e) => kinds.includes(e.n.kind) && e.n !== n).map((e) => e.n.id);
      const near = closest(id, candidates);
      r.error(
        path,
        `${role} "${id}" is not defined`,
        `${near ? `did you mean "${near}"? ` : ''}candidates: ${candidates.join(', ') || 'none'}`,
      );
    } else if (!kinds.includes(found.kind)) {
      r.error(
        path,
        `${role} "${id}" is a ${found.kind === 'ethernet' ? 'physical interface' : found.kind}`,
        `${role}s must be ${kinds.map((k) => (k === 'ethernet' ? 'physical' : k)).join(' or ')} entries`,
      );
    } else return found;
    return undefined;
  };
  if (n.kind === 'vlan') {
    const hasLink = f.need('vlan_link', 'the name of the interface the VLAN is created on');
    const hasId = f.need('vlan_id', 'the VLAN id: a number from 0 to 4094');
    const vid = f.int('vlan_id', 0, 4094, 'a VLAN id from 0 to 4094');
    if (vid !== undefined) n.netdev.push(['Id', String(vid)]);
    const parent = hasLink && hasId ? member(f.value.vlan_link, f.at('vlan_link'), ['ethernet', 'bond', 'bridge'], 'vlan_link') : undefined;
    if (parent?.master)
      r.error(
        f.at('vlan_link'),
        `"${parent.id}" is a member of ${parent.master.kind} "${parent.master.name}"`,
        `create the VLAN on "${parent.master.name}" instead`,
      );
    else parent?.vlans.push(n.id);
    return;
  }
  if (n.kind === 'ethernet') return;
  const kind = n.kind;
  const listKey = kind === 'bond' ? 'bond_interfaces' : 'bridge_interfaces';
  const members = new Map<string, Net>();
  for (const [i, name] of (f.list(listKey, `a list of interface names, e.g. [eth0, eth1]`) ?? []).entries()) {
    const m = member(name, f.at(listKey, i), kind === 'bond' ? ['ethernet'] : ['ethernet', 'bond', 'vlan'], `${kind} member`);
    if (!m) continue;
    if (m.master)
      r.error(
        f.at(listKey, i),
        `"${m.id}" is already a member of ${m.master.kind} "${m.master.name}"`,
        'an interface can belong to one bond or bridge only',
      );
    else {
      m.master = { kind, name: n.id };
      members.set(m.id, m);
    }
  }
  if (members.size === 0 && !f.has(listKey))
    r.warn(f.path, `${kind} "${n.id}" has no ${listKey}`, `list its members under ${listKey}: [...]`);
  const params = f.map('params', `a mapping of ${kind} parameters`);
  if (!params) return;
  if (kind === 'bond') {
    params.keys([...Object.keys(V1_BOND), 'bond-primary'], V1_BOND_UNSUPPORTED);
    n.netdev.push(...readParams(params, V1_BOND));
    const primary = params.str('bond-primary');
    const mode = n.netdev.find(([k]) => k === 'Mode')?.[1] ?? 'balance-rr';
    if (primary === undefined) return;
    const m = members.get(primary);
    if (!m)
      r.error(
        params.at('bond-primary'),
        `bond-primary "${primary}" is not one of the bond's interfaces`,
        `one of: ${[...members.keys()].join(', ') || 'none listed'}`,
      );
    else if (!PRIMARY_MODES.includes(mode))
      r.warn(params.at('bond-primary'), `bond-primary has no effect in mode ${mode}`, `it applies to ${PRIMARY_MODES.join(', ')}`);
    else m.primary = true;
    return;
  }
  const waits = 'systemd-networkd does not wait for bridge ports';
  params.keys([...Object.keys(V1_BRIDGE), 'bridge_hw', 'bridge_pathcost', 'bridge_portprio', 'bridge_ports'], {
    bridge_maxwait: waits,
    bridge_waitport: waits,
  });
  n.netdev.push(...readParams(params, V1_BRIDGE));
  n.mac = params.str('bridge_hw', MAC)?.toLowerCase();
  const ports = params.strings('bridge_ports', undefined, 'a list of interface names');
  if (ports && (ports.length !== members.size || ports.some((p) => !members.has(p))))
    r.warn(
      params.at('bridge_ports'),
      'bridge_ports differs from bridge_interfaces and is ignored',
      'the members come from bridge_interfaces',
    );
  for (const [key, setting, max] of [
    ['bridge_pathcost', 'Cost', 65535],
    ['bridge_portprio', 'Priority', 63],
  ] as const) {
    for (const [i, text] of (
      params.strings(key, undefined, `a list of "<port> <number>" strings, e.g. ["eth0 ${max === 63 ? 32 : 100}"]`) ?? []
    ).entries()) {
      const [port, value, ...extra] = text.trim().split(/\s+/);
      const m = port === undefined ? undefined : members.get(port);
      const num = value === undefined || extra.length > 0 ? undefined : Number(value);
      if (!m)
        r.error(
          params.at(key, i),
          `"${port}" is not one of the bridge's interfaces`,
          `one of: ${[...members.keys()].join(', ') || 'none listed'}`,
        );
      else if (num === undefined || !Number.isInteger(num) || num < (setting === 'Cost' ? 1 : 0) || num > max)
        r.error(
          params.at(key, i),
          `${show(text)} is not "<port> <number>"`,
          `a port name and a number up to ${max}, e.g. "${port} ${max === 63 ? 32 : 100}"`,
        );
      else m.port.push([setting, String(num)]);
    }
  }
}

function readNameserver(
  r: Report,
  f: Fields,
  nets: Map<string, Entry>,
  global: Array<Pick<Net, 'dns' | 'domains'> & { path: string }>,
): void {
  f.keys(['type', 'address', 'search', 'interface']);
  const raw = f.value.address;
  const dns: Net['dns'] = [];
  if (typeof raw === 'string') {
    const value = f.str('address', IP);
    if (value) dns.push({ value, path: f.at('address') });
  } else
    for (const [i, item] of (f.list('address', 'a DNS server IP address, or a list of them') ?? []).entries()) {
      const value = readString(r, item, f.at('address', i), IP);
      if (value) dns.push({ value, path: f.at('address', i) });
    }
  if (!f.has('address') && !f.has('search')) r.warn(f.path, 'this nameserver entry sets nothing', 'give address: and/or search:');
  const domains = f.strings('search', DOMAIN, 'a list of search domains, e.g. [example.com]') ?? [];
  const name = f.str('interface');
  if (name === undefined) return void global.push({ dns, domains, path: f.path });
  const target = nets.get(name)?.n;
  if (!target) {
    const near = closest(name, [...nets.keys()]);
    return void r.error(
      f.at('interface'),
      `interface "${name}" is not defined`,
      `${near ? `did you mean "${near}"? ` : ''}interfaces defined: ${[...nets.keys()].join(', ') || 'none'}`,
    );
  }
  target.dns.push(...dns);
  target.domains.push(...domains.filter((d) => !target.domains.includes(d)));
}

/** A top-level route goes to the interface whose subnet holds its gateway. */
function readGlobalRoute(r: Report, f: Fields, nets: Map<string, Entry>): void {
  const route = readRoute(r, f.value, f.path);
  if (!route?.via) return;
  const all = [...nets.values()].map((e) => e.n);
  const onLink = all.find((n) => n.addresses.some((a) => inPrefix(route.via!, a.cidr)));
  const addressed = all.filter((n) => !n.master && hasL3(n));
  const target = onLink ?? (addressed.length === 1 ? addressed[0] : undefined);
  if (!target)
    return void r.error(
      f.at('gateway'),
      `no interface has an address in the subnet of gateway ${route.via}`,
      'put the route under routes: of the subnet that reaches the gateway',
    );
  target.routes.push(route);
}
