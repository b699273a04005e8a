// A test cluster on this machine, planned from cluster.json: one network namespace, one bridge per
// L2 network (interfaces whose addresses share a subnet share a bridge), one tap per NIC, and
// per VM its disk overlay, console log, QMP socket and pid file. Pure: lifecycle.ts carries it out.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { KilnError } from '../../../core/errors.ts';
import { hostOf, networkText, parseNet } from '../ip.ts';
import type { ClusterSummary, SummaryNode } from './summary.ts';

export interface LabNetwork {
  /** The bridge inside the namespace, e.g. kbr0. */
  bridge: string;
  /** The subnet, e.g. 10.0.2.0/24. */
  subnet: string;
  /**
   * The address the namespace itself takes on the bridge: the nodes' gateway when they name one in
   * this subnet (so their default route resolves), with the subnet's prefix. Nothing is routed on.
   */
  hostAddress?: string;
}

export interface LabNic {
  tap: string;
  bridge: string;
  mac: string;
  /** The interface name on the node, for people reading the plan. */
  name: string;
}

export interface LabNode {
  name: string;
  role: SummaryNode['role'];
  /** Its own directory under DIR/run: disk overlay, logs, firmware variables. */
  dir: string;
  disk: string;
  console: string;
  /** A second serial port (ttyS1), logged too: diagnostics that must not race the console's getty. */
  serial1: string;
  qmp: string;
  pidFile: string;
  nics: LabNic[];
  cidata: string;
  ignition: string;
  memoryMiB: number;
  cpus: number;
}

export interface LabPlan {
  cluster: string;
  /** The network namespace every tap, bridge and QEMU lives in: `ip netns exec <netns>` reaches the nodes. */
  netns: string;
  networks: LabNetwork[];
  nodes: LabNode[];
  start: 'parallel' | 'sequential';
}

const IFNAMSIZ = 15;

/** A stable locally administered MAC (QEMU's 52:54:00 prefix) for a NIC the spec gave none. */
export function derivedMac(cluster: string, node: string, nic: string): string {
  const h = createHash('sha256').update(`${cluster}\0${node}\0${nic}`).digest();
  return `52:54:00:${[...h.subarray(0, 3)].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
}

/** The network address of `address/prefix`, e.g. 10.0.2.11/24 → 10.0.2.0/24. */
export function subnetOf(cidr: string): string {
  const net = parseNet(cidr);
  if (!net)
    throw new KilnError(`not an address with a prefix length: ${cidr}`, {
      hint: 'cluster.json interfaces carry addresses such as 10.0.2.11/24',
    });
  return networkText(net);
}

/** Where a cluster's QMP sockets live: unix socket paths are limited to 107 bytes, DIR may be long. */
export function socketDir(dir: string, cluster: string): string {
  const tag = createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 8);
  return `/run/kiln/lab-${cluster.slice(0, 40)}-${tag}`;
}

export interface PlanOptions {
  /** The directory kiln cluster gen wrote (cluster.json's paths are relative to it). */
  clusterDir: string;
  socketDir: string;
}

/** DIR/run: what a running cluster keeps (state, per-node disks and logs). */
export const runDirOf = (clusterDir: string) => path.join(clusterDir, 'run');

export function planLab(summary: ClusterSummary, opts: PlanOptions): LabPlan {
  const networks: LabNetwork[] = [];
  const bridgeFor = (cidr: string, gateway: string | undefined): string => {
    const subnet = subnetOf(cidr);
    let net = networks.find((n) => n.subnet === subnet);
    if (!net) {
      net = { bridge: `kbr${networks.length}`, subnet };
      networks.push(net);
    }
    const prefix = subnet.split('/')[1];
    if (gateway && !net.hostAddress && parseNet(subnet) && gateway !== hostOf(cidr)) net.hostAddress = `${gateway}/${prefix}`;
    return net.bridge;
  };
  const nodes = summary.nodes.map((n, i): LabNode => {
    const dir = path.join(runDirOf(opts.clusterDir), n.name);
    const nics = n.interfaces.map((iface, j) => {
      const tap = `kt${i}n${j}`;
      if (tap.length > IFNAMSIZ)
        throw new KilnError(`too many nodes or interfaces for tap names (${tap})`, {
          hint: 'a test cluster of this size does not fit one machine anyway',
        });
      return {
        tap,
        bridge: bridgeFor(iface.addresses[0]!, iface.gateway),
        mac: iface.mac ?? derivedMac(summary.name, n.name, iface.name),
        name: iface.name,
      };
    });
    return {
      name: n.name,
      role: n.role,
      dir,
      disk: path.join(dir, 'disk.qcow2'),
      console: path.join(dir, 'console.log'),
      serial1: path.join(dir, 'serial1.log'),
      qmp: path.join(opts.socketDir, `${n.name}.qmp`),
      pidFile: path.join(dir, 'qemu.pid'),
      nics,
      cidata: path.resolve(opts.clusterDir, n.cidata),
      ignition: path.resolve(opts.clusterDir, n.ignition),
      memoryMiB: summary.vms.memoryMiB,
      cpus: summary.vms.cpus,
    };
  });
  // init first: the others join it, so it should be the first to come up
  nodes.sort((a, b) => Number(b.role === 'init') - Number(a.role === 'init'));
  return { cluster: summary.name, netns: `kiln-${summary.name}`.slice(0, 64), networks, nodes, start: summary.vms.start };
}
