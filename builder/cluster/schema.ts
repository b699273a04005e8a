// The cluster spec (`kind: Cluster`): every node of one cluster, from which `kiln cluster gen`
// writes each node's metadata. One TypeBox schema gives the type, the validator and the JSON
// Schema `kiln schema cluster` exports. Node-level pieces (labels, taints, addresses) are the node
// config's own definitions, so what the spec accepts is what kiln-firstboot accepts.
import { Type, type Static } from '@sinclair/typebox';
import { Cidr, HostIp, IpAddress, NodeConfigSchema, NodeName, Role, Subnets } from '../../node/config/schema.ts';
import { API_VERSION } from '../spec/schema.ts';
import { hinted, Strict } from '../../core/schema.ts';

const CLUSTER_KIND = 'Cluster';

// the node config's definitions, reused as they are
const NodeProps = NodeConfigSchema.properties.node.properties;
const KeepalivedProps = NodeConfigSchema.properties.keepalived.properties;
const CiliumProps = NodeConfigSchema.properties.cilium.properties;

/** An address with its prefix length, as the interface carries it (10.0.2.11/24). */
const InterfaceAddress = hinted(
  Type.String({ format: 'kiln-cidr' }),
  "the node's address with the prefix length of its subnet, e.g. 10.0.2.11/24 or fd00::11/64",
);
const Mac = hinted(Type.String({ pattern: '^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$' }), 'a MAC address such as 52:54:00:6b:69:11');

// Policy routing (multi-homed nodes, a service VIP pool on another subnet): routes into numbered
// tables and the rules that look them up, as network-config v2 and networkd say them.
const TableId = hinted(Type.Integer({ minimum: 1, maximum: 4294967295 }), 'a routing table number, e.g. 100 (254 is main)');
const Route = Type.Object(
  {
    to: hinted(Type.Union([Type.Literal('default'), Cidr]), 'default, or a network in CIDR notation such as 198.51.100.0/24'),
    via: Type.Optional(HostIp),
    table: Type.Optional(TableId),
    metric: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295 })),
    onLink: Type.Optional(Type.Boolean({ description: 'the gateway is reachable on this link even outside its subnets' })),
  },
  { ...Strict, description: 'a static route: to a network (or default) via a gateway, optionally in a table of its own' },
);
const RoutingRule = Type.Object(
  {
    from: Type.Optional(Cidr),
    to: Type.Optional(Cidr),
    table: TableId,
    priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295 })),
  },
  { ...Strict, description: 'a routing-policy rule: traffic from/to a network looks up table' },
);

const Interface = Type.Object(
  {
    name: hinted(
      Type.String({ pattern: '^[A-Za-z0-9_.-]{1,15}$' }),
      'the interface name on the node (at most 15 characters), e.g. lan0 or eno1',
    ),
    mac: Type.Optional(Mac),
    addresses: Type.Array(InterfaceAddress, { minItems: 1, uniqueItems: true }),
    gateway: Type.Optional(IpAddress),
    routes: Type.Optional(Type.Array(Route, { minItems: 1 })),
    routingPolicy: Type.Optional(Type.Array(RoutingRule, { minItems: 1 })),
  },
  {
    ...Strict,
    description: 'a NIC: found by its MAC (and named `name`) when mac is given, else by name; static addresses, routes and policy rules',
  },
);

const ClusterNode = Type.Object(
  {
    name: NodeName,
    role: Role,
    interfaces: Type.Array(Interface, { minItems: 1 }),
    /** The address kubelet and the apiserver advertise; default: the first address of the keepalived interface. */
    advertiseAddress: Type.Optional(HostIp),
    labels: NodeProps.labels,
    taints: NodeProps.taints,
    hyperconverged: NodeProps.hyperconverged,
    /** Install to this disk when the machine boots live (PXE through kiln cluster serve, or the ISO); default: the cluster's install. */
    install: Type.Optional(NodeConfigSchema.properties.install),
  },
  { ...Strict, description: 'one machine of the cluster' },
);

const Network = Type.Object(
  {
    podSubnet: Type.Optional(Subnets),
    serviceSubnet: Type.Optional(Subnets),
    dnsDomain: Type.Optional(NodeConfigSchema.properties.cluster.properties.dnsDomain),
    kubeProxyReplacement: Type.Optional(Type.Boolean({ description: 'Cilium replaces kube-proxy; default true' })),
    nameservers: Type.Optional(Type.Array(IpAddress, { uniqueItems: true })),
    searchDomains: Type.Optional(
      Type.Array(
        hinted(
          Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$' }),
          'a DNS domain such as lab.internal',
        ),
        { uniqueItems: true },
      ),
    ),
  },
  {
    ...Strict,
    description:
      'cluster networks, one per family for dual-stack (defaults: pods 10.244.0.0/16, services 10.96.0.0/12), and the DNS servers every node uses',
  },
);

const NodeHealth = Type.Object(
  {
    gracePeriod: hinted(
      Type.Integer({ minimum: 8, maximum: 600 }),
      'seconds without a status post before a node is NotReady (Kubernetes: 40); kubelet posts every quarter of it',
    ),
  },
  {
    ...Strict,
    description:
      "how fast a dead node is noticed: kube-controller-manager's node-monitor grace period (its monitor period an eighth of it) and kubelet's nodeStatusUpdateFrequency (a quarter)",
  },
);

const Pki = Type.Object(
  {
    algorithm: Type.Optional(
      hinted(
        Type.Union([Type.Literal('rsa-2048'), Type.Literal('ecdsa-p256')]),
        "rsa-2048 (kubeadm's default encryptionAlgorithm) or ecdsa-p256",
      ),
    ),
    frontProxyCa: Type.Optional(Type.Boolean({ description: 'pre-generate the front-proxy CA too (else kubeadm init makes it)' })),
    etcdCa: Type.Optional(Type.Boolean({ description: 'pre-generate the etcd CA too (else kubeadm init makes it)' })),
  },
  { ...Strict, description: 'the cluster CA kiln generates (and optionally the front-proxy and etcd CAs)' },
);

const Keepalived = Type.Object(
  {
    interface: KeepalivedProps.interface,
    virtualRouterId: KeepalivedProps.virtualRouterId,
    externalVips: Type.Optional(
      Type.Object(
        {
          addresses: Type.Array(IpAddress, { minItems: 1, uniqueItems: true }),
          firstVirtualRouterId: KeepalivedProps.virtualRouterId,
          /** The interface the pool lives on (another subnet than the control-plane VIP's, say); default keepalived.interface. */
          interface: Type.Optional(KeepalivedProps.interface),
          /** The nodes that hold the pool, in order; default: every node. */
          nodes: Type.Optional(Type.Array(NodeName, { minItems: 1, uniqueItems: true })),
        },
        { ...Strict, description: 'a pool of service VIPs shared by `nodes` (default all); VIP i uses firstVirtualRouterId + i' },
      ),
    ),
  },
  { ...Strict, description: 'keepalived VRRP: the control planes share the VIP on `interface`' },
);

const Addon = Type.Object(
  {
    name: hinted(
      Type.String({ pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$' }),
      'an addon baked into the image, e.g. metrics-server (see the addons catalogue)',
    ),
    namespace: Type.Optional(
      hinted(Type.String({ pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$' }), 'a namespace name such as kube-system'),
    ),
    values: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Helm values merged over the catalogue defaults' })),
  },
  { ...Strict, description: 'an addon the init node installs from the chart baked into the image' },
);

const Vms = Type.Object(
  {
    memoryMiB: Type.Optional(
      hinted(Type.Integer({ minimum: 512, maximum: 262144 }), 'MiB of memory per VM, e.g. 2048 (kubeadm wants 1700 MB on control planes)'),
    ),
    cpus: Type.Optional(hinted(Type.Integer({ minimum: 1, maximum: 64 }), 'vCPUs per VM, e.g. 2 (kubeadm wants 2 on control planes)')),
    start: Type.Optional(
      hinted(
        Type.Union([Type.Literal('parallel'), Type.Literal('sequential')]),
        'parallel (all at once) or sequential (each after the previous finished its first boot: for small hosts)',
      ),
    ),
  },
  {
    ...Strict,
    description:
      'the QEMU test cluster `kiln cluster up` boots: memory and vCPUs per VM (defaults 2048 MiB, 2) and how VMs start (default parallel)',
  },
);

export const ClusterSpecSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    apiVersion: hinted(Type.Literal(API_VERSION), `set apiVersion: ${API_VERSION}`),
    kind: hinted(Type.Literal(CLUSTER_KIND), `set kind: ${CLUSTER_KIND}`),
    name: NodeConfigSchema.properties.cluster.properties.name,
    kubernetes: Type.Object(
      {
        version: hinted(
          Type.String({ pattern: '^v1\\.[0-9]+\\.[0-9]+$' }),
          'a full release such as v1.31.4 (the one baked into the image)',
        ),
      },
      Strict,
    ),
    controlPlane: Type.Object(
      {
        vip: hinted(IpAddress, 'the address the API server answers on, held by one control plane at a time (keepalived), e.g. 10.0.2.100'),
        port: Type.Optional(hinted(Type.Integer({ minimum: 1, maximum: 65535 }), 'the API server port, default 6443')),
      },
      { ...Strict, description: 'the control-plane endpoint: VIP and port' },
    ),
    network: Type.Optional(Network),
    nodeHealth: Type.Optional(NodeHealth),
    /** Every node's install (a node's own install replaces it). */
    install: Type.Optional(NodeConfigSchema.properties.install),
    pki: Type.Optional(Pki),
    keepalived: Keepalived,
    cilium: Type.Optional(
      Type.Object(
        { version: CiliumProps.version, values: CiliumProps.values },
        { ...Strict, description: 'Cilium, installed by the init node' },
      ),
    ),
    addons: Type.Optional(Type.Array(Addon)),
    vms: Type.Optional(Vms),
    nodes: Type.Array(ClusterNode, { minItems: 1 }),
  },
  {
    ...Strict,
    $id: 'https://kiln.dev/schemas/cluster.json',
    title: 'kiln cluster spec',
    description: 'the nodes of one cluster; `kiln cluster gen` writes their metadata',
  },
);

export type ClusterSpec = Static<typeof ClusterSpecSchema>;
export type ClusterNodeSpec = ClusterSpec['nodes'][number];
export type InterfaceSpec = ClusterNodeSpec['interfaces'][number];
