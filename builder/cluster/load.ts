// Reads a cluster spec: YAML → schema → semantic rules, every problem at once with file:line:col.
import { readFile } from 'node:fs/promises';
import { KilnError, ValidationError } from '../errors.ts';
import { schemaProblems } from '../spec/problems.ts';
import { byPosition, readYaml } from '../spec/yaml.ts';
import { ClusterSpecSchema, type ClusterSpec } from './schema.ts';
import { clusterProblems } from './semantics.ts';

export async function loadClusterFile(file: string): Promise<ClusterSpec> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new KilnError('cannot read the cluster spec', { file, cause, hint: 'check the path; images/examples/cluster-lab.yaml is an example', exitCode: 2 });
  }
  return parseClusterSpec(text, file);
}

/** Parses and validates cluster spec text; throws a ValidationError listing every problem. */
export function parseClusterSpec(text: string, file: string): ClusterSpec {
  const doc = readYaml(text, file);
  const value = doc.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ValidationError([{ file, path: '', message: 'the cluster spec must be a YAML mapping', hint: 'start from images/examples/cluster-lab.yaml' }]);
  const problems = [...schemaProblems(ClusterSpecSchema, value, file), ...clusterProblems(value as ClusterSpec, file)];
  if (problems.length > 0) throw new ValidationError(dedupe(problems).map(doc.locate).sort(byPosition));
  return value as ClusterSpec;
}

/** A rule may repeat what the schema said at the same path; keep the first. */
const dedupe = <T extends { path: string; message: string }>(problems: T[]) => problems.filter((p, i) => problems.findIndex((q) => q.path === p.path && q.message === p.message) === i);
