// network-config version 2: the netplan subset cloud-init passes on (ethernets, bonds, bridges,
// vlans), read into interface definitions with their references resolved.
import { closest } from '../../../core/schema.ts';
import { BOND_MODES, PRIMARY_MODES, V2_BOND, V2_BRIDGE, readParams } from './netdev.ts';
import { newNet, type Kind, type Net } from './types.ts';
import { COMMON_KEYS, DEVICE_UNSUPPORTED, readDevice, readRenderer } from './v2-device.ts';
import { type Report } from '../../../core/problem.ts';
import { Fields, GLOB, ID, IFNAME, MAC, readString } from './validate.ts';

const SECTIONS: ReadonlyArray<[string, Kind]> = [
  ['ethernets', 'ethernet'],
  ['bonds', 'bond'],
  ['bridges', 'bridge'],
  ['vlans', 'vlan'],
];

const ELSEWHERE = 'kiln renders ethernets, bonds, bridges and vlans only; set this up after boot';
const TOP_UNSUPPORTED: Readonly<Record<string, string>> = {
  wifis: 'systemd-networkd does not manage Wi-Fi',
  modems: 'systemd-networkd does not manage modems',
  tunnels: ELSEWHERE,
  vrfs: ELSEWHERE,
  'dummy-devices': ELSEWHERE,
  'virtual-ethernets': ELSEWHERE,
  'nm-devices': 'it passes settings through to NetworkManager',
  openvswitch: 'kiln does not set up Open vSwitch',
};

const HARDWARE = 'offloads, Wake-on-LAN and SR-IOV are left at the driver defaults; set them with a systemd .link file via write_files';
const ETHERNET_UNSUPPORTED: Readonly<Record<string, string>> = Object.fromEntries(
  [
    'wakeonlan',
    'receive-checksum-offload',
    'transmit-checksum-offload',
    'tcp-segmentation-offload',
    'tcp6-segmentation-offload',
    'generic-segmentation-offload',
    'generic-receive-offload',
    'large-receive-offload',
    'link',
    'virtual-function-count',
    'embedded-switch-mode',
    'delay-virtual-functions-rebind',
    'infiniband-mode',
  ]
    .map((k) => [k, HARDWARE])
    .concat([['auth', 'kiln does not configure 802.1X authentication']]),
);

const KIND_KEYS: Readonly<Record<Kind, readonly string[]>> = {
  ethernet: ['match', 'set-name'],
  bond: ['interfaces', 'parameters'],
  bridge: ['interfaces', 'parameters'],
  vlan: ['id', 'link'],
};

interface Defs {
  report: Report;
  byId: Map<string, { f: Fields; n: Net }>;
  /** Ids defined in sections kiln does not render, to say so when something refers to them. */
  elsewhere: Map<string, string>;
}

export function parseV2(report: Report, doc: Fields): Net[] {
  doc.keys(['version', 'renderer', ...SECTIONS.map(([s]) => s)], TOP_UNSUPPORTED);
  readRenderer(report, doc);
  const defs: Defs = { report, byId: new Map(), elsewhere: new Map() };
  for (const section of Object.keys(TOP_UNSUPPORTED)) {
    const block = doc.value[section];
    if (block && typeof block === 'object') for (const id of Object.keys(block)) defs.elsewhere.set(id, section);
  }
  const sectionOf = new Map<string, string>();
  for (const [section, kind] of SECTIONS) {
    const block = doc.map(section, `a mapping of ids to ${section} settings`);
    if (!block) continue;
    for (const [id, value] of Object.entries(block.value)) {
      if (id === 'renderer') {
        readRenderer(report, block);
        continue;
      }
      const path = block.at(id);
      const format = kind === 'ethernet' ? ID : IFNAME;
      if (!format.test(id)) {
        report.error(
          path,
          `"${id}" is not ${format.what}`,
          kind === 'ethernet'
            ? format.hint
            : `the id is the ${kind}'s interface name: ${format.hint.replace(/^a Linux interface name: /, '')}`,
        );
        continue;
      }
      if (sectionOf.has(id)) {
        report.error(
          path,
          `"${id}" is already defined under ${sectionOf.get(id)}`,
          'ids must be unique across ethernets, bonds, bridges and vlans',
        );
        continue;
      }
      sectionOf.set(id, section);
      const f = Fields.of(report, value ?? {}, path, `"${id}"`, 'a mapping of settings ({} for none)');
      if (!f) continue;
      const n = newNet(id, kind, path);
      f.keys(
        [...COMMON_KEYS, ...KIND_KEYS[kind]],
        kind === 'ethernet' ? { ...DEVICE_UNSUPPORTED, ...ETHERNET_UNSUPPORTED } : DEVICE_UNSUPPORTED,
      );
      readDevice(report, f, n);
      defs.byId.set(id, { f, n });
    }
  }
  const vlanKeys = new Map<string, string>();
  for (const { f, n } of defs.byId.values()) {
    if (n.kind === 'ethernet') readEthernet(f, n);
    else if (n.kind === 'vlan') readVlan(defs, f, n, vlanKeys);
    else readMembers(defs, f, n);
  }
  return [...defs.byId.values()].map((d) => d.n);
}

function readEthernet(f: Fields, n: Net): void {
  const r = f.report;
  const match = f.map('match', 'a mapping with macaddress, name and/or driver');
  if (match) {
    match.keys(['macaddress', 'name', 'driver']);
    const mac = match.str('macaddress', MAC)?.toLowerCase();
    const name = match.str('name', GLOB);
    const rawDriver = match.value.driver;
    const driver =
      typeof rawDriver === 'string' || rawDriver == null
        ? match.str('driver', GLOB)
        : match.strings('driver', GLOB, 'a driver name or glob, or a list of them');
    n.match = { mac, name, driver: driver === undefined ? undefined : [driver].flat(), macPath: match.at('macaddress') };
    if (!Object.keys(match.value).length)
      r.error(
        f.at('match'),
        'match is empty',
        'give at least one of macaddress, name or driver; without match the id is the interface name',
      );
  } else if (!IFNAME.test(n.id)) {
    r.error(
      n.path,
      `"${n.id}" is not a valid interface name, and without match: the id is the interface name`,
      `${IFNAME.hint}; or add match: {macaddress: ...} and use the id as a label`,
    );
  }
  const setName = f.str('set-name', IFNAME);
  if (setName === undefined) return;
  if (!match) {
    r.error(f.at('set-name'), 'set-name needs a match', 'add match: {macaddress: ...} so the device to rename is known');
    return;
  }
  n.setName = setName;
  if (!n.match?.mac)
    r.warn(
      f.at('set-name'),
      'set-name without match.macaddress renames by the kernel’s original name (eth0, ...), not the predictable name',
      'match the device by macaddress so the rename is reliable',
    );
}

function readVlan(defs: Defs, f: Fields, n: Net, seen: Map<string, string>): void {
  const hasId = f.need('id', 'the VLAN id: a number from 0 to 4094');
  const hasLink = f.need('link', 'the id of the ethernet, bond or bridge the VLAN is created on');
  const vid = f.int('id', 0, 4094, 'a VLAN id from 0 to 4094');
  const link = f.str('link');
  if (vid !== undefined) n.netdev.push(['Id', String(vid)]);
  if (!hasId || !hasLink || link === undefined) return;
  const parent = resolve(defs, link, f.at('link'), ['ethernet', 'bond', 'bridge'], 'VLAN link');
  if (!parent) return;
  if (parent.master) {
    defs.report.error(
      f.at('link'),
      `"${link}" is a member of ${parent.master.kind} "${parent.master.name}"`,
      `create the VLAN on "${parent.master.name}" instead`,
    );
    return;
  }
  const key = `${link}/${vid}`;
  if (vid !== undefined && seen.has(key)) {
    defs.report.error(
      f.at('id'),
      `VLAN ${vid} on "${link}" is already defined as "${seen.get(key)}"`,
      'each VLAN id can exist once per link',
    );
    return;
  }
  seen.set(key, n.id);
  parent.vlans.push(n.id);
}

/** A bond's or bridge's interfaces and parameters. */
function readMembers(defs: Defs, f: Fields, n: Net): void {
  const kind = n.kind as 'bond' | 'bridge';
  const r = defs.report;
  const members = new Map<string, Net>();
  const names = f.list('interfaces', `a list of ids to add to the ${kind}, e.g. [eno1, eno2]`);
  if (!names || names.length === 0) r.warn(f.path, `${kind} "${n.id}" has no interfaces`, `list its members under interfaces: [...]`);
  for (const [i, raw] of (names ?? []).entries()) {
    const path = f.at('interfaces', i);
    const id = readString(r, raw, path);
    const member =
      id === undefined
        ? undefined
        : resolve(defs, id, path, kind === 'bond' ? ['ethernet'] : ['ethernet', 'bond', 'vlan'], `${kind} member`);
    if (!member || id === undefined) continue;
    if (member.master) {
      r.error(
        path,
        `"${id}" is already a member of ${member.master.kind} "${member.master.name}"`,
        'an interface can belong to one bond or bridge only',
      );
      continue;
    }
    member.master = { kind, name: n.id };
    members.set(id, member);
  }
  const params = f.map('parameters', `a mapping of ${kind} parameters`);
  if (!params) return;
  const table = kind === 'bond' ? V2_BOND : V2_BRIDGE;
  params.keys([...Object.keys(table), ...(kind === 'bond' ? ['primary'] : ['path-cost', 'port-priority'])]);
  n.netdev.push(...readParams(params, table));
  if (kind === 'bridge') {
    readPorts(params, 'path-cost', 'Cost', 1, 65535, members);
    readPorts(params, 'port-priority', 'Priority', 0, 63, members);
    return;
  }
  const mode = n.netdev.find(([k]) => k === 'Mode')?.[1] ?? BOND_MODES[0];
  for (const key of ['lacp-rate', 'ad-select'])
    if (params.has(key) && mode !== '802.3ad')
      r.warn(params.at(key), `${key} has no effect in mode ${mode}`, 'it applies to mode 802.3ad (LACP) only');
  const primary = params.str('primary');
  if (primary === undefined) return;
  const member = members.get(primary);
  if (!member)
    r.error(
      params.at('primary'),
      `primary "${primary}" is not one of the bond's interfaces`,
      `one of: ${[...members.keys()].join(', ') || 'none listed'}`,
    );
  else if (!PRIMARY_MODES.includes(mode))
    r.warn(params.at('primary'), `primary has no effect in mode ${mode}`, `it applies to ${PRIMARY_MODES.join(', ')}`);
  else member.primary = true;
}

/** Per-port bridge settings: a mapping of member id to number. */
function readPorts(params: Fields, key: string, setting: string, min: number, max: number, members: Map<string, Net>): void {
  const ports = params.map(key, `a mapping of member id to number, e.g. {eno1: ${max === 63 ? 32 : 100}}`);
  if (!ports) return;
  for (const id of Object.keys(ports.value)) {
    const member = members.get(id);
    const value = ports.int(id, min, max);
    if (!member)
      ports.report.error(
        ports.at(id),
        `"${id}" is not one of the bridge's interfaces`,
        `one of: ${[...members.keys()].join(', ') || 'none listed'}`,
      );
    else if (value !== undefined) member.port.push([setting, String(value)]);
  }
}

function resolve(defs: Defs, id: string, path: string, kinds: Kind[], role: string): Net | undefined {
  const r = defs.report;
  const found = defs.byId.get(id);
  if (!found) {
    const other = defs.elsewhere.get(id);
    if (other)
      r.error(
        path,
        `${role} "${id}" is defined under ${other}, which kiln does not render`,
        `${role}s must be ${kinds.join(', ')} definitions`,
      );
    else {
      const candidates = [...defs.byId.values()].filter((d) => kinds.includes(d.n.kind)).map((d) => d.n.id);
      const near = closest(id, candidates);
      const known = `candidates (${kinds.map((k) => `${k}s`).join(', ')}): ${candidates.join(', ') || 'none'}`;
      r.error(path, `${role} "${id}" is not defined`, near ? `did you mean "${near}"? ${known}` : `define it first; ${known}`);
    }
    return undefined;
  }
  if (!kinds.includes(found.n.kind)) {
    r.error(path, `${role} "${id}" is a ${found.n.kind}`, `${role}s must be ${kinds.map((k) => `${k}s`).join(' or ')}`);
    return undefined;
  }
  return found.n;
}
