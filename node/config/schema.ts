// The kiln node config: what role a node plays in which cluster. It rides in cloud-config under
// `kiln:` or in Ignition as /etc/kiln/node.yaml. One TypeBox schema gives the type, the validator
// and the JSON Schema `kiln schema node` exports. Unknown keys are rejected everywhere.
import { Type, type Static } from '@sinclair/typebox';
import { KubeletDefaults } from './kubelet-defaults.ts';
import './formats.ts';
import { hinted, Strict } from '../../core/schema.ts';

// RFC 1123 label, as kubelet requires for node names and systemd-hostnamed for hostnames.
export const DNS_LABEL = '[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?';
export const HOSTNAME_PATTERN = `^${DNS_LABEL}(\\.${DNS_LABEL})*$`;
const IPV4 = '(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}';

export const NodeName = hinted(
  Type.String({ pattern: HOSTNAME_PATTERN, maxLength: 253 }),
  'lower-case letters, digits, "-" and ".", starting and ending with a letter or digit (RFC 1123), e.g. cp-1',
);
export const IpAddress = hinted(
  Type.String({ format: 'kiln-ip' }),
  'an IPv4 address such as 192.168.10.11 or an IPv6 address such as fd00::11 (no prefix length)',
);
/** An address a node itself has or routes through: no IPv6 zone (kubeadm, kubelet and routes refuse one). */
export const HostIp = hinted(
  Type.String({ format: 'kiln-host-ip' }),
  'an IPv4 address such as 192.168.10.11 or an IPv6 address such as fd00::11 (no prefix length, no %zone)',
);
export const Cidr = hinted(Type.String({ format: 'kiln-cidr' }), 'a network in CIDR notation, e.g. 10.244.0.0/16 or fd00:10:244::/56');
/** podSubnet / serviceSubnet: one network, or one per family for dual-stack (kubeadm's comma list, as a list). */
export const Subnets = hinted(
  Type.Union([Cidr, Type.Array(Cidr, { minItems: 1, maxItems: 2, uniqueItems: true })]),
  'one network in CIDR notation, or one per family for dual-stack: [10.244.0.0/16, fd00:10:244::/56]',
);
// 1–65535, as a pattern: a port past 65535 is refused where it is read, not by kubeadm half-way.
export const PORT = '([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])';
// host:port, host being an IP (IPv6 in brackets) or a DNS name.
const Endpoint = hinted(
  Type.String({ pattern: `^(${IPV4}|\\[[0-9a-fA-F:.]+\\]|${DNS_LABEL}(\\.${DNS_LABEL})*):${PORT}$` }),
  'host:port of the API server load balancer or VIP, e.g. 192.168.10.10:6443 or [fd00::10]:6443',
);
const KubernetesVersion = hinted(
  Type.String({ pattern: '^v?1\\.[0-9]{1,2}\\.[0-9]{1,3}$' }),
  'a released Kubernetes version such as v1.31.2',
);
export const BootstrapToken = hinted(
  Type.String({ pattern: '^[a-z0-9]{6}\\.[a-z0-9]{16}$', 'x-secret': true }),
  'a kubeadm bootstrap token "[a-z0-9]{6}.[a-z0-9]{16}", e.g. from `kubeadm token generate` or `kiln cluster`',
);
const CaCertHash = hinted(
  Type.String({ pattern: '^sha256:[0-9a-f]{64}$' }),
  '"sha256:" and the 64 hex digits of the SHA-256 of the CA\'s SubjectPublicKeyInfo (kubeadm\'s --discovery-token-ca-cert-hash)',
);
const CertificateKey = hinted(
  Type.String({ pattern: '^[0-9a-f]{64}$', 'x-secret': true }),
  '64 hex digits (a 32-byte AES key), e.g. from `kubeadm certs certificate-key`',
);
const Pem = (what: string, secret = false) =>
  hinted(
    Type.String({ pattern: `^-----BEGIN ${what}-----`, ...(secret ? { 'x-secret': true } : {}) }),
    `a PEM block starting with "-----BEGIN ${what}-----"`,
  );

// A Go duration of whole units (what kubeadm's extraArgs and KubeletConfiguration take here).
const Duration = hinted(Type.String({ pattern: '^[1-9][0-9]{0,5}(ms|s|m)$' }), 'a duration such as 40s, 500ms or 2m');
const NodeHealth = Type.Object(
  {
    nodeMonitorGracePeriod: Duration,
    nodeMonitorPeriod: Duration,
    nodeStatusUpdateFrequency: Duration,
  },
  {
    ...Strict,
    description:
      "kube-controller-manager's --node-monitor-grace-period and --node-monitor-period and kubelet's nodeStatusUpdateFrequency (defaults 40s, 5s, 10s)",
  },
);

const Cluster = Type.Object(
  {
    name: hinted(Type.String({ pattern: `^${DNS_LABEL}$` }), 'a DNS label such as lab or prod-eu'),
    kubernetesVersion: KubernetesVersion,
    controlPlaneEndpoint: Endpoint,
    podSubnet: Type.Optional(Subnets),
    serviceSubnet: Type.Optional(Subnets),
    dnsDomain: Type.Optional(hinted(Type.String({ pattern: `^${DNS_LABEL}(\\.${DNS_LABEL})*$` }), 'a DNS domain such as cluster.local')),
    /** How fast a dead node is noticed: kube-controller-manager's monitor periods and kubelet's status updates, together. */
    nodeHealth: Type.Optional(NodeHealth),
    /** The init node makes CoreDNS's replicas run on different nodes (kiln cluster gen sets it for clusters of 2+ nodes). */
    coreDnsSpread: Type.Optional(
      Type.Boolean({ description: "spread CoreDNS's replicas over nodes (a topology spread constraint the init node adds)" }),
    ),
    /** Cilium takes over kube-proxy's job: kubeadm skips the kube-proxy addon. Default true. */
    kubeProxyReplacement: Type.Optional(
      Type.Boolean({ description: 'Cilium replaces kube-proxy (kubeadm skips addon/kube-proxy); default true' }),
    ),
  },
  { ...Strict, description: 'the cluster this node belongs to' },
);

// kubelet's --node-labels may not set labels under kubernetes.io / k8s.io (NodeRestriction), except these.
const LabelKey = hinted(
  Type.String({
    pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$',
    maxLength: 316,
  }),
  'a label key: an optional DNS prefix and "/", then a name of up to 63 letters, digits, "-", "_" or "."',
);
const Taint = Type.Object(
  {
    key: LabelKey,
    value: Type.Optional(Type.String({ pattern: '^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$' })),
    effect: hinted(
      Type.Union([Type.Literal('NoSchedule'), Type.Literal('PreferNoSchedule'), Type.Literal('NoExecute')]),
      'NoSchedule, PreferNoSchedule or NoExecute',
    ),
  },
  Strict,
);

const Node = Type.Object(
  {
    name: NodeName,
    advertiseAddress: HostIp,
    /** kubelet's --node-ip: one address per family of the cluster's pod networks; default advertiseAddress. */
    nodeIps: Type.Optional(
      hinted(
        Type.Array(HostIp, { minItems: 1, maxItems: 2, uniqueItems: true }),
        "the node's address per family for a dual-stack cluster (kubelet --node-ip), e.g. [10.0.2.11, fd00::11]",
      ),
    ),
    labels: Type.Optional(
      Type.Record(LabelKey, Type.String({ pattern: '^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$' }), {
        ...Strict,
        'x-key-hint': 'a label key such as topology.kubernetes.io/zone or example.com/rack',
      }),
    ),
    taints: Type.Optional(Type.Array(Taint)),
    /** A control plane that also runs workloads: no control-plane NoSchedule taint. */
    hyperconverged: Type.Optional(
      Type.Boolean({ description: 'a control plane that also runs workloads (drops the control-plane NoSchedule taint)' }),
    ),
  },
  { ...Strict, description: 'this node' },
);

const VirtualRouterId = hinted(
  Type.Integer({ minimum: 1, maximum: 255 }),
  'a VRRP virtual router id from 1 to 255, unique per VIP on the network',
);
const Keepalived = Type.Object(
  {
    interface: hinted(
      Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,15}$' }),
      'the network interface the VIPs live on, e.g. eth0 or bond0.100',
    ),
    virtualRouterId: VirtualRouterId,
    /** This node's priority for the control-plane VIP; the highest healthy node holds it. */
    priority: hinted(
      Type.Integer({ minimum: 1, maximum: 254 }),
      'VRRP priority 1–254; give each control plane a different one (the init node the highest)',
    ),
    /** VRRP PASS authentication; keepalived uses the first 8 characters. */
    authPass: Type.Optional(
      hinted(Type.String({ pattern: '^[!-~]{1,8}$', 'x-secret': true }), 'up to 8 printable characters (VRRP PASS authentication)'),
    ),
    /** A pool of VIPs for services (ingress, LoadBalancer): each gets a different preferred holder. */
    externalVips: Type.Optional(
      Type.Object(
        {
          addresses: Type.Array(IpAddress, { minItems: 1, uniqueItems: true }),
          /** The first virtual router id of the pool; VIP i uses firstVirtualRouterId + i. */
          firstVirtualRouterId: VirtualRouterId,
          /** This node's place among the pool's holders (0-based) and how many there are. */
          memberIndex: Type.Integer({ minimum: 0 }),
          members: Type.Integer({ minimum: 1 }),
          /** The interface the pool's VIPs live on; default keepalived.interface. */
          interface: Type.Optional(
            hinted(Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,15}$' }), 'the interface the service VIPs live on, e.g. wan0'),
          ),
        },
        { ...Strict, description: 'a pool of service VIPs; priorities rotate so each VIP prefers a different node' },
      ),
    ),
  },
  { ...Strict, description: 'keepalived VRRP for the control-plane VIP (the controlPlaneEndpoint host) and an optional VIP pool' },
);

const Cilium = Type.Object(
  {
    /** Helm chart version; the air-gap issue bakes the chart in. */
    version: hinted(Type.String({ pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$' }), 'a Cilium chart version such as 1.16.5'),
    /** Helm values merged over kiln's (kube-proxy replacement, the VIP as k8sServiceHost). */
    values: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Helm values merged over the ones kiln sets' })),
  },
  { ...Strict, description: 'Cilium, installed with Helm by the init node' },
);

const Addon = Type.Object(
  {
    name: hinted(Type.String({ pattern: `^${DNS_LABEL}$` }), 'a release name such as metrics-server'),
    /** A Helm chart: a path in the image (a .tgz or a chart directory) or repo/name; omitted: the one baked in (image spec addons:). */
    chart: Type.Optional(
      Type.String({ minLength: 1, description: 'a chart path in the image; omit it for an addon baked into the image' }),
    ),
    namespace: Type.Optional(hinted(Type.String({ pattern: `^${DNS_LABEL}$` }), 'a namespace name such as kube-system')),
    version: Type.Optional(Type.String({ minLength: 1 })),
    values: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  Strict,
);

const EtcdSnapshots = Type.Object(
  {
    /** systemd OnCalendar= expression. */
    schedule: Type.Optional(
      hinted(Type.String({ pattern: '^[A-Za-z0-9*:/ ,.~-]+$' }), 'a systemd calendar expression such as hourly, daily or *-*-* 00/6:00:00'),
    ),
    /** Snapshots to keep. */
    retention: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { ...Strict, description: 'etcd snapshots on control planes (a systemd timer), default hourly, keep 24' },
);

const Join = Type.Object(
  {
    token: BootstrapToken,
    caCertHashes: Type.Optional(Type.Array(CaCertHash, { minItems: 1, uniqueItems: true })),
    certificateKey: Type.Optional(CertificateKey),
  },
  { ...Strict, description: 'material to join the cluster with CA pinning; secrets are never logged' },
);

const ClusterCa = Type.Object(
  {
    cert: Pem('CERTIFICATE'),
    key: Pem('(RSA |EC )?PRIVATE KEY', true),
  },
  { ...Strict, description: 'the cluster CA the init node places in /etc/kubernetes/pki' },
);

// /dev/disk/by-id and by-path names: one path component, no "..".
const DEV_LINK = '^(?!\\.{1,2}$)[A-Za-z0-9_.:+@-]{1,200}$';
const DiskSelector = Type.Union(
  [
    Type.Object(
      {
        id: hinted(
          Type.String({ pattern: DEV_LINK }),
          'a name in /dev/disk/by-id, e.g. wwn-0x5000c500a1b2c3d4 or nvme-eui.0025388b91b4f1a2',
        ),
      },
      Strict,
    ),
    Type.Object({ path: hinted(Type.String({ pattern: DEV_LINK }), 'a name in /dev/disk/by-path, e.g. pci-0000:00:1f.2-ata-1') }, Strict),
    Type.Object(
      { serial: hinted(Type.String({ pattern: '^[A-Za-z0-9_.:+ -]{1,100}$' }), "the disk's serial number as lsblk shows it") },
      Strict,
    ),
    Type.Object(
      {
        minSizeGiB: hinted(
          Type.Integer({ minimum: 1, maximum: 1048576 }),
          'a size in GiB: the disk is the only non-removable, writable disk at least this big',
        ),
      },
      Strict,
    ),
  ],
  {
    'x-hint':
      'one of {id: <name in /dev/disk/by-id>}, {path: <name in /dev/disk/by-path>}, {serial: <serial>} or {minSizeGiB: N} (the only non-removable disk of at least N GiB)',
  },
);

export const WIPE_POLICIES = ['if-blank', 'always'] as const;
const Install = Type.Object(
  {
    /** The disk kiln is installed to, by a name that survives device renaming (never /dev/sdX). */
    disk: DiskSelector,
    /** if-blank: refuse a disk holding a partition table or a file system; always: overwrite it. */
    wipe: Type.Optional(
      hinted(
        Type.Union(WIPE_POLICIES.map((p) => Type.Literal(p))),
        'if-blank (the default: refuse a disk with a partition table or file system on it) or always (overwrite it)',
      ),
    ),
  },
  {
    ...Strict,
    description:
      'install kiln to this disk when the node boots live (ISO or PXE), then reboot into it; the first boot continues on the disk',
  },
);

export const Role = hinted(
  Type.Union([Type.Literal('init'), Type.Literal('control-plane'), Type.Literal('worker')]),
  'init: the first control plane (kubeadm init); control-plane: joins as another control plane; worker: joins as a worker',
);

export const NodeConfigSchema = Type.Object(
  {
    role: Role,
    cluster: Cluster,
    node: Node,
    join: Type.Optional(Join),
    ca: Type.Optional(ClusterCa),
    keepalived: Type.Optional(Keepalived),
    kubelet: Type.Optional({
      ...KubeletDefaults,
      description: "this node's KubeletConfiguration settings, merged over the image defaults",
    }),
    cilium: Type.Optional(Cilium),
    addons: Type.Optional(Type.Array(Addon)),
    /** Manifests applied by the init node after the addons (kubectl apply -f). Default /etc/kiln/manifests. */
    manifestsDir: Type.Optional(Type.String({ pattern: '^/' })),
    etcdSnapshots: Type.Optional(EtcdSnapshots),
    install: Type.Optional(Install),
  },
  {
    ...Strict,
    $id: 'https://kiln.dev/schemas/node.json',
    title: 'kiln node config',
    description: 'what role this node plays in which cluster',
  },
);

export type NodeConfig = Static<typeof NodeConfigSchema>;
export type InstallConfig = NonNullable<NodeConfig['install']>;
export type DiskSelectorConfig = InstallConfig['disk'];
