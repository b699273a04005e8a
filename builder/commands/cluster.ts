import path from 'node:path';
import { KilnError } from '../errors.ts';
import { generateCluster } from '../cluster/generate.ts';
import { loadClusterFile } from '../cluster/load.ts';
import { LAYOUT } from '../cluster/state.ts';

const USAGE_HINT = 'kiln cluster gen images/examples/cluster-lab.yaml --out clusters/lab';

/** `kiln cluster gen CLUSTER.yaml --out DIR [--rotate]`; the summary names files and the CA hash, never a secret. */
export async function clusterCommand(positionals: string[], opts: Record<string, unknown>): Promise<number> {
  const [verb, file, ...extra] = positionals;
  if (verb !== 'gen') throw new KilnError(verb ? `unknown cluster command "${verb}"` : 'no cluster command given', { hint: `only gen for now: ${USAGE_HINT}`, exitCode: 2 });
  if (!file || extra.length > 0) throw new KilnError('give exactly one cluster spec', { hint: USAGE_HINT, exitCode: 2 });
  if (typeof opts.out !== 'string' || opts.out === '') throw new KilnError('--out DIR is required', { hint: USAGE_HINT, exitCode: 2 });
  const spec = await loadClusterFile(file);
  const result = await generateCluster(spec, file, opts.out, { rotate: opts.rotate === true });
  const rel = (p: string) => path.join(result.dir, p);
  const lines = [
    `cluster ${spec.name}: ${result.nodes.length} nodes, API at ${result.endpoint}`,
    `  CA hash     ${result.caCertHash}`,
    `  secrets     ${result.created.length ? `new: ${result.created.join(', ')}` : 'kept (CA, token, certificate key)'}; in ${rel(LAYOUT.secrets)} and ${rel('pki/')} (0600)`,
    `  summary     ${rel(LAYOUT.summary)}`,
    ...result.nodes.map((n) => `  ${n.name.padEnd(12)}${n.role.padEnd(14)}${n.advertiseAddress.padEnd(16)}${n.dir}/{nocloud/,cidata.iso,ignition.json}`),
    ...(result.removed.length ? [`  removed     nodes no longer in the spec: ${result.removed.join(', ')}`] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
