// What every kiln document (image spec, cluster spec) goes through: read → YAML → must be a
// mapping → schema → a table of semantic rules → every problem at once, located file:line:col.
import { readFile } from 'node:fs/promises';
import type { TSchema } from '@sinclair/typebox';
import { KilnError, ValidationError, type Problem } from './errors.ts';
import { schemaProblems } from './schema.ts';
import { byPosition, readYaml } from './yaml.ts';

/** A semantic check: looks at the whole document, reports problems without the file. */
export type Rule<T> = [name: string, check: (doc: T) => Array<Omit<Problem, 'file'>>];

export interface DocumentKind<T> {
  /** How users call it: "image spec", "cluster spec". */
  what: string;
  /** Where a user starts from, for hints. */
  example: string;
  schema: TSchema;
  rules: Array<Rule<T>>;
}

/**
 * Runs every rule. Rules also run on documents the schema rejected, so every problem is reported
 * at once; a rule that trips over a malformed shape has nothing to add to the schema's report.
 */
export function ruleProblems<T>(rules: Array<Rule<T>>, doc: T, file: string): Problem[] {
  return rules.flatMap(([, check]) => {
    try {
      return check(doc).map((p) => ({ file, ...p }));
    } catch {
      return [];
    }
  });
}

export async function readDocumentFile(file: string, kind: Pick<DocumentKind<unknown>, 'what' | 'example'>): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    throw new KilnError(`cannot read the ${kind.what}`, {
      file,
      cause,
      hint: `check the path; ${kind.example} is an example`,
      exitCode: 2,
    });
  }
}

/** The validated document; a ValidationError listing every problem, sorted by line, otherwise. */
export function parseDocumentText<T>(text: string, file: string, kind: DocumentKind<T>): T {
  const doc = readYaml(text, file);
  const value = doc.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ValidationError([{ file, path: '', message: `the ${kind.what} must be a YAML mapping`, hint: `start from ${kind.example}` }]);
  const problems = [...schemaProblems(kind.schema, value, file), ...ruleProblems(kind.rules, value as T, file)];
  // a rule may repeat what the schema said at the same path: keep the first
  const unique = problems.filter((p, i) => problems.findIndex((q) => q.path === p.path && q.message === p.message) === i);
  if (unique.length > 0) throw new ValidationError(unique.map(doc.locate).sort(byPosition));
  return value as T;
}
