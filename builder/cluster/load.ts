// Reads a cluster spec: YAML → schema → semantic rules, every problem at once with file:line:col.
import { parseDocumentText, readDocumentFile, type DocumentKind } from '../../core/document.ts';
import { ClusterSpecSchema, type ClusterSpec } from './schema.ts';
import { CLUSTER_RULES } from './semantics.ts';

const CLUSTER_SPEC: DocumentKind<ClusterSpec> = {
  what: 'cluster spec',
  example: 'images/examples/cluster-lab.yaml',
  schema: ClusterSpecSchema,
  rules: CLUSTER_RULES,
};

export async function loadClusterFile(file: string): Promise<ClusterSpec> {
  return parseClusterSpec(await readDocumentFile(file, CLUSTER_SPEC), file);
}

/** Parses and validates cluster spec text; throws a ValidationError listing every problem. */
export function parseClusterSpec(text: string, file: string): ClusterSpec {
  return parseDocumentText(text, file, CLUSTER_SPEC);
}
