// The one problem model: everything wrong with an input, located in its file (line and column
// where the file is text) and at a JSON path, with a hint; both programs report through it.
import type { TSchema } from '@sinclair/typebox';
import { schemaProblems } from './schema.ts';

export type Severity = 'error' | 'warning';

export interface Problem {
  file: string;
  /** 1-based position of the node the path names, when the document was read as text. */
  line?: number;
  col?: number;
  /** JSON pointer into the document, e.g. `/node/journald/systemMaxUse`; "" for the whole file. */
  path: string;
  message: string;
  hint?: string;
  severity: Severity;
}

/** What a check finds before it knows which file it looks at. */
export type Finding = Omit<Problem, 'file' | 'severity' | 'line' | 'col'> & { severity?: Severity };

/** `file:line:col` where located, else `file`. */
export function where(p: Pick<Problem, 'file' | 'line' | 'col'>): string {
  return p.line === undefined ? p.file : `${p.file}:${p.line}:${p.col ?? 1}`;
}

export function formatProblem(p: Problem): string {
  const at = p.path ? `${where(p)}: ${p.path}` : where(p);
  return `${at}: ${p.message}${p.hint ? `\n    hint: ${p.hint}` : ''}`;
}

/** Orders problems as they appear in the file (line, then column), unlocated ones first. */
export function byPosition(a: Problem, b: Problem): number {
  return (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0);
}

/** Gathers the problems and warnings of one file as a reader walks it, so all are reported at once. */
export class Report {
  readonly problems: Problem[] = [];
  readonly warnings: Problem[] = [];

  /** `file` is the name problems are located against; `origin` the name model entries cite (a MIME part may differ). */
  constructor(
    readonly file: string,
    readonly origin: string = file,
  ) {}

  error(path: string, message: string, hint?: string): void {
    this.problems.push(this.make(path, message, hint, 'error'));
  }

  warn(path: string, message: string, hint?: string): void {
    this.warnings.push(this.make(path, message, hint, 'warning'));
  }

  /** Checks a value against a schema; its problems are added with `path` prefixed. True when it conforms. */
  check(schema: TSchema, value: unknown, path: string): boolean {
    const found = schemaProblems(schema, value, this.file).map((p) => ({ ...p, path: path + p.path }));
    this.problems.push(...found);
    return found.length === 0;
  }

  private make(path: string, message: string, hint: string | undefined, severity: Severity): Problem {
    return { file: this.file, path, message, ...(hint ? { hint } : {}), severity };
  }
}
