// Checks metadata the way the node would, without applying anything.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { formatProblem, type Problem } from '../../core/problem.ts';
import { KilnError, ValidationError } from '../../core/errors.ts';
import { decodeMetadata } from '../../node/metadata/decode.ts';
import { fetchBytes } from '../metadata/fetch.ts';
import { type RawMetadata } from '../../node/metadata/decode.ts';
import { loadSeed } from '../metadata/providers.ts';
import { resolveModel } from '../resolve.ts';
import { writeOut, writeErr } from '../../core/output.ts';

export interface ValidationResult {
  valid: boolean;
  problems: Problem[];
  warnings: Problem[];
}

/** A NoCloud seed directory, an Ignition config (JSON) or a cloud-config / user-data file. */
export async function validatePath(target: string, options: { offline?: boolean } = {}): Promise<ValidationResult> {
  const info = await stat(target).catch((cause: unknown) => {
    throw new KilnError(`cannot read ${target}`, {
      file: target,
      cause,
      hint: 'give a cloud-config file, an Ignition JSON file or a NoCloud seed directory',
      exitCode: 2,
    });
  });
  let raw: RawMetadata;
  if (info.isDirectory()) raw = await loadSeed(target, `seed directory ${target}`, { fileNames: true });
  else raw = { kind: 'sniff', userData: { name: target, data: (await fetchBytes(target))! } };
  try {
    const model = decodeMetadata(raw);
    // remote contents are fetched and checked against their hashes unless told not to
    if (!options.offline) await resolveModel(model);
    return { valid: true, problems: [], warnings: model.warnings };
  } catch (error) {
    if (error instanceof ValidationError) return { valid: false, problems: error.problems, warnings: [] };
    throw error;
  }
}

export async function validateCommand(positionals: string[], values: Record<string, unknown>): Promise<number> {
  if (positionals.length !== 1)
    throw new KilnError('validate takes one PATH', {
      hint: 'kiln-firstboot validate ./seed-dir (or user-data, or config.ign)',
      exitCode: 2,
    });
  const target = positionals[0]!;
  const result = await validatePath(target, { offline: Boolean(values.offline) });
  if (values.json) writeOut(`${JSON.stringify(result, null, 2)}\n`);
  else {
    for (const w of result.warnings) writeOut(`warning: ${formatProblem(w)}\n`);
    if (result.valid) writeOut(`${path.basename(target)}: valid\n`);
    else writeErr(`${new ValidationError(result.problems).describe()}\n`);
  }
  return result.valid ? 0 : 2;
}
