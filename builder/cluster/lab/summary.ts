// cluster.json as `kiln cluster up|down|status|libvirt` read it back: the non-secret summary
// `kiln cluster gen` wrote. Checked against its schema first, so a hand-edited or older file gets
// a located error instead of a half-started cluster.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { HOSTNAME_PATTERN, NodeConfigSchema, NodeName, Role } from '../../../node/config/schema.ts';
import { KilnError, ValidationError } from '../../../core/errors.ts';
import type { Problem } from '../../../core/problem.ts';
import { readJson } from '../../../core/json.ts';
import { schemaProblems } from '../../../core/schema.ts';
import { LAYOUT } from '../state.ts';

// Every name that becomes a path or a device is checked here, where it is read back: cluster.json
// is a file in the user's directory, and a hand-edited `../../x` must not write outside it.
const NODE_PATH = `nodes/${HOSTNAME_PATTERN.slice(1, -1)}`;
const SummaryInterface = Type.Object({
  name: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,15}$' }),
  mac: Type.Optional(Type.String({ pattern: '^[0-9a-f]{2}(:[0-9a-f]{2}){5}$' })),
  addresses: Type.Array(Type.String({ format: 'kiln-cidr' }), { minItems: 1 }),
  gateway: Type.Optional(Type.String()),
});

export const ClusterSummarySchema = Type.Object({
  name: NodeConfigSchema.properties.cluster.properties.name,
  controlPlaneEndpoint: Type.String(),
  vms: Type.Object({
    memoryMiB: Type.Integer({ minimum: 512 }),
    cpus: Type.Integer({ minimum: 1 }),
    start: Type.Union([Type.Literal('parallel'), Type.Literal('sequential')]),
  }),
  nodes: Type.Array(
    Type.Object({
      name: NodeName,
      role: Role,
      advertiseAddress: Type.String(),
      interfaces: Type.Array(SummaryInterface, { minItems: 1 }),
      cidata: Type.String({ pattern: `^${NODE_PATH}/cidata\\.iso$` }),
      ignition: Type.String({ pattern: `^${NODE_PATH}/ignition\\.json$` }),
    }),
    { minItems: 1 },
  ),
});

export type ClusterSummary = Static<typeof ClusterSummarySchema>;
export type SummaryNode = ClusterSummary['nodes'][number];

/** DIR/cluster.json, checked; names the file and field on any problem. */
export async function readSummary(dir: string): Promise<ClusterSummary> {
  const file = path.join(dir, LAYOUT.summary);
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new KilnError(
      error.code === 'ENOENT'
        ? 'no cluster.json: this is not a directory kiln cluster gen wrote'
        : `cannot read cluster.json: ${error.message}`,
      {
        file,
        hint: 'run kiln cluster gen CLUSTER.yaml --out DIR first, and give that DIR',
        exitCode: 2,
        cause: error,
      },
    );
  });
  const value = readJson(text, file, 'run kiln cluster gen again to rewrite it');
  const problems = schemaProblems(ClusterSummarySchema, value, file);
  if (problems.length === 0) problems.push(...layoutProblems(value as ClusterSummary, file));
  if (problems.length > 0)
    throw new ValidationError(
      problems.map((p) => ({ ...p, hint: p.hint ?? 'run kiln cluster gen again with this version of kiln to rewrite it' })),
    );
  return value as ClusterSummary;
}

/** Each node's files where gen puts them (under its own nodes/NAME), and no name twice. */
function layoutProblems(summary: ClusterSummary, file: string): Problem[] {
  const problems: Problem[] = [];
  const hint = 'run kiln cluster gen again to rewrite it';
  for (const [i, n] of summary.nodes.entries()) {
    if (summary.nodes.findIndex((m) => m.name === n.name) !== i)
      problems.push({ file, path: `/nodes/${i}/name`, message: `node "${n.name}" is listed twice`, hint, severity: 'error' });
    for (const [key, want] of [
      ['cidata', LAYOUT.iso(n.name)],
      ['ignition', LAYOUT.ignition(n.name)],
    ] as const)
      if (n[key] !== want)
        problems.push({
          file,
          path: `/nodes/${i}/${key}`,
          message: `is not ${want}, where gen writes node ${n.name}'s ${key}`,
          hint,
          severity: 'error',
        });
  }
  return problems;
}
