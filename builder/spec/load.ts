// Reads an image spec: YAML → schema check → semantic checks → defaults. Pure except for reading the file.
import { parseDocumentText, readDocumentFile, type DocumentKind } from '../../core/document.ts';
import { ImageSpecSchema, type ImageSpec } from './schema.ts';
import { IMAGE_RULES } from './semantics.ts';
import { applyDefaults, type ResolvedSpec } from './defaults.ts';

const IMAGE_SPEC: DocumentKind<ImageSpec> = {
  what: 'image spec',
  example: 'images/debian-bookworm.yaml',
  schema: ImageSpecSchema,
  rules: IMAGE_RULES,
};

export async function loadSpecFile(file: string): Promise<ResolvedSpec> {
  return parseSpec(await readDocumentFile(file, IMAGE_SPEC), file);
}

/** Parse and validate spec text. Throws ValidationError listing every problem at once. */
export function parseSpec(text: string, file: string): ResolvedSpec {
  return applyDefaults(parseDocumentText(text, file, IMAGE_SPEC), file);
}
