// Cluster spec + secrets → each node's kiln node config (what kiln-firstboot reads). Only the init
// node gets the CA key; joiners pin the CA's hash, and only control planes get the certificate key.
import { nodeHealthFor } from '../../node/config/node-health.ts';
import type { NodeConfig } from '../../node/config/schema.ts';
import {
  addressesOf,
  advertiseAddressOf,
  endpointOf,
  poolMembers,
  nodeIpsOf,
  podSubnetOf,
  priorityOf,
  serviceSubnetOf,
  isControlPlane,
} from './model.ts';
import type { CaPair } from './pki.ts';
import type { ClusterNodeSpec, ClusterSpec } from './schema.ts';

export interface ClusterSecrets {
  ca: CaPair;
  frontProxy?: CaPair;
  etcd?: CaPair;
  token: string;
  certificateKey: string;
}

/** The join material each role carries (the init node creates the token and uploads certificates with the key). */
const JOIN: Record<NodeConfig['role'], (s: ClusterSecrets, hash: string) => NonNullable<NodeConfig['join']>> = {
  init: (s, hash) => ({ token: s.token, caCertHashes: [hash], certificateKey: s.certificateKey }),
  'control-plane': (s, hash) => ({ token: s.token, caCertHashes: [hash], certificateKey: s.certificateKey }),
  worker: (s, hash) => ({ token: s.token, caCertHashes: [hash] }),
};

function keepalivedOf(spec: ClusterSpec, node: ClusterNodeSpec): NodeConfig['keepalived'] {
  const members = poolMembers(spec);
  const pool = spec.keepalived.externalVips;
  const member = members.indexOf(node.name);
  // workers run keepalived only for the VIP pool
  if (!isControlPlane(node) && member < 0) return undefined;
  return {
    interface: spec.keepalived.interface,
    virtualRouterId: spec.keepalived.virtualRouterId,
    priority: priorityOf(spec, node),
    ...(pool && member >= 0
      ? {
          externalVips: {
            addresses: pool.addresses,
            firstVirtualRouterId: pool.firstVirtualRouterId,
            ...(pool.interface ? { interface: pool.interface } : {}),
            memberIndex: member,
            members: members.length,
          },
        }
      : {}),
  };
}

export function nodeConfigOf(spec: ClusterSpec, node: ClusterNodeSpec, secrets: ClusterSecrets, caCertHash: string): NodeConfig {
  const net = spec.network;
  const keepalived = keepalivedOf(spec, node);
  const init = node.role === 'init';
  return {
    role: node.role,
    cluster: {
      name: spec.name,
      kubernetesVersion: spec.kubernetes.version,
      controlPlaneEndpoint: endpointOf(spec),
      podSubnet: podSubnetOf(spec),
      serviceSubnet: serviceSubnetOf(spec),
      ...(net?.dnsDomain ? { dnsDomain: net.dnsDomain } : {}),
      ...(spec.nodeHealth ? { nodeHealth: nodeHealthFor(spec.nodeHealth.gracePeriod) } : {}),
      // one node alone cannot spread anything: its second replica would wait for ever
      ...(spec.nodes.length > 1 ? { coreDnsSpread: true } : {}),
      ...(net?.kubeProxyReplacement !== undefined ? { kubeProxyReplacement: net.kubeProxyReplacement } : {}),
    },
    node: {
      name: node.name,
      advertiseAddress: advertiseAddressOf(spec, node),
      ...((ips) => (ips ? { nodeIps: ips } : {}))(nodeIpsOf(spec, node)),
      ...(node.labels && Object.keys(node.labels).length > 0 ? { labels: node.labels } : {}),
      ...(node.taints?.length ? { taints: node.taints } : {}),
      ...(node.hyperconverged !== undefined ? { hyperconverged: node.hyperconverged } : {}),
    },
    join: JOIN[node.role](secrets, caCertHash),
    ...(init ? { ca: { cert: secrets.ca.cert, key: secrets.ca.key } } : {}),
    ...(keepalived ? { keepalived } : {}),
    ...((install) => (install ? { install } : {}))(node.install ?? spec.install),
    // the init node installs the cluster-wide things
    ...(init && spec.cilium ? { cilium: spec.cilium } : {}),
    ...(init && spec.addons?.length
      ? {
          addons: spec.addons.map((a) => ({
            name: a.name,
            ...(a.namespace ? { namespace: a.namespace } : {}),
            ...(a.values ? { values: a.values } : {}),
          })),
        }
      : {}),
  };
}

/** The non-secret facts about a node for cluster.json. */
export function nodeSummary(spec: ClusterSpec, node: ClusterNodeSpec) {
  return {
    name: node.name,
    role: node.role,
    advertiseAddress: advertiseAddressOf(spec, node),
    addresses: addressesOf(node),
    interfaces: node.interfaces.map((i) => ({
      name: i.name,
      ...(i.mac ? { mac: i.mac.toLowerCase() } : {}),
      addresses: i.addresses,
      ...(i.gateway ? { gateway: i.gateway } : {}),
    })),
  };
}
