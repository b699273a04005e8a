// Reads an image spec: YAML → schema check → semantic checks → defaults; then what it names on disk.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { parseDocumentText, readDocumentFile, type DocumentKind } from '../../core/document.ts';
import { KilnError, ValidationError } from '../../core/errors.ts';
import type { Problem } from '../../core/problem.ts';
import { readYaml } from '../../core/yaml.ts';
import { ImageSpecSchema, type ImageSpec } from './schema.ts';
import { IMAGE_RULES } from './semantics.ts';
import { applyDefaults, type ResolvedSpec } from './defaults.ts';
import { signingKey, trustedKeys } from '../update/keys.ts';

const IMAGE_SPEC: DocumentKind<ImageSpec> = {
  what: 'image spec',
  example: 'images/debian-bookworm.yaml',
  schema: ImageSpecSchema,
  rules: IMAGE_RULES,
};

export async function loadSpecFile(file: string): Promise<ResolvedSpec> {
  const text = await readDocumentFile(file, IMAGE_SPEC);
  const spec = parseSpec(text, file);
  // what the spec names on disk, checked by `kiln validate` as by `kiln build` (before any work)
  const problems: Problem[] = [];
  for (const [i, o] of spec.overlays.entries()) {
    const dir = path.resolve(spec.dir, o.path);
    const info = await stat(dir).catch(() => undefined);
    if (!info?.isDirectory())
      problems.push({
        file,
        path: `/overlays/${i}/path`,
        message: `overlay directory ${dir} ${info ? 'is not a directory' : 'does not exist'}`,
        hint: 'an overlay is a directory copied over the rootfs; paths are relative to the spec file',
        severity: 'error',
      });
  }
  // the update keys: readable, the right kind, the signing key private to its owner
  const keyProblem = (e: unknown) => {
    if (!(e instanceof KilnError) || !e.path) throw e;
    if (!problems.some((p) => p.path === e.path))
      problems.push({ file, path: e.path, message: `${e.file}: ${e.message}`, hint: e.hint ?? '', severity: 'error' });
  };
  await signingKey(spec).catch(keyProblem);
  await trustedKeys(spec).catch(keyProblem);
  if (problems.length > 0) throw new ValidationError(problems.map(readYaml(text, file).locate));
  return spec;
}

/** Parse and validate spec text. Throws ValidationError listing every problem at once. */
export function parseSpec(text: string, file: string): ResolvedSpec {
  return applyDefaults(parseDocumentText(text, file, IMAGE_SPEC), file);
}
