// The VRRP instances a node config asks keepalived for: the control-plane VIP on control planes and
// an optional pool of service VIPs, with their router ids and priorities. Pure, and the one place
// that decides whether a VRRP set-up is one keepalived can run: the node config's rules call it
// before anything is written, and the agent renders keepalived.conf from what it returns.
import { canonicalIp } from '../ip.ts';
import { isIP } from 'node:net';
import { KilnError } from '../../core/errors.ts';
import type { NodeConfig } from './schema.ts';

/** The control-plane endpoint's host (IPv6 without brackets) and port. */
export function controlPlaneEndpoint(config: NodeConfig): { host: string; port: number } {
  const endpoint = config.cluster.controlPlaneEndpoint;
  const at = endpoint.lastIndexOf(':');
  return { host: endpoint.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(endpoint.slice(at + 1)) };
}

/** Pool priorities: the preferred holder gets POOL_BASE, each next member POOL_STEP less. */
const POOL_BASE = 150;
const POOL_STEP = 10;

const fail = (message: string, path: string, hint: string): never => {
  throw new KilnError(message, { path, hint });
};
const isInt = (n: number) => Number.isSafeInteger(n);

/**
 * VRRP priority of pool member `memberIndex` (of `members`) for VIP `vipIndex`. Ranks rotate:
 * member `vipIndex mod members` is preferred (priority `base`), then the next members in order, each
 * `step` lower, so every VIP has a different preferred holder and a failed member's VIPs move to the
 * next one. step = min(10, ⌊(base-1)/(members-1)⌋) keeps all priorities distinct and ≥ 1.
 */
export function vipPriority(vipIndex: number, memberIndex: number, members: number, base = POOL_BASE): number {
  if (!isInt(base) || base < 1 || base > 254) throw new RangeError(`vipPriority: base ${base} is not a VRRP priority (1–254)`);
  if (!isInt(members) || members < 1) throw new RangeError(`vipPriority: members ${members} is not a positive integer`);
  if (!isInt(memberIndex) || memberIndex < 0 || memberIndex >= members)
    throw new RangeError(`vipPriority: memberIndex ${memberIndex} is not in 0…${members - 1}`);
  if (!isInt(vipIndex) || vipIndex < 0) throw new RangeError(`vipPriority: vipIndex ${vipIndex} is not a non-negative integer`);
  if (members > base) {
    fail(
      `a VIP pool of ${members} members cannot give each a different priority below ${base}`,
      '/keepalived/externalVips/members',
      `use at most ${base} members`,
    );
  }
  const step = members === 1 ? 0 : Math.min(POOL_STEP, Math.floor((base - 1) / (members - 1)));
  const rank = (((memberIndex - vipIndex) % members) + members) % members;
  return base - rank * step;
}

export interface VrrpInstance {
  name: string;
  vrid: number;
  priority: number;
  address: string;
  /** The interface keepalived runs the instance on. */
  interface: string;
  track?: string;
}

export interface VrrpPlan {
  /** This node holds the control-plane VIP (a control plane with keepalived). */
  holdsApiVip: boolean;
  endpoint: { host: string; port: number };
  instances: VrrpInstance[];
}

/** The instances this node runs; undefined when it runs none. Throws a KilnError at the offending field. */
export function vrrpPlan(config: NodeConfig): VrrpPlan | undefined {
  const k = config.keepalived;
  if (!k) return undefined;
  const holdsApiVip = config.role !== 'worker';
  const pool = k.externalVips;
  if (!holdsApiVip && !pool) return undefined;

  const instances: VrrpInstance[] = [];
  const endpoint = controlPlaneEndpoint(config);
  if (holdsApiVip) {
    if (isIP(endpoint.host) === 0) {
      fail(
        'with keepalived, the control-plane endpoint must be the VIP address, not a name',
        '/cluster/controlPlaneEndpoint',
        'use the VIP, e.g. 192.168.10.10:6443',
      );
    }
    instances.push({
      name: 'kiln_apiserver',
      vrid: k.virtualRouterId,
      priority: k.priority,
      address: endpoint.host,
      interface: k.interface,
      track: 'kiln_apiserver',
    });
  }
  if (pool) {
    const last = pool.firstVirtualRouterId + pool.addresses.length - 1;
    if (last > 255) {
      fail(
        `the VIP pool needs virtual router ids ${pool.firstVirtualRouterId}–${last}, beyond 255`,
        '/keepalived/externalVips/firstVirtualRouterId',
        `start the pool at ${256 - pool.addresses.length} or lower`,
      );
    }
    // The control planes use virtualRouterId for the control-plane VIP on this network, whether or
    // not this node is one of them; a pool VIP sharing the id would fight over that virtual router.
    if (k.virtualRouterId >= pool.firstVirtualRouterId && k.virtualRouterId <= last) {
      fail(
        `the VIP pool's virtual router ids ${pool.firstVirtualRouterId}–${last} include the control-plane VIP's (${k.virtualRouterId})`,
        '/keepalived/externalVips/firstVirtualRouterId',
        'give the pool a range of ids that does not contain keepalived.virtualRouterId',
      );
    }
    if (pool.memberIndex >= pool.members) {
      fail(
        `memberIndex ${pool.memberIndex} is not below members (${pool.members})`,
        '/keepalived/externalVips/memberIndex',
        'number the pool members 0 … members-1',
      );
    }
    // A pool VIP that is the control-plane VIP or this node's own address would be taken away from
    // its rightful holder whenever it moves (keepalived --config-test does not notice either).
    const taken = new Map([
      [canonicalIp(endpoint.host), 'the control-plane VIP'],
      [canonicalIp(config.node.advertiseAddress), "this node's advertise address"],
    ]);
    pool.addresses.forEach((address, i) => {
      const clash = taken.get(canonicalIp(address));
      if (clash)
        fail(`VIP pool address ${address} is ${clash}`, `/keepalived/externalVips/addresses/${i}`, 'give the pool addresses of its own');
      instances.push({
        name: `kiln_vip_${i}`,
        vrid: pool.firstVirtualRouterId + i,
        priority: vipPriority(i, pool.memberIndex, pool.members),
        address,
        interface: pool.interface ?? k.interface,
      });
    });
  }

  return { holdsApiVip, endpoint, instances };
}
