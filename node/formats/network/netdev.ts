// Bond and bridge parameters of both versions, as tables from the config key to the networkd key
// (systemd 252's systemd.netdev [Bond] and [Bridge] sections) and the value's type.
import { closest } from '../../../core/schema.ts';
import type { Entries } from './types.ts';
import { type Fields, IPV4, MAC, show, toTimespan } from './validate.ts';

export type Param =
  | { type: 'enum'; key: string; values: readonly string[]; aliases?: Readonly<Record<string, string>> }
  | { type: 'int'; key: string; min: number; max: number }
  | { type: 'bool'; key: string }
  | { type: 'time'; key: string; unit: 'ms' | 's' }
  | { type: 'ipv4s'; key: string }
  | { type: 'mac'; key: string };

export const BOND_MODES = ['balance-rr', 'active-backup', 'balance-xor', 'broadcast', '802.3ad', 'balance-tlb', 'balance-alb'] as const;
/** Modes in which a primary member means something. */
export const PRIMARY_MODES = ['active-backup', 'balance-tlb', 'balance-alb'];

const mode: Param = {
  type: 'enum',
  key: 'Mode',
  values: BOND_MODES,
  aliases: Object.fromEntries(BOND_MODES.map((m, i) => [String(i), m])),
};
const lacpRate: Param = { type: 'enum', key: 'LACPTransmitRate', values: ['slow', 'fast'], aliases: { '0': 'slow', '1': 'fast' } };
const hashPolicy: Param = { type: 'enum', key: 'TransmitHashPolicy', values: ['layer2', 'layer3+4', 'layer2+3', 'encap2+3', 'encap3+4'] };
const adSelect: Param = { type: 'enum', key: 'AdSelect', values: ['stable', 'bandwidth', 'count'] };
const allActive: Param = { type: 'bool', key: 'AllSlavesActive' };
const arpValidate: Param = { type: 'enum', key: 'ARPValidate', values: ['none', 'active', 'backup', 'all'] };
const arpAll: Param = { type: 'enum', key: 'ARPAllTargets', values: ['any', 'all'] };
const failOverMac: Param = { type: 'enum', key: 'FailOverMACPolicy', values: ['none', 'active', 'follow'] };
const gratuitousArp: Param = { type: 'int', key: 'GratuitousARP', min: 0, max: 255 };
const perSlave: Param = { type: 'int', key: 'PacketsPerSlave', min: 0, max: 65535 };
const reselect: Param = { type: 'enum', key: 'PrimaryReselectPolicy', values: ['always', 'better', 'failure'] };

/** netplan `bonds.<id>.parameters` (without `primary`, which marks a member). */
export const V2_BOND: Readonly<Record<string, Param>> = {
  mode,
  'lacp-rate': lacpRate,
  'transmit-hash-policy': hashPolicy,
  'ad-select': adSelect,
  'mii-monitor-interval': { type: 'time', key: 'MIIMonitorSec', unit: 'ms' },
  'up-delay': { type: 'time', key: 'UpDelaySec', unit: 'ms' },
  'down-delay': { type: 'time', key: 'DownDelaySec', unit: 'ms' },
  'min-links': { type: 'int', key: 'MinLinks', min: 0, max: 65535 },
  'arp-interval': { type: 'time', key: 'ARPIntervalSec', unit: 'ms' },
  'arp-ip-targets': { type: 'ipv4s', key: 'ARPIPTargets' },
  'arp-validate': arpValidate,
  'arp-all-targets': arpAll,
  'fail-over-mac-policy': failOverMac,
  'primary-reselect-policy': reselect,
  'gratuitous-arp': gratuitousArp,
  'gratuitious-arp': gratuitousArp,
  'packets-per-slave': perSlave,
  'packets-per-member': perSlave,
  'resend-igmp': { type: 'int', key: 'ResendIGMP', min: 0, max: 255 },
  'learn-packet-interval': { type: 'time', key: 'LearnPacketIntervalSec', unit: 's' },
  'all-slaves-active': allActive,
  'all-members-active': allActive,
};

/** cloud-init v1 `params` of a bond (ifupdown's bond-* options; without `bond-primary`). */
export const V1_BOND: Readonly<Record<string, Param>> = {
  'bond-mode': mode,
  'bond-lacp_rate': lacpRate,
  'bond-xmit_hash_policy': hashPolicy,
  'bond-ad_select': adSelect,
  'bond-miimon': { type: 'time', key: 'MIIMonitorSec', unit: 'ms' },
  'bond-updelay': { type: 'time', key: 'UpDelaySec', unit: 'ms' },
  'bond-downdelay': { type: 'time', key: 'DownDelaySec', unit: 'ms' },
  'bond-min_links': { type: 'int', key: 'MinLinks', min: 0, max: 65535 },
  'bond-arp_interval': { type: 'time', key: 'ARPIntervalSec', unit: 'ms' },
  'bond-arp_ip_target': { type: 'ipv4s', key: 'ARPIPTargets' },
  'bond-arp_validate': arpValidate,
  'bond-arp_all_targets': arpAll,
  'bond-fail_over_mac': failOverMac,
  'bond-primary_reselect': reselect,
  'bond-num_grat_arp': gratuitousArp,
  'bond-packets_per_slave': perSlave,
  'bond-resend_igmp': { type: 'int', key: 'ResendIGMP', min: 0, max: 255 },
  'bond-lp_interval': { type: 'time', key: 'LearnPacketIntervalSec', unit: 's' },
  'bond-all_slaves_active': allActive,
  'bond-ad_actor_sys_prio': { type: 'int', key: 'AdActorSystemPriority', min: 1, max: 65535 },
  'bond-ad_user_port_key': { type: 'int', key: 'AdUserPortKey', min: 0, max: 1023 },
  'bond-ad_actor_system': { type: 'mac', key: 'AdActorSystem' },
  'bond-tlb_dynamic_lb': { type: 'bool', key: 'DynamicTransmitLoadBalancing' },
};

const NO_NETWORKD = 'systemd-networkd has no setting for it';
export const V1_BOND_UNSUPPORTED: Readonly<Record<string, string>> = {
  'bond-active_slave': 'set bond-primary instead (networkd marks the primary member)',
  'bond-ad_actor_key': NO_NETWORKD,
  'bond-ad_aggregator': NO_NETWORKD,
  'bond-ad_num_ports': NO_NETWORKD,
  'bond-ad_partner_key': NO_NETWORKD,
  'bond-ad_partner_mac': NO_NETWORKD,
  'bond-mii_status': 'it is read-only bond state',
  'bond-queue_id': NO_NETWORKD,
  'bond-use_carrier': NO_NETWORKD,
  'bond-num_unsol_na': NO_NETWORKD,
  'bond-peer_notif_delay': NO_NETWORKD,
  'bond-slaves': 'the members come from bond_interfaces',
};

/** netplan `bridges.<id>.parameters` (without the per-port path-cost and port-priority). */
export const V2_BRIDGE: Readonly<Record<string, Param>> = {
  stp: { type: 'bool', key: 'STP' },
  priority: { type: 'int', key: 'Priority', min: 0, max: 65535 },
  'forward-delay': { type: 'time', key: 'ForwardDelaySec', unit: 's' },
  'hello-time': { type: 'time', key: 'HelloTimeSec', unit: 's' },
  'max-age': { type: 'time', key: 'MaxAgeSec', unit: 's' },
  'ageing-time': { type: 'time', key: 'AgeingTimeSec', unit: 's' },
};

/** cloud-init v1 bridge `params` (bridge-utils names). */
export const V1_BRIDGE: Readonly<Record<string, Param>> = {
  bridge_stp: { type: 'bool', key: 'STP' },
  bridge_bridgeprio: { type: 'int', key: 'Priority', min: 0, max: 65535 },
  bridge_fd: { type: 'time', key: 'ForwardDelaySec', unit: 's' },
  bridge_hello: { type: 'time', key: 'HelloTimeSec', unit: 's' },
  bridge_maxage: { type: 'time', key: 'MaxAgeSec', unit: 's' },
  bridge_ageing: { type: 'time', key: 'AgeingTimeSec', unit: 's' },
};

/** Reads the parameters a table knows into networkd entries, in table order; other keys are the caller's. */
export function readParams(f: Fields, table: Readonly<Record<string, Param>>): Entries {
  const out = new Map<string, string>();
  for (const [name, param] of Object.entries(table)) {
    if (!f.has(name)) continue;
    const value = readParam(f, name, param);
    if (value !== undefined) out.set(param.key, value);
  }
  return [...out];
}

function readParam(f: Fields, name: string, p: Param): string | undefined {
  const raw = f.value[name];
  const path = f.at(name);
  switch (p.type) {
    case 'enum': {
      const text = typeof raw === 'number' ? String(raw) : raw;
      const value = typeof text === 'string' ? (p.aliases?.[text] ?? text) : undefined;
      if (value !== undefined && p.values.includes(value)) return value;
      const near = typeof text === 'string' ? closest(text, [...p.values]) : undefined;
      f.report.error(
        path,
        `${show(raw)} is not one of: ${p.values.join(', ')}`,
        near ? `did you mean "${near}"?` : `one of: ${p.values.join(', ')}`,
      );
      return undefined;
    }
    case 'int':
      return f.int(name, p.min, p.max)?.toString();
    case 'bool': {
      const b = f.bool(name);
      return b === undefined ? undefined : b ? 'yes' : 'no';
    }
    case 'time': {
      const span = toTimespan(raw, p.unit);
      if (span === undefined)
        f.report.error(
          path,
          `${show(raw)} is not a duration`,
          `a number of ${p.unit === 'ms' ? 'milliseconds' : 'seconds'}, or a number with a unit such as 100ms or 2s`,
        );
      return span;
    }
    case 'ipv4s': {
      // netplan: a list; ifupdown (v1): one string, space- or comma-separated
      const items = typeof raw === 'string' ? raw.split(/[\s,]+/).filter(Boolean) : f.strings(name, IPV4, 'a list of IPv4 addresses');
      if (!items) return undefined;
      const bad = typeof raw === 'string' ? items.filter((a) => !IPV4.test(a)) : [];
      if (bad.length > 0)
        f.report.error(path, `${show(bad[0])} is not an IPv4 address`, 'IPv4 addresses of hosts on the link to send ARP probes to');
      else if (items.length > 16) f.report.error(path, `${items.length} ARP targets given`, 'the bonding driver takes at most 16');
      else if (items.length > 0) return items.join(' ');
      return undefined;
    }
    case 'mac':
      return f.str(name, MAC)?.toLowerCase();
  }
}
