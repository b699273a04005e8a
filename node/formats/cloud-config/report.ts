// What the cloud-config steps share: the file being read, the problems and warnings found so far,
// and the model being filled. Problems carry the file name the YAML locator knows (`file`); the
// origin of model entries uses the plain file name (`origin`).
import type { Report } from '../../../core/problem.ts';
import type { Provisioning } from '../../model.ts';

/** One cloud-config document being turned into the model. */
export interface Context {
  report: Report;
  model: Provisioning;
  /** True when the YAML wrote this integer in octal (`0644`), as YAML 1.1 and PyYAML read it. */
  isOctalLiteral(path: Array<string | number>): boolean;
}

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
