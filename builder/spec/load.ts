// Reads an image spec: YAML → schema check → semantic checks → defaults. Pure except for reading the file.
import { readFile } from 'node:fs/promises';
import { KilnError, ValidationError } from '../errors.ts';
import { byPosition, readYaml } from './yaml.ts';
import { ImageSpecSchema, type ImageSpec } from './schema.ts';
import { schemaProblems } from './problems.ts';
import { semanticProblems } from './semantics.ts';
import { applyDefaults, type ResolvedSpec } from './defaults.ts';

export async function loadSpecFile(file: string): Promise<ResolvedSpec> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new KilnError('cannot read the image spec', { file, cause, hint: 'check the path; the default spec is images/debian-bookworm.yaml', exitCode: 2 });
  }
  return parseSpec(text, file);
}

/** Parse and validate spec text. Throws ValidationError listing every problem at once. */
export function parseSpec(text: string, file: string): ResolvedSpec {
  const doc = readYaml(text, file);
  const value = doc.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError([{ file, path: '', message: 'the spec must be a YAML mapping', hint: 'start from images/debian-bookworm.yaml' }]);
  }
  const problems = [...schemaProblems(ImageSpecSchema, value, file), ...semanticProblems(value as ImageSpec, file)];
  if (problems.length > 0) throw new ValidationError(problems.map(doc.locate).sort(byPosition));
  return applyDefaults(value as ImageSpec, file);
}
