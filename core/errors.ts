// Typed errors: every failure a user can cause names the file, the field path and a hint.
import { formatProblem, type Problem } from './problem.ts';

export class KilnError extends Error {
  readonly file?: string;
  readonly path?: string;
  readonly hint?: string;
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number;

  constructor(message: string, opts: { file?: string; path?: string; hint?: string; cause?: unknown; exitCode?: number } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'KilnError';
    this.file = opts.file;
    this.path = opts.path;
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? 1;
  }

  describe(): string {
    const where = [this.file, this.path].filter(Boolean).join(': ');
    const cause = this.cause instanceof Error ? `\n    cause: ${this.cause.message.split('\n')[0]}` : '';
    return `${where ? `${where}: ` : ''}${this.message}${this.hint ? `\n    hint: ${this.hint}` : ''}${cause}`;
  }
}

/** Invalid input document: carries every problem found, so the user fixes them all in one go. */
export class ValidationError extends KilnError {
  readonly problems: Problem[];

  constructor(problems: Problem[]) {
    super(`${problems.length} problem${problems.length === 1 ? '' : 's'} found`, { exitCode: 2 });
    this.name = 'ValidationError';
    this.problems = problems;
  }

  override describe(): string {
    return [`${this.message}:`, ...this.problems.map((p) => `  ${formatProblem(p)}`)].join('\n');
  }
}

/** A host tool failed or is missing. */
export class ToolError extends KilnError {
  constructor(tool: string, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(`${tool}: ${message}`, { ...opts, exitCode: 1 });
    this.name = 'ToolError';
  }
}
