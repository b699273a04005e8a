// The one rule runner: image spec, cluster spec and node config each keep a table of the checks
// their schema cannot express; every rule runs and every finding is reported at once.
import type { Finding, Problem } from './problem.ts';

/** A semantic check over a whole document; it reports findings at JSON paths, not the file. */
export interface Rule<T> {
  /** What holds when the rule passes, e.g. "joiners carry a bootstrap token". */
  name: string;
  check: (doc: T) => Finding | Finding[] | undefined;
}

export interface RuleRun {
  /** The schema already reported the document malformed. */
  malformed: boolean;
  /** JSON path of the document inside its file (`/kiln` for a node config inside cloud-config). */
  base?: string;
}

/**
 * Runs every rule. Rules also run on documents the schema rejected, so every problem is reported at
 * once; a rule that trips over such a malformed shape has nothing to add to the schema's report. On
 * a document the schema accepted, a rule that throws is a kiln bug, reported as a problem of its own.
 */
export function runRules<T>(rules: ReadonlyArray<Rule<T>>, doc: T, file: string, run: RuleRun): Problem[] {
  const base = run.base ?? '';
  return rules.flatMap((rule) => {
    let found: Finding[];
    try {
      const result = rule.check(doc);
      found = result === undefined ? [] : Array.isArray(result) ? result : [result];
    } catch (error) {
      if (run.malformed) return [];
      return [
        {
          file,
          path: base,
          message: `internal error: the check "${rule.name}" failed (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`,
          hint: 'this is a bug in kiln, not in the document; please report it',
          severity: 'error' as const,
        },
      ];
    }
    return found.map((f) => ({ ...f, file, path: base + f.path, severity: f.severity ?? 'error' }));
  });
}
