// What every kiln document (image spec, cluster spec) goes through: read → YAML → must be a
// mapping → schema → a table of semantic rules → every problem at once, located file:line:col.
import type { TSchema } from '@sinclair/typebox';
import { ValidationError } from './errors.ts';
import { readInputFile } from './fs.ts';
import { schemaProblems } from './schema.ts';
import { byPosition } from './problem.ts';
import { readYaml } from './yaml.ts';
import { runRules, type Rule } from './rules.ts';

export interface DocumentKind<T> {
  /** How users call it: "image spec", "cluster spec". */
  what: string;
  /** Where a user starts from, for hints. */
  example: string;
  schema: TSchema;
  rules: Array<Rule<T>>;
}

export async function readDocumentFile(file: string, kind: Pick<DocumentKind<unknown>, 'what' | 'example'>): Promise<string> {
  return (await readInputFile(file, { what: `the ${kind.what}`, hint: `check the path; ${kind.example} is an example` }))!;
}

/** The validated document; a ValidationError listing every problem, sorted by line, otherwise. */
export function parseDocumentText<T>(text: string, file: string, kind: DocumentKind<T>): T {
  const doc = readYaml(text, file);
  const value = doc.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ValidationError([
      {
        file,
        path: '',
        message: `the ${kind.what} must be a YAML mapping`,
        hint: `start from ${kind.example}`,
        severity: 'error' as const,
      },
    ]);
  const shape = schemaProblems(kind.schema, value, file);
  const problems = [...shape, ...runRules(kind.rules, value as T, file, { malformed: shape.length > 0 })];
  // a rule may repeat what the schema said at the same path: keep the first
  const unique = problems.filter((p, i) => problems.findIndex((q) => q.path === p.path && q.message === p.message) === i);
  if (unique.length > 0) throw new ValidationError(unique.map(doc.locate).sort(byPosition));
  return value as T;
}
