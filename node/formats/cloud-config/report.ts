// What the cloud-config steps share: the file being read, the problems and warnings found so far,
// and the model being filled. Problems carry the file name the YAML locator knows (`file`); the
// origin of model entries uses the plain file name (`origin`).
import type { TSchema } from '@sinclair/typebox';
import type { Problem } from '../../../core/errors.ts';
import { schemaProblems } from '../../../core/schema.ts';
import type { Provisioning } from '../../model.ts';

export interface Report {
  /** The name problems are located against (a MIME part may carry its own label). */
  file: string;
  /** The file name model entries' origins name. */
  origin: string;
  problems: Problem[];
  warnings: Problem[];
  error(path: string, message: string, hint?: string): void;
  warn(path: string, message: string, hint?: string): void;
  /** Checks a value against a schema; problems are pushed with `path` prefixed. */
  check(schema: TSchema, value: unknown, path: string): boolean;
}

export function newReport(file: string, origin = file): Report {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const make = (path: string, message: string, hint?: string): Problem => ({ file, path, message, ...(hint ? { hint } : {}) });
  return {
    file,
    origin,
    problems,
    warnings,
    error: (path, message, hint) => void problems.push(make(path, message, hint)),
    warn: (path, message, hint) => void warnings.push(make(path, message, hint)),
    check(schema, value, path) {
      const found = schemaProblems(schema, value, file).map((p) => ({ ...p, path: path + p.path }));
      problems.push(...found);
      return found.length === 0;
    },
  };
}

/** One cloud-config document being turned into the model. */
export interface Context {
  report: Report;
  model: Provisioning;
  /** True when the YAML wrote this integer in octal (`0644`), as YAML 1.1 and PyYAML read it. */
  isOctalLiteral(path: Array<string | number>): boolean;
}

/** Octal for messages: 420 → "0644". */
export const octal = (mode: number): string => `0${mode.toString(8).padStart(3, '0')}`;

export const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  !(v instanceof Uint8Array) &&
  !(v instanceof Date) &&
  !(v instanceof Map) &&
  !(v instanceof Set);

/** JSON-pointer segment escaping. */
export const seg = (key: string | number): string => String(key).replace(/~/g, '~0').replace(/\//g, '~1');
