// Validates a kiln node config wherever it came from (a `kiln:` key, /etc/kiln/node.yaml):
// schema first, then the rules a schema cannot say (which role needs which join material).
import type { Problem } from '../../builder/errors.ts';
import { schemaProblems } from '../../builder/spec/problems.ts';
import { NodeConfigSchema, type NodeConfig } from './schema.ts';

interface Rule {
  name: string;
  check: (config: NodeConfig) => { path: string; message: string; hint: string } | undefined;
}

// Joiners always pin the CA: kiln never joins with unsafeSkipCAVerification.
const RULES: Rule[] = [
  {
    name: 'joiners carry a bootstrap token',
    check: (c) => (c.role !== 'init' && !c.join ? { path: '/join', message: `role "${c.role}" needs join material`, hint: 'add join.token and join.caCertHashes (kiln cluster writes them for every node)' } : undefined),
  },
  {
    name: 'joiners pin the CA',
    check: (c) =>
      c.role !== 'init' && c.join && !c.join.caCertHashes
        ? { path: '/join/caCertHashes', message: `role "${c.role}" must pin the cluster CA`, hint: 'add the sha256:<hex> hash of the CA public key; kiln never joins with unsafeSkipCAVerification' }
        : undefined,
  },
  {
    name: 'control planes carry the certificate key',
    check: (c) =>
      c.role === 'control-plane' && c.join && !c.join.certificateKey
        ? { path: '/join/certificateKey', message: 'a joining control plane needs the certificate key to download the control-plane certificates', hint: 'use the key the init node uploaded its certificates with (64 hex digits)' }
        : undefined,
  },
  {
    name: 'the init node brings the CA',
    check: (c) =>
      c.role === 'init' && !c.ca
        ? { path: '/ca', message: 'role "init" needs the cluster CA (cert and key)', hint: 'pre-generate it (kiln cluster does) so joiners can pin its hash before the cluster exists' }
        : undefined,
  },
  {
    name: 'the init node creates the bootstrap token',
    check: (c) => (c.role === 'init' && !c.join?.token ? { path: '/join/token', message: 'role "init" needs the bootstrap token the other nodes join with', hint: 'add join.token ("[a-z0-9]{6}.[a-z0-9]{16}")' } : undefined),
  },
];

/** Problems in a node config; `base` is the JSON path of the config inside its file (e.g. `/kiln`). */
export function nodeConfigProblems(value: unknown, file: string, base = ''): Problem[] {
  const shape = schemaProblems(NodeConfigSchema, value, file).map((p) => ({ ...p, path: base + p.path }));
  if (shape.length > 0) return shape;
  return RULES.flatMap((rule) => {
    const found = rule.check(value as NodeConfig);
    return found ? [{ file, ...found, path: base + found.path }] : [];
  });
}

/** Paths whose values are secrets (tokens, keys): status and logs must never show them. */
export const SECRET_PATHS = ['/join/token', '/join/certificateKey', '/ca/key'];
