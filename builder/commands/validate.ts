import { formatProblem, type Problem } from '../../core/problem.ts';
import { KilnError, ValidationError } from '../../core/errors.ts';
import { convertersFor } from '../outputs/formats.ts';
import { addonsOf } from '../addons/resolve.ts';
import { preflightBinaries } from '../binaries/resolve.ts';
import { loadSpecFile } from '../spec/load.ts';
import { writeOut, writeErr } from '../../core/output.ts';

/** `kiln validate SPEC...`: every file checked, every problem printed, exit 2 if any. */
export async function validateCommand(files: string[], opts: Record<string, unknown>): Promise<number> {
  if (files.length === 0) throw new KilnError('no spec given', { hint: 'kiln validate images/debian-bookworm.yaml', exitCode: 2 });
  const results: Array<{ file: string; valid: boolean; hash?: string; problems: Problem[] }> = [];
  for (const file of files) {
    try {
      const spec = await loadSpecFile(file);
      // the same output checks `kiln build` makes before its first side effect
      for (const converter of convertersFor(spec.outputs)) converter.validate?.(spec);
      preflightBinaries(spec);
      await addonsOf(spec);
      results.push({ file, valid: true, hash: spec.hash, problems: [] });
    } catch (error) {
      if (error instanceof ValidationError) results.push({ file, valid: false, problems: error.problems });
      else if (error instanceof KilnError)
        results.push({
          file,
          valid: false,
          problems: [{ file, path: error.path ?? '', message: error.message, hint: error.hint, severity: 'error' as const }],
        });
      else throw error;
    }
  }
  if (opts.json) writeOut(`${JSON.stringify(results, null, 2)}\n`);
  else
    for (const r of results) {
      if (r.valid) writeOut(`${r.file}: valid (spec hash ${r.hash?.slice(0, 12)})\n`);
      else
        writeErr(
          `${r.file}: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}\n${r.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}\n`,
        );
    }
  return results.every((r) => r.valid) ? 0 : 2;
}
