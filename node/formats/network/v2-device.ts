// The settings every netplan (v2) device definition shares: DHCP, addresses, routes, policy
// rules, DNS and link settings.
import type { Entries, Net, Route, Rule } from './types.ts';
import { type Report } from '../../../core/problem.ts';
import {
  CIDR,
  DOMAIN,
  Fields,
  IP,
  PREFIX,
  UINT32_MAX,
  familyOf,
  hasHostBits,
  isMapping,
  readString,
  show,
  type Format,
} from './validate.ts';

export const COMMON_KEYS = [
  'renderer',
  'dhcp4',
  'dhcp6',
  'dhcp4-overrides',
  'dhcp6-overrides',
  'dhcp-identifier',
  'addresses',
  'gateway4',
  'gateway6',
  'routes',
  'routing-policy',
  'nameservers',
  'mtu',
  'macaddress',
  'optional',
  'link-local',
  'accept-ra',
  'critical',
  'ipv6-privacy',
  'ipv6-mtu',
  'ignore-carrier',
  'activation-mode',
] as const;

const LATER = 'kiln renders a subset of netplan; configure it after boot (e.g. a systemd .network drop-in via write_files)';
export const DEVICE_UNSUPPORTED: Readonly<Record<string, string>> = {
  'optional-addresses': 'use optional: true to not wait for the device at all',
  'ipv6-address-generation': 'only the NetworkManager renderer supports it',
  'ipv6-address-token': LATER,
  'emit-lldp': LATER,
  'neigh-suppress': LATER,
  openvswitch: 'kiln does not set up Open vSwitch',
  networkmanager: 'kiln renders systemd-networkd, not NetworkManager',
};

const ROUTE_KEYS = [
  'to',
  'via',
  'from',
  'on-link',
  'metric',
  'table',
  'scope',
  'type',
  'mtu',
  'congestion-window',
  'advertised-receive-window',
];
const RULE_KEYS = ['from', 'to', 'table', 'priority', 'mark', 'type-of-service'];
const ROUTE_TYPES = [
  'unicast',
  'anycast',
  'blackhole',
  'broadcast',
  'local',
  'multicast',
  'nat',
  'prohibit',
  'throw',
  'unreachable',
  'xresolve',
] as const;
/** Route types that drop or bounce traffic, so have no gateway. */
const NO_GATEWAY_TYPES = ['blackhole', 'prohibit', 'throw', 'unreachable'];
const TABLE_HINT = 'a routing table number from 1 to 4294967295, e.g. 100 (254 is the main table)';
const DEST: Format = {
  test: (s) => s === 'default' || s === '0/0' || PREFIX.test(s),
  what: 'a route destination',
  hint: '"default", or a prefix such as 10.0.0.0/8 or 2001:db8::/32',
};

const onOff = (b: boolean): string => (b ? 'yes' : 'no');

/** Reads the shared settings of a device definition into `n`. */
export function readDevice(r: Report, f: Fields, n: Net): void {
  const l3 = (key: string) => (n.l3 ??= f.at(key));
  readRenderer(r, f);
  n.dhcp4 = f.bool('dhcp4') ?? false;
  n.dhcp6 = f.bool('dhcp6') ?? false;
  if (n.dhcp4) l3('dhcp4');
  if (n.dhcp6) l3('dhcp6');
  const id = f.choice('dhcp-identifier', ['mac', 'duid']);
  if (id) n.dhcpv4.push(['ClientIdentifier', id]);
  readOverrides(f, 4, n);
  readOverrides(f, 6, n);

  for (const [i, item] of (f.list('addresses', 'a list of addresses with prefix length, e.g. [192.0.2.10/24]') ?? []).entries()) {
    l3('addresses');
    const address = readAddress(r, item, f.at('addresses', i));
    if (address) n.addresses.push(address);
  }
  for (const [key, family] of [
    ['gateway4', 4],
    ['gateway6', 6],
  ] as const) {
    const gateway = f.str(key, IP);
    if (!gateway) continue;
    l3(key);
    if (familyOf(gateway) !== family) {
      r.error(f.at(key), `${show(gateway)} is not an IPv${family} address`, `${key} takes an IPv${family} gateway address`);
      continue;
    }
    r.warn(
      f.at(key),
      `${key} is deprecated`,
      `write the default route as routes: [{to: default, via: ${gateway}}]; kiln renders it the same way`,
    );
    n.routes.push({ path: f.at(key), family, to: family === 4 ? '0.0.0.0/0' : '::/0', via: gateway });
  }
  for (const [i, item] of (f.list('routes', 'a list of routes, e.g. [{to: default, via: 192.0.2.1}]') ?? []).entries()) {
    l3('routes');
    const route = readRoute(r, item, f.at('routes', i));
    if (route) n.routes.push(route);
  }
  for (const [i, item] of (f.list('routing-policy', 'a list of rules, e.g. [{from: 192.0.2.0/24, table: 100}]') ?? []).entries()) {
    l3('routing-policy');
    const rule = readRule(r, item, f.at('routing-policy', i));
    if (rule) n.rules.push(rule);
  }
  const ns = f.map('nameservers', 'a mapping with addresses: [...] and search: [...]');
  if (ns) {
    l3('nameservers');
    ns.keys(['addresses', 'search']);
    for (const [i, value] of (ns.list('addresses', 'a list of DNS server IP addresses') ?? []).entries()) {
      const dns = readString(r, value, ns.at('addresses', i), IP);
      if (dns) n.dns.push({ value: dns, path: ns.at('addresses', i) });
    }
    n.domains.push(...(ns.strings('search', DOMAIN, 'a list of search domains, e.g. [example.com]') ?? []));
  }

  n.mtu = f.int('mtu', 68, 65535, 'an MTU in bytes from 68 to 65535, e.g. 9000 for jumbo frames');
  n.mac = f.str('macaddress', MAC_FORMAT)?.toLowerCase();
  n.optional = f.bool('optional');
  const ll = f.strings('link-local', undefined, 'a list of ipv4 and/or ipv6; [] disables link-local addresses');
  if (ll) {
    const bad = ll.find((v) => v !== 'ipv4' && v !== 'ipv6');
    if (bad !== undefined)
      r.error(
        f.at('link-local', ll.indexOf(bad)),
        `${show(bad)} is not ipv4 or ipv6`,
        'a list of ipv4 and/or ipv6; [] disables link-local addresses',
      );
    else n.linkLocal = ll.includes('ipv4') ? (ll.includes('ipv6') ? 'yes' : 'ipv4') : ll.includes('ipv6') ? 'ipv6' : 'no';
  }
  n.acceptRa = f.bool('accept-ra');
  n.critical = f.bool('critical');
  n.ipv6Privacy = f.bool('ipv6-privacy');
  n.ipv6Mtu = f.int('ipv6-mtu', 1280, 65535, 'an IPv6 MTU in bytes from 1280 to 65535');
  n.ignoreCarrier = f.bool('ignore-carrier');
  const activation = f.choice('activation-mode', ['manual', 'off']);
  if (activation) n.activation = activation === 'off' ? 'always-down' : 'manual';
}

const MAC_FORMAT: Format = {
  test: (s) => /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(s),
  what: 'a MAC address',
  hint: 'six colon-separated hex bytes, e.g. 52:54:00:12:34:56 (quote it in YAML)',
};

/** `renderer:` at any level: networkd is what kiln writes; anything else is said, not obeyed. */
export function readRenderer(r: Report, f: Fields): void {
  const renderer = f.choice('renderer', ['networkd', 'NetworkManager', 'sriov']);
  if (renderer && renderer !== 'networkd')
    r.warn(
      f.at('renderer'),
      `renderer "${renderer}" is ignored`,
      'kiln always writes systemd-networkd files; remove the key or set it to networkd',
    );
}

/** dhcp4-overrides / dhcp6-overrides → [DHCPv4] / [DHCPv6]. */
function readOverrides(f: Fields, family: 4 | 6, n: Net): void {
  const key = `dhcp${family}-overrides`;
  const o = f.map(key, 'a mapping such as {use-dns: false, route-metric: 200}');
  if (!o) return;
  const out: Entries = family === 4 ? n.dhcpv4 : n.dhcpv6;
  const v6Unsupported = 'systemd-networkd has no such DHCPv6 setting';
  o.keys(
    family === 4
      ? ['use-dns', 'use-ntp', 'use-hostname', 'use-domains', 'use-mtu', 'use-routes', 'route-metric', 'send-hostname', 'hostname']
      : ['use-dns', 'use-ntp', 'use-hostname', 'use-domains'],
    family === 4
      ? {}
      : {
          'use-mtu': v6Unsupported,
          'use-routes': v6Unsupported,
          'route-metric': v6Unsupported,
          'send-hostname': v6Unsupported,
          hostname: v6Unsupported,
        },
  );
  if (!(family === 4 ? n.dhcp4 : n.dhcp6)) f.report.warn(f.at(key), `${key} has no effect`, `it applies only with dhcp${family}: true`);
  const flags: Array<[string, string]> = [
    ['use-dns', 'UseDNS'],
    ['use-ntp', 'UseNTP'],
    ['use-hostname', 'UseHostname'],
  ];
  if (family === 4) flags.push(['use-mtu', 'UseMTU'], ['use-routes', 'UseRoutes'], ['send-hostname', 'SendHostname']);
  for (const [name, setting] of flags) {
    const b = o.bool(name);
    if (b !== undefined) out.push([setting, onOff(b)]);
  }
  if (o.has('use-domains')) {
    const raw = o.value['use-domains'];
    const b = raw === 'route' ? 'route' : o.bool('use-domains');
    if (b !== undefined) out.push(['UseDomains', typeof b === 'string' ? b : onOff(b)]);
  }
  if (family === 4) {
    const metric = o.int('route-metric', 0, UINT32_MAX);
    if (metric !== undefined) out.push(['RouteMetric', String(metric)]);
    const hostname = o.str('hostname', DOMAIN);
    if (hostname) out.push(['Hostname', hostname]);
  }
}

/** An address: "cidr", or netplan's {"cidr": {lifetime, label}}. */
function readAddress(r: Report, item: unknown, path: string): Net['addresses'][number] | undefined {
  if (isMapping(item)) {
    const [cidr, ...rest] = Object.keys(item);
    if (cidr === undefined || rest.length > 0) {
      r.error(path, 'an address with options must be a mapping of one address', 'e.g. - "192.0.2.10/24": {lifetime: 0, label: maas}');
      return undefined;
    }
    if (!readString(r, cidr, path, CIDR)) return undefined;
    const options: Entries = [];
    const o = Fields.of(
      r,
      item[cidr] ?? {},
      `${path}/${cidr.replace(/~/g, '~0').replace(/\//g, '~1')}`,
      'address options',
      'a mapping with lifetime and/or label',
    );
    if (o) {
      o.keys(['lifetime', 'label']);
      const lifetime = o.value.lifetime;
      if (lifetime === 0 || lifetime === '0' || lifetime === 'forever')
        options.push(['PreferredLifetime', lifetime === 'forever' ? 'forever' : '0']);
      else if (lifetime !== undefined)
        r.error(
          o.at('lifetime'),
          `${show(lifetime)} is not forever or 0`,
          'forever (the default) or 0 (deprecated right away: never used as a source address)',
        );
      const label = o.str('label');
      if (label !== undefined) {
        if (label.length > 15)
          r.error(o.at('label'), `label ${show(label)} is longer than 15 characters`, 'the kernel limits address labels to 15 characters');
        else options.push(['Label', label]);
      }
    }
    return { cidr, path, options };
  }
  const cidr = readString(r, item, path, CIDR);
  return cidr ? { cidr, path, options: [] } : undefined;
}

function readRoute(r: Report, item: unknown, path: string): Route | undefined {
  const f = Fields.of(r, item, path, 'a route', 'a mapping such as {to: 10.0.0.0/8, via: 192.0.2.1}');
  if (!f) return undefined;
  // a route with any bad field is left out whole, so later checks do not trip over what is left
  const before = r.problems.length;
  f.keys(ROUTE_KEYS);
  const present = f.need('to', 'the destination: "default" or a prefix such as 10.0.0.0/8');
  const to = f.str('to', DEST);
  const via = f.str('via', IP);
  const from = f.str('from', IP);
  const onLink = f.bool('on-link');
  const route: Omit<Route, 'family' | 'to'> = {
    path,
    via,
    from,
    onLink,
    metric: f.int('metric', 0, UINT32_MAX),
    table: f.int('table', 1, UINT32_MAX, TABLE_HINT),
    scope: f.choice('scope', ['global', 'link', 'host']),
    type: f.choice('type', ROUTE_TYPES),
    mtu: f.int('mtu', 68, 65535, 'an MTU in bytes from 68 to 65535'),
    congestionWindow: f.int('congestion-window', 1, 1023, 'a number of segments from 1 to 1023'),
    receiveWindow: f.int('advertised-receive-window', 1, 1023, 'a number of segments from 1 to 1023'),
  };
  if (!present || !to || r.problems.length > before) return undefined;
  const isDefault = to === 'default' || to === '0/0';
  const family = isDefault ? (familyOf(via ?? from ?? '') ?? 4) : familyOf(to)!;
  let ok = true;
  for (const [key, address] of [
    ['via', via],
    ['from', from],
  ] as const) {
    if (address && familyOf(address) !== family) {
      r.error(
        f.at(key),
        `${show(address)} is an IPv${familyOf(address)} address but the route goes to IPv${family} ${to}`,
        `${key} must be of the destination's address family`,
      );
      ok = false;
    }
  }
  if (!isDefault && hasHostBits(to)) {
    r.error(
      f.at('to'),
      `${to} has host bits set`,
      `give the network address, e.g. 10.0.0.0/8 rather than 10.1.2.3/8; a single host is written without a prefix`,
    );
    ok = false;
  }
  if (onLink && !via) {
    r.error(f.at('on-link'), 'on-link needs a gateway', 'add via: <gateway address>, or drop on-link for a directly connected route');
    ok = false;
  }
  if (via && (route.scope === 'link' || route.scope === 'host')) {
    r.error(
      f.at('scope'),
      `a route through a gateway cannot have scope ${route.scope}`,
      'drop scope (global is implied) or drop via for a directly connected route',
    );
    ok = false;
  }
  if (via && route.type && NO_GATEWAY_TYPES.includes(route.type)) {
    r.error(f.at('via'), `a ${route.type} route has no gateway`, `drop via, or use type: unicast`);
    ok = false;
  }
  if (!ok) return undefined;
  return { ...route, family, to: isDefault ? (family === 4 ? '0.0.0.0/0' : '::/0') : to };
}

function readRule(r: Report, item: unknown, path: string): Rule | undefined {
  const f = Fields.of(r, item, path, 'a routing-policy rule', 'a mapping such as {from: 192.0.2.0/24, table: 100}');
  if (!f) return undefined;
  const before = r.problems.length;
  f.keys(RULE_KEYS);
  const hasTable = f.need('table', `the routing table this rule looks up: ${TABLE_HINT}`);
  const from = f.str('from', PREFIX);
  const to = f.str('to', PREFIX);
  const rule = {
    path,
    from,
    to,
    table: f.int('table', 1, UINT32_MAX, TABLE_HINT),
    priority: f.int('priority', 0, UINT32_MAX, 'a rule priority from 0 to 4294967295 (lower numbers are looked at first)'),
    mark: f.int('mark', 1, UINT32_MAX, 'a firewall mark from 1 to 4294967295'),
    tos: f.int('type-of-service', 0, 255),
  };
  if (from && to && familyOf(from) !== familyOf(to)) {
    r.error(
      f.at('to'),
      `${show(to)} is IPv${familyOf(to)} but from is IPv${familyOf(from)}`,
      'a rule matches one address family: make from and to the same family',
    );
    return undefined;
  }
  return hasTable && rule.table !== undefined && r.problems.length === before ? { ...rule, table: rule.table } : undefined;
}
