// cluster.json as `kiln cluster up|down|status|libvirt` read it back: the non-secret summary
// `kiln cluster gen` wrote. Checked against its schema first, so a hand-edited or older file gets
// a located error instead of a half-started cluster.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Role } from '../../../node/config/schema.ts';
import { KilnError, ValidationError } from '../../../core/errors.ts';
import { schemaProblems } from '../../../core/schema.ts';
import { LAYOUT } from '../state.ts';

const SummaryInterface = Type.Object({
  name: Type.String(),
  mac: Type.Optional(Type.String({ pattern: '^[0-9a-f]{2}(:[0-9a-f]{2}){5}$' })),
  addresses: Type.Array(Type.String({ format: 'kiln-cidr' }), { minItems: 1 }),
  gateway: Type.Optional(Type.String()),
});

export const ClusterSummarySchema = Type.Object({
  name: Type.String({ minLength: 1 }),
  controlPlaneEndpoint: Type.String(),
  vms: Type.Object({
    memoryMiB: Type.Integer({ minimum: 512 }),
    cpus: Type.Integer({ minimum: 1 }),
    start: Type.Union([Type.Literal('parallel'), Type.Literal('sequential')]),
  }),
  nodes: Type.Array(
    Type.Object({
      name: Type.String({ minLength: 1 }),
      role: Role,
      advertiseAddress: Type.String(),
      interfaces: Type.Array(SummaryInterface, { minItems: 1 }),
      cidata: Type.String(),
      ignition: Type.String(),
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
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new KilnError(`not valid JSON: ${(error as Error).message}`, {
      file,
      hint: 'run kiln cluster gen again to rewrite it',
      exitCode: 2,
      cause: error,
    });
  }
  const problems = schemaProblems(ClusterSummarySchema, value, file);
  if (problems.length > 0)
    throw new ValidationError(
      problems.map((p) => ({ ...p, hint: p.hint ?? 'run kiln cluster gen again with this version of kiln to rewrite it' })),
    );
  return value as ClusterSummary;
}
