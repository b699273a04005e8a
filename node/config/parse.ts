// Validates a kiln node config wherever it came from (a `kiln:` key, /etc/kiln/node.yaml):
// schema first, then the rules a schema cannot say (which role needs which join material).
import { createHash, X509Certificate } from 'node:crypto';
import { type Problem } from '../../core/problem.ts';
import { KilnError } from '../../core/errors.ts';
import { controlPlaneEndpoint, vrrpPlan } from './vrrp.ts';
import { caPairProblem } from './pki.ts';
import { schemaProblems } from '../../core/schema.ts';
import { runRules, type Rule } from '../../core/rules.ts';
import { NodeConfigSchema, type NodeConfig } from './schema.ts';
import { clusterNetworks, subnetProblems } from './subnets.ts';
import { nodeHealthProblems } from './node-health.ts';
import { NETWORK_DEFAULTS } from '../layout.ts';

// kubelet may only set these labels on its own node (NodeRestriction admission); others under
// kubernetes.io / k8s.io make kubelet refuse to start.
const KUBELET_LABEL_PREFIXES = ['kubelet.kubernetes.io/', 'node.kubernetes.io/'];
const KUBELET_LABEL_KEYS = new Set([
  'kubernetes.io/hostname',
  'kubernetes.io/arch',
  'kubernetes.io/os',
  'beta.kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/instance-type',
  'failure-domain.beta.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'topology.kubernetes.io/zone',
]);
export function restrictedLabel(key: string): boolean {
  const prefix = key.includes('/') ? key.slice(0, key.indexOf('/')) : '';
  const restricted = prefix === 'kubernetes.io' || prefix === 'k8s.io' || prefix.endsWith('.kubernetes.io') || prefix.endsWith('.k8s.io');
  return restricted && !KUBELET_LABEL_KEYS.has(key) && !KUBELET_LABEL_PREFIXES.some((p) => key.startsWith(p));
}

// Joiners always pin the CA: kiln never joins with unsafeSkipCAVerification.
const RULES: Array<Rule<NodeConfig>> = [
  {
    name: 'joiners carry a bootstrap token',
    check: (c) =>
      c.role !== 'init' && !c.join
        ? {
            path: '/join',
            message: `role "${c.role}" needs join material`,
            hint: 'add join.token and join.caCertHashes (kiln cluster writes them for every node)',
          }
        : undefined,
  },
  {
    name: 'joiners pin the CA',
    check: (c) =>
      c.role !== 'init' && c.join && !c.join.caCertHashes
        ? {
            path: '/join/caCertHashes',
            message: `role "${c.role}" must pin the cluster CA`,
            hint: 'add the sha256:<hex> hash of the CA public key; kiln never joins with unsafeSkipCAVerification',
          }
        : undefined,
  },
  {
    name: 'control planes carry the certificate key',
    check: (c) =>
      c.role === 'control-plane' && c.join && !c.join.certificateKey
        ? {
            path: '/join/certificateKey',
            message: 'a joining control plane needs the certificate key to download the control-plane certificates',
            hint: 'use the key the init node uploaded its certificates with (64 hex digits)',
          }
        : undefined,
  },
  {
    name: 'the init node brings the CA',
    check: (c) =>
      c.role === 'init' && !c.ca
        ? {
            path: '/ca',
            message: 'role "init" needs the cluster CA (cert and key)',
            hint: 'pre-generate it (kiln cluster does) so joiners can pin its hash before the cluster exists',
          }
        : undefined,
  },
  {
    name: 'the init node creates the bootstrap token',
    check: (c) =>
      c.role === 'init' && !c.join?.token
        ? {
            path: '/join/token',
            message: 'role "init" needs the bootstrap token the other nodes join with',
            hint: 'add join.token ("[a-z0-9]{6}.[a-z0-9]{16}")',
          }
        : undefined,
  },
  {
    name: 'the init node pins its own CA correctly',
    check: (c) => {
      if (c.role !== 'init' || !c.ca || !c.join?.caCertHashes) return undefined;
      const actual = caCertHash(c.ca.cert);
      if (actual === undefined)
        return {
          path: '/ca/cert',
          message: 'the CA certificate does not parse',
          hint: 'give the PEM of the cluster CA certificate (ca.crt)',
        };
      return c.join.caCertHashes.includes(actual)
        ? undefined
        : {
            path: '/join/caCertHashes',
            message: `none of the hashes is the CA's (${actual})`,
            hint: 'the hash is sha256 of the CA public key (SubjectPublicKeyInfo); joiners using these hashes would never trust this cluster',
          };
    },
  },
  {
    name: 'the CA key belongs to the CA certificate',
    check: (c) => {
      if (!c.ca) return undefined;
      const problem = caPairProblem(c.ca);
      // a certificate that does not parse is the next rule's to report
      if (!problem || problem === 'the certificate does not parse') return undefined;
      return {
        path: /key/.test(problem) ? '/ca/key' : '/ca/cert',
        message: `kubeadm cannot use this CA: ${problem}`,
        hint: 'give the cluster CA as kiln cluster gen wrote it (pki/ca.crt and pki/ca.key of the same CA)',
      };
    },
  },
  {
    name: 'kubelet can set these labels',
    check: (c) => {
      const bad = Object.keys(c.node.labels ?? {}).find(restrictedLabel);
      return bad
        ? {
            path: `/node/labels/${bad.replace(/~/g, '~0').replace(/\//g, '~1')}`,
            message: `kubelet may not set the label "${bad}" on its own node (NodeRestriction)`,
            hint: 'use your own prefix (example.com/role), or node.kubernetes.io/…; node-role.kubernetes.io labels are set by kubeadm for control planes',
          }
        : undefined;
    },
  },
  {
    name: 'hyperconverged is a control-plane setting',
    check: (c) =>
      c.role === 'worker' && c.node.hyperconverged !== undefined
        ? {
            path: '/node/hyperconverged',
            message: 'a worker has no control-plane taint to drop',
            hint: 'remove hyperconverged, or make the node a control plane',
          }
        : undefined,
  },
  {
    name: 'the advertise address is not the VIP',
    check: (c) =>
      controlPlaneEndpoint(c).host === c.node.advertiseAddress
        ? {
            path: '/node/advertiseAddress',
            message: 'the advertise address is the control-plane endpoint (VIP) itself',
            hint: "use the node's own address; the VIP moves between control planes",
          }
        : undefined,
  },
  {
    name: 'control planes can outrank a failed peer',
    check: (c) =>
      c.keepalived && c.role !== 'worker' && c.keepalived.priority < 2
        ? {
            path: '/keepalived/priority',
            message: 'a control plane needs priority 2 or more',
            hint: 'a failed apiserver check drops a node to priority 1; a healthy control plane must stay above that',
          }
        : undefined,
  },
  {
    // the VIP is an address, router ids do not collide, pool VIPs are not the control-plane VIP, …
    name: 'the VRRP set-up is one keepalived can run',
    check: (c) => {
      try {
        vrrpPlan(c);
        return undefined;
      } catch (error) {
        if (!(error instanceof KilnError)) throw error;
        return {
          path: error.path ?? '/keepalived',
          message: error.message,
          hint: error.hint ?? 'see `kiln schema node` for the keepalived settings',
        };
      }
    },
  },
  {
    name: 'the cluster networks are ones kubeadm can run',
    check: (c) => {
      const n = clusterNetworks(c, NETWORK_DEFAULTS);
      const at = {
        pods: '/cluster/podSubnet',
        services: '/cluster/serviceSubnet',
        nodeIps: c.node.nodeIps ? '/node/nodeIps' : '/node/advertiseAddress',
        advertiseAddress: '/node/advertiseAddress',
      };
      const own = c.node.nodeIps && !c.node.nodeIps.includes(c.node.advertiseAddress);
      const apiServerAddress = c.role === 'worker' ? undefined : c.node.advertiseAddress;
      return [
        ...subnetProblems(n.pods, n.services, { ips: n.nodeIps, apiServerAddress }).map((p) => ({
          path: at[p.field],
          message: p.message,
          hint: p.hint,
        })),
        ...(own
          ? [
              {
                path: '/node/nodeIps',
                message: `the advertise address ${c.node.advertiseAddress} is not among nodeIps`,
                hint: 'list the advertise address in nodeIps too',
              },
            ]
          : []),
      ];
    },
  },
  {
    name: 'node health settings agree',
    check: (c) =>
      c.cluster.nodeHealth
        ? nodeHealthProblems(c.cluster.nodeHealth).map((p) => ({
            path: `/cluster/nodeHealth/${p.field}`,
            message: p.message,
            hint: p.hint,
          }))
        : undefined,
  },
  {
    name: 'image GC thresholds are ordered',
    check: (c) => {
      const k = c.kubelet;
      return k?.imageGCLowThresholdPercent !== undefined &&
        k.imageGCHighThresholdPercent !== undefined &&
        k.imageGCLowThresholdPercent >= k.imageGCHighThresholdPercent
        ? {
            path: '/kubelet/imageGCLowThresholdPercent',
            message: 'imageGCLowThresholdPercent must be below imageGCHighThresholdPercent',
            hint: 'e.g. low 80, high 85',
          }
        : undefined;
    },
  },
];

/** kubeadm's --discovery-token-ca-cert-hash of a CA: sha256 of its SubjectPublicKeyInfo. */
export function caCertHash(pem: string): string | undefined {
  try {
    const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
    return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
  } catch {
    return undefined;
  }
}

/** Problems in a node config; `base` is the JSON path of the config inside its file (e.g. `/kiln`). */
export function nodeConfigProblems(value: unknown, file: string, base = ''): Problem[] {
  const shape = schemaProblems(NodeConfigSchema, value, file).map((p) => ({ ...p, path: base + p.path }));
  // the rules read fields the schema guarantees: on a malformed config they would only repeat it
  if (shape.length > 0) return shape;
  return runRules(RULES, value as NodeConfig, file, { malformed: false, base });
}
