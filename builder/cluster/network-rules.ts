// The cluster spec's network rules: subnets kubeadm and the control plane accept, addresses and
// VIPs on the right links, gateways and routes that can work, policy routing in whole halves.
import type { Rule } from '../../core/rules.ts';
import { familyOf, subnetProblems } from '../../node/config/subnets.ts';
import { contains, overlaps, parseNet } from './ip.ts';
import {
  addressEntries,
  advertiseAddressOf,
  familiesOf,
  isControlPlane,
  nodeIpsOf,
  podSubnetsOf,
  poolMembers,
  serviceSubnetsOf,
} from './model.ts';
import type { ClusterSpec } from './schema.ts';

/** The kernel's own tables (default, main, local): rules may look them up without routes of ours. */
const BUILTIN_TABLES = [253, 254, 255];
const MAIN_TABLE = 254;
const LINK_LOCAL_V6 = parseNet('fe80::/10')!;

export const NETWORK_RULES: Array<Rule<ClusterSpec>> = [
  {
    name: 'addresses-outside-cluster-subnets',
    check: (s) => {
      const subnets = [
        ...podSubnetsOf(s).map((c) => ['podSubnet', c] as const),
        ...serviceSubnetsOf(s).map((c) => ['serviceSubnet', c] as const),
      ];
      const vip = { ip: s.controlPlane.vip, path: '/controlPlane/vip', node: 'the control plane' };
      return [...addressEntries(s), vip].flatMap((a) =>
        subnets
          .filter(([, cidr]) => parseNet(cidr) && contains(parseNet(cidr)!, a.ip))
          .map(([name, cidr]) => ({
            path: a.path,
            message: `${a.ip} lies in the ${name} ${cidr}`,
            hint: `pods and services are routed inside the cluster: move network.${name} (or the address) so they do not overlap`,
          })),
      );
    },
  },
  {
    name: 'pod-and-service-subnets-disjoint',
    check: (s) =>
      podSubnetsOf(s).flatMap((p) =>
        serviceSubnetsOf(s)
          .filter((v) => parseNet(p) && parseNet(v) && overlaps(parseNet(p)!, parseNet(v)!))
          .map((v) => ({
            path: s.network?.serviceSubnet ? '/network/serviceSubnet' : '/network/podSubnet',
            message: `the pod subnet ${p} and the service subnet ${v} overlap`,
            hint: 'e.g. pods 10.244.0.0/16 and services 10.96.0.0/12 (the defaults)',
          })),
      ),
  },
  {
    name: 'cluster-networks-kubeadm-runs',
    check: (s) => {
      const at = { pods: '/network/podSubnet', services: '/network/serviceSubnet' } as const;
      const net = subnetProblems(podSubnetsOf(s), serviceSubnetsOf(s)).map((p) => ({
        path: at[p.field as 'pods' | 'services'],
        message: p.message,
        hint: p.hint,
      }));
      if (net.length > 0) return net;
      // every node: kubelet's addresses of the pods' families; control planes: what kube-apiserver advertises
      return s.nodes.flatMap((n, i) => {
        const ips = nodeIpsOf(s, n) ?? [advertiseAddressOf(s, n)];
        const apiServerAddress = isControlPlane(n) ? advertiseAddressOf(s, n) : undefined;
        return subnetProblems(podSubnetsOf(s), serviceSubnetsOf(s), { ips, apiServerAddress }).map((p) => ({
          path: p.field === 'advertiseAddress' ? `/nodes/${i}` : `/nodes/${i}/interfaces`,
          message: `${n.name}: ${p.message}`,
          hint:
            p.field === 'advertiseAddress'
              ? p.hint
              : familiesOf(s).length > 1
                ? 'a dual-stack cluster needs an IPv4 and an IPv6 address on every node (its interfaces list both)'
                : "give the node an address of the pod networks' family, or networks of its own family",
        }));
      });
    },
  },
  {
    name: 'pool-vips-on-link',
    check: (s) => {
      const pool = s.keepalived.externalVips;
      if (!pool) return [];
      const name = pool.interface ?? s.keepalived.interface;
      return s.nodes.flatMap((n, i) => {
        if (!poolMembers(s).includes(n.name)) return [];
        const j = n.interfaces.findIndex((itf) => itf.name === name);
        if (j < 0)
          return [
            {
              path: `/nodes/${i}/interfaces`,
              message: `${n.name} holds the VIP pool and has no interface ${name} (${pool.interface ? 'keepalived.externalVips.interface' : 'keepalived.interface'})`,
              hint: `every pool member runs the pool's VRRP instances on ${name}: name that NIC so`,
            },
          ];
        const itf = n.interfaces[j]!;
        return pool.addresses
          .filter((vip) => !itf.addresses.some((a) => contains(parseNet(a)!, vip)))
          .map((vip) => ({
            path: `/nodes/${i}/interfaces/${j}/addresses`,
            message: `the pool VIP ${vip} is not in any subnet of ${n.name}'s ${name} (${itf.addresses.join(', ')})`,
            hint: "VRRP moves an address within one layer-2 network: give the pool interface an address in the VIPs' subnet",
          }));
      });
    },
  },
  {
    name: 'route-gateways-on-link',
    check: (s) =>
      s.nodes.flatMap((n, i) =>
        n.interfaces.flatMap((itf, j) =>
          (itf.routes ?? []).flatMap((r, k) =>
            // an IPv6 link-local gateway is on every link by definition
            r.via && !r.onLink && !contains(LINK_LOCAL_V6, r.via) && !itf.addresses.some((a) => contains(parseNet(a)!, r.via!))
              ? [
                  {
                    path: `/nodes/${i}/interfaces/${j}/routes/${k}/via`,
                    message: `gateway ${r.via} is not in a subnet of ${itf.name} (${itf.addresses.join(', ')})`,
                    hint: 'route via a router on the same link, or set onLink: true when it is reachable there anyway',
                  },
                ]
              : [],
          ),
        ),
      ),
  },
  {
    // policy routing is two halves: routes in a table of their own, and a rule that looks it up
    name: 'route-tables-looked-up',
    check: (s) =>
      s.nodes.flatMap((n, i) => {
        const looked = new Set(n.interfaces.flatMap((itf) => (itf.routingPolicy ?? []).map((r) => r.table)));
        const filled = new Set(n.interfaces.flatMap((itf) => (itf.routes ?? []).flatMap((r) => (r.table === undefined ? [] : [r.table]))));
        return n.interfaces.flatMap((itf, j) => [
          ...(itf.routes ?? []).flatMap((r, k) =>
            r.table !== undefined && !BUILTIN_TABLES.includes(r.table) && !looked.has(r.table)
              ? [
                  {
                    path: `/nodes/${i}/interfaces/${j}/routes/${k}/table`,
                    message: `no routingPolicy rule of ${n.name} looks up table ${r.table}`,
                    hint: `add routingPolicy: [{ from: <the interface's subnet>, table: ${r.table} }] so replies leave by ${itf.name}`,
                  },
                ]
              : [],
          ),
          ...(itf.routingPolicy ?? []).flatMap((r, k) =>
            !BUILTIN_TABLES.includes(r.table) && !filled.has(r.table)
              ? [
                  {
                    path: `/nodes/${i}/interfaces/${j}/routingPolicy/${k}/table`,
                    message: `no route of ${n.name} goes into table ${r.table}`,
                    hint: `the traffic this rule selects finds table ${r.table} empty: add routes with table: ${r.table}`,
                  },
                ]
              : [],
          ),
        ]);
      }),
  },
  {
    name: 'gateway-on-link',
    check: (s) =>
      s.nodes.flatMap((n, i) =>
        n.interfaces.flatMap((itf, j) =>
          itf.gateway && !itf.addresses.some((a) => contains(parseNet(a)!, itf.gateway!))
            ? [
                {
                  path: `/nodes/${i}/interfaces/${j}/gateway`,
                  message: `gateway ${itf.gateway} is not in a subnet of ${itf.name} (${itf.addresses.join(', ')})`,
                  hint: 'a default route goes via a router on the same link',
                },
              ]
            : [],
        ),
      ),
  },
  {
    // the kernel keeps one default route per family in the main table: a gateway is one, and so is
    // a `to: default` route without a table of its own
    name: 'one-default-route',
    check: (s) =>
      s.nodes.flatMap((n, i) => {
        const defaults = n.interfaces.flatMap((itf, j) => [
          ...(itf.gateway ? [{ family: familyOf(itf.gateway), path: `/nodes/${i}/interfaces/${j}/gateway` }] : []),
          ...(itf.routes ?? []).flatMap((r, k) =>
            r.to === 'default' && (r.table === undefined || r.table === MAIN_TABLE) && r.metric === undefined && r.via
              ? [{ family: familyOf(r.via), path: `/nodes/${i}/interfaces/${j}/routes/${k}` }]
              : [],
          ),
        ]);
        return defaults
          .filter((d, k) => defaults.findIndex((e) => e.family === d.family) !== k)
          .map((d) => ({
            path: d.path,
            message: `${n.name} has more than one IPv${d.family} default route in the main table`,
            hint: 'one default route per node: keep the gateway on the interface that reaches the outside, and put others in a table of their own (or give them a metric)',
          }));
      }),
  },
];
