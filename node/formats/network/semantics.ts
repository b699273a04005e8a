// Checks across interface definitions, whichever version they came from: what would make
// systemd-networkd or the kernel refuse the configuration, or quietly do the wrong thing.
import { hasL3, ifname, type Net, type Route, type Rule } from './types.ts';
import type { Report } from '../../../core/problem.ts';

/** Tables a rule may look up without routes of ours: default, main, local. */
const BUILTIN_TABLES = [253, 254, 255];

export function checkNets(r: Report, nets: Net[]): void {
  members(r, nets);
  names(r, nets);
  defaultRoutes(r, nets);
  tables(r, nets);
  nameservers(r, nets);
}

function members(r: Report, nets: Net[]): void {
  for (const n of nets)
    if (n.master && hasL3(n))
      r.error(
        n.l3 ?? n.path,
        `"${n.id}" is a member of ${n.master.kind} "${n.master.name}" and cannot have addresses, DHCP, routes or DNS of its own`,
        `configure them on "${n.master.name}" (or on a VLAN over it)`,
      );
}

function names(r: Report, nets: Net[]): void {
  const byName = new Map<string, Net>();
  const byMac = new Map<string, Net>();
  for (const n of nets) {
    const name = ifname(n);
    const prev = name === undefined ? undefined : byName.get(name);
    if (prev)
      r.error(
        n.setName ? `${n.path}/set-name` : n.path,
        `interface name "${name}" is already given by "${prev.id}"`,
        'each interface name can be given once',
      );
    else if (name !== undefined) byName.set(name, n);
    const mac = n.match?.mac;
    const first = mac === undefined ? undefined : byMac.get(mac);
    if (first)
      r.error(
        n.match!.macPath ?? n.path,
        `"${first.id}" already matches ${mac}`,
        'a device is configured by the first definition that matches it: merge the two',
      );
    else if (mac !== undefined) byMac.set(mac, n);
  }
}

/** The kernel keeps one default route per family, table and metric: a second one fails or replaces the first. */
function defaultRoutes(r: Report, nets: Net[]): void {
  const seen = new Map<string, Route>();
  for (const route of nets.flatMap((n) => n.routes)) {
    if ((route.to !== '0.0.0.0/0' && route.to !== '::/0') || (route.type && route.type !== 'unicast')) continue;
    const metric = route.metric ?? (route.family === 4 ? 0 : 1024);
    const table = route.table ?? 254;
    const key = `${route.family}/${table}/${metric}`;
    const first = seen.get(key);
    if (!first) {
      seen.set(key, route);
      continue;
    }
    r.error(
      route.path,
      `a second IPv${route.family} default route in ${table === 254 ? 'the main table' : `table ${table}`} with metric ${metric}`,
      `the first is at ${first.path}; give one a different metric, or (multi-homing) put it in its own table with a routing-policy rule`,
    );
  }
}

/** Policy routing is two halves: routes in a table, and a rule that looks the table up. */
function tables(r: Report, nets: Net[]): void {
  const routes = new Map<number, Route>();
  const rules = new Map<number, Rule>();
  for (const n of nets) {
    for (const route of n.routes)
      if (route.table !== undefined && route.table !== 254 && !routes.has(route.table)) routes.set(route.table, route);
    for (const rule of n.rules) if (!rules.has(rule.table)) rules.set(rule.table, rule);
  }
  for (const [table, route] of routes)
    if (!rules.has(table))
      r.warn(
        `${route.path}/table`,
        `no routing-policy rule looks up table ${table}`,
        `routes in table ${table} are used only through a rule: add routing-policy: [{from: <source prefix>, table: ${table}}]`,
      );
  for (const [table, rule] of rules)
    if (!routes.has(table) && !BUILTIN_TABLES.includes(table))
      r.warn(
        `${rule.path}/table`,
        `no route in this config goes into table ${table}`,
        `traffic this rule selects finds table ${table} empty and falls through to later rules; add routes with table: ${table}`,
      );
}

function nameservers(r: Report, nets: Net[]): void {
  const unique: Net['dns'] = [];
  for (const d of nets.flatMap((n) => n.dns)) if (!unique.some((u) => u.value === d.value)) unique.push(d);
  if (unique.length > 2)
    r.warn(
      unique[2]!.path,
      `${unique.length} DNS servers in total; use at most 2`,
      'libc reads only the first 3 nameservers and Kubernetes adds the cluster DNS within that limit (kubelet warns "Nameserver limits exceeded")',
    );
}
