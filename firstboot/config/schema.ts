// The kiln node config: what role a node plays in which cluster. It rides in cloud-config under
// `kiln:` or in Ignition as /etc/kiln/node.yaml. One TypeBox schema gives the type, the validator
// and the JSON Schema `kiln schema node` exports. Unknown keys are rejected everywhere.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import './formats.ts';

const hinted = <T extends TSchema>(schema: T, hint: string): T => ({ ...schema, 'x-hint': hint });
const Strict = { additionalProperties: false } as const;

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
export const Cidr = hinted(
  Type.String({ format: 'kiln-cidr' }),
  'a network in CIDR notation, e.g. 10.244.0.0/16 or fd00:10:244::/56',
);
// host:port, host being an IP (IPv6 in brackets) or a DNS name.
const Endpoint = hinted(
  Type.String({ pattern: `^(${IPV4}|\\[[0-9a-fA-F:.]+\\]|${DNS_LABEL}(\\.${DNS_LABEL})*):([1-9][0-9]{0,4})$` }),
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
  hinted(Type.String({ pattern: `^-----BEGIN ${what}-----`, ...(secret ? { 'x-secret': true } : {}) }), `a PEM block starting with "-----BEGIN ${what}-----"`);

const Cluster = Type.Object(
  {
    name: hinted(Type.String({ pattern: `^${DNS_LABEL}$` }), 'a DNS label such as lab or prod-eu'),
    kubernetesVersion: KubernetesVersion,
    controlPlaneEndpoint: Endpoint,
  },
  { ...Strict, description: 'the cluster this node belongs to' },
);

const Node = Type.Object(
  {
    name: NodeName,
    advertiseAddress: IpAddress,
  },
  { ...Strict, description: 'this node' },
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
  },
  { ...Strict, $id: 'https://kiln.dev/schemas/node.json', title: 'kiln node config', description: 'what role this node plays in which cluster' },
);

export type NodeConfig = Static<typeof NodeConfigSchema>;
export type NodeRole = NodeConfig['role'];
