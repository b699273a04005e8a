// Checks of a cluster spec the schema cannot express, as a table: each rule looks at the whole
// spec and reports problems with the JSON path of the value to fix.
import type { Finding } from '../../core/problem.ts';
import type { Rule } from '../../core/rules.ts';
import { restrictedLabel } from '../../node/config/parse.ts';
import { canonicalIp, contains, parseNet } from './ip.ts';
import { addressEntries, addressesOf, advertiseAddressOf, controlPlanes, isControlPlane, poolMembers, vrrpInterfaceOf } from './model.ts';
import type { ClusterSpec } from './schema.ts';
import { NETWORK_RULES } from './network-rules.ts';

const escape = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** Reports each value seen before (by `key`) at its later occurrences. */
function duplicates<T>(items: T[], key: (t: T) => string, report: (t: T, first: T) => Finding): Finding[] {
  const seen = new Map<string, T>();
  return items.flatMap((t) => {
    const first = seen.get(key(t));
    if (first === undefined) seen.set(key(t), t);
    return first === undefined ? [] : [report(t, first)];
  });
}

const rules: Array<Rule<ClusterSpec>> = [
  {
    name: 'exactly-one-init',
    check: (s) => {
      const inits = s.nodes.flatMap((n, i) => (n.role === 'init' ? [i] : []));
      if (inits.length === 0)
        return [
          {
            path: '/nodes',
            message: 'no node has role init',
            hint: 'give exactly one control plane role: init; it runs kubeadm init, the others join it',
          },
        ];
      return inits.slice(1).map((i) => ({
        path: `/nodes/${i}/role`,
        message: `a second init node (the first is /nodes/${inits[0]})`,
        hint: 'only one node runs kubeadm init; make this one role: control-plane',
      }));
    },
  },
  {
    name: 'node-names-unique',
    check: (s) =>
      duplicates(
        s.nodes.map((n, i) => ({ n, i })),
        ({ n }) => n.name,
        ({ n, i }, f) => ({
          path: `/nodes/${i}/name`,
          message: `node name "${n.name}" is taken by /nodes/${f.i}`,
          hint: 'node names are host names and Kubernetes node names: one per machine',
        }),
      ),
  },
  {
    name: 'addresses-unique',
    check: (s) =>
      duplicates(
        addressEntries(s),
        (a) => a.ip,
        (a, f) => ({
          path: a.path,
          message: `${a.ip} is also ${f.node}'s address (${f.path})`,
          hint: 'every interface address must be unique in the cluster',
        }),
      ),
  },
  {
    name: 'macs-unique',
    check: (s) => {
      const macs = s.nodes.flatMap((n, i) =>
        n.interfaces.flatMap((itf, j) =>
          itf.mac ? [{ mac: itf.mac.toLowerCase(), node: n.name, path: `/nodes/${i}/interfaces/${j}/mac` }] : [],
        ),
      );
      return duplicates(
        macs,
        (m) => m.mac,
        (m, f) => ({
          path: m.path,
          message: `MAC ${m.mac} is also ${f.node}'s (${f.path})`,
          hint: 'a MAC names one NIC; copy-pasted VM definitions need their own MACs',
        }),
      );
    },
  },
  {
    name: 'interface-names-unique',
    check: (s) =>
      s.nodes.flatMap((n, i) =>
        duplicates(
          n.interfaces.map((itf, j) => ({ itf, j })),
          ({ itf }) => itf.name,
          ({ itf, j }, f) => ({
            path: `/nodes/${i}/interfaces/${j}/name`,
            message: `${n.name} has two interfaces named ${itf.name} (also /nodes/${i}/interfaces/${f.j})`,
            hint: 'name each NIC of a node differently',
          }),
        ),
      ),
  },
  {
    name: 'advertise-address-is-own',
    check: (s) =>
      s.nodes.flatMap((n, i) =>
        n.advertiseAddress && !addressesOf(n).map(canonicalIp).includes(canonicalIp(n.advertiseAddress))
          ? [
              {
                path: `/nodes/${i}/advertiseAddress`,
                message: `${n.advertiseAddress} is not one of ${n.name}'s interface addresses`,
                hint: `use one of: ${addressesOf(n).join(', ')}`,
              },
            ]
          : [],
      ),
  },
  {
    name: 'vip-not-a-node-address',
    check: (s) =>
      addressEntries(s)
        .filter((a) => a.ip === canonicalIp(s.controlPlane.vip))
        .map((a) => ({
          path: '/controlPlane/vip',
          message: `the VIP ${s.controlPlane.vip} is ${a.node}'s own address (${a.path})`,
          hint: 'the VIP moves between control planes: pick a free address in their subnet',
        })),
  },
  {
    name: 'vip-interface-on-control-planes',
    check: (s) =>
      s.nodes.flatMap((n, i) =>
        (isControlPlane(n) || poolMembers(s).includes(n.name)) && !vrrpInterfaceOf(s, n)
          ? [
              {
                path: `/nodes/${i}/interfaces`,
                message: `${n.name} has no interface ${s.keepalived.interface} (keepalived.interface)`,
                hint: `keepalived runs on ${s.keepalived.interface} on every control plane and VIP pool member: name that NIC so`,
              },
            ]
          : [],
      ),
  },
  {
    name: 'vip-in-control-plane-subnet',
    check: (s) =>
      s.nodes.flatMap((n, i) => {
        const itf = isControlPlane(n) ? vrrpInterfaceOf(s, n) : undefined;
        if (!itf || itf.addresses.some((a) => contains(parseNet(a)!, s.controlPlane.vip))) return [];
        return [
          {
            path: `/nodes/${i}/interfaces/${n.interfaces.indexOf(itf)}/addresses`,
            message: `the VIP ${s.controlPlane.vip} is not in any subnet of ${n.name}'s ${itf.name} (${itf.addresses.join(', ')})`,
            hint: 'VRRP only moves an address within one layer-2 network: the VIP must be in the subnet of every control plane',
          },
        ];
      }),
  },
  {
    name: 'odd-control-planes',
    check: (s) => {
      const count = controlPlanes(s).length;
      return count % 2 === 0
        ? [
            {
              path: '/nodes',
              message: `${count} control planes: etcd needs a majority, so ${count} survive no more failures than ${count - 1}`,
              hint: 'use an odd number of control planes (1, 3 or 5)',
            },
          ]
        : [];
    },
  },
  {
    name: 'somewhere-for-workloads',
    check: (s) =>
      s.nodes.some((n) => n.role === 'worker' || n.hyperconverged)
        ? []
        : [
            {
              path: '/nodes',
              message: 'no worker and no hyperconverged control plane: pods would have nowhere to run',
              hint: 'add a node with role: worker, or set hyperconverged: true on the control planes',
            },
          ],
  },
  {
    name: 'hyperconverged-control-planes-only',
    check: (s) =>
      s.nodes.flatMap((n, i) =>
        n.role === 'worker' && n.hyperconverged !== undefined
          ? [
              {
                path: `/nodes/${i}/hyperconverged`,
                message: 'a worker has no control-plane taint to drop',
                hint: 'remove hyperconverged, or make the node a control plane',
              },
            ]
          : [],
      ),
  },
  {
    name: 'labels-kubelet-may-set',
    check: (s) =>
      s.nodes.flatMap((n, i) =>
        Object.keys(n.labels ?? {})
          .filter(restrictedLabel)
          .map((key) => ({
            path: `/nodes/${i}/labels/${escape(key)}`,
            message: `kubelet may not set the label "${key}" on its own node (NodeRestriction)`,
            hint: 'use your own prefix (example.com/role) or node.kubernetes.io/…',
          })),
      ),
  },
  {
    name: 'pool-members-exist',
    check: (s) =>
      (s.keepalived.externalVips?.nodes ?? []).flatMap((name, i) =>
        s.nodes.some((n) => n.name === name)
          ? []
          : [
              {
                path: `/keepalived/externalVips/nodes/${i}`,
                message: `no node is named "${name}"`,
                hint: `pool members are node names: ${s.nodes.map((n) => n.name).join(', ')}`,
              },
            ],
      ),
  },
  {
    name: 'pool-vips-free',
    check: (s) => {
      const taken = new Map(addressEntries(s).map((a) => [a.ip, `${a.node}'s address`]));
      taken.set(canonicalIp(s.controlPlane.vip), 'the control-plane VIP');
      return (s.keepalived.externalVips?.addresses ?? []).flatMap((ip, i) =>
        taken.has(canonicalIp(ip))
          ? [
              {
                path: `/keepalived/externalVips/addresses/${i}`,
                message: `${ip} is already ${taken.get(canonicalIp(ip))}`,
                hint: 'pool VIPs are free addresses of their own',
              },
            ]
          : [],
      );
    },
  },
  {
    name: 'pool-router-ids-fit',
    check: (s) => {
      const pool = s.keepalived.externalVips;
      if (!pool) return [];
      const last = pool.firstVirtualRouterId + pool.addresses.length - 1;
      const path = '/keepalived/externalVips/firstVirtualRouterId';
      if (last > 255)
        return [
          {
            path,
            message: `${pool.addresses.length} VIPs from router id ${pool.firstVirtualRouterId} run past 255`,
            hint: `start at ${256 - pool.addresses.length} or lower`,
          },
        ];
      const vrid = s.keepalived.virtualRouterId;
      return vrid >= pool.firstVirtualRouterId && vrid <= last
        ? [
            {
              path,
              message: `router ids ${pool.firstVirtualRouterId}–${last} include the control-plane VIP's ${vrid}`,
              hint: 'give the pool a range of its own',
            },
          ]
        : [];
    },
  },
  {
    name: 'addons-unique-and-not-cilium',
    check: (s) => [
      ...duplicates(
        (s.addons ?? []).map((a, i) => ({ a, i })),
        ({ a }) => a.name,
        ({ a, i }, f) => ({
          path: `/addons/${i}/name`,
          message: `${a.name} is listed twice (also /addons/${f.i})`,
          hint: 'list each addon once',
        }),
      ),
      ...(s.addons ?? []).flatMap((a, i) =>
        a.name === 'cilium'
          ? [
              {
                path: `/addons/${i}/name`,
                message: 'Cilium is the CNI, not an addon here',
                hint: 'configure it under cilium: (version, values)',
              },
            ]
          : [],
      ),
    ],
  },
  {
    name: 'advertise-address-family',
    check: (s) =>
      s.nodes.flatMap((n, i) => {
        const v6 = (ip: string) => ip.includes(':');
        return v6(advertiseAddressOf(s, n)) !== v6(s.controlPlane.vip)
          ? [
              {
                path: `/nodes/${i}`,
                message: `${n.name} advertises ${advertiseAddressOf(s, n)}, another address family than the VIP ${s.controlPlane.vip}`,
                hint: 'advertise an address of the same family as the control-plane VIP',
              },
            ]
          : [];
      }),
  },
];

/** The rules, in order (their names identify them in tests). */
export const CLUSTER_RULES = [...rules, ...NETWORK_RULES];
