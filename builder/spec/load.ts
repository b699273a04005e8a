// Reads an image spec: YAML → schema check → semantic checks → defaults. Pure except for reading the file.
import { readFile } from 'node:fs/promises';
import { Value } from '@sinclair/typebox/value';
import { LineCounter, parseDocument, isMap, isSeq, type Node as YamlNode } from 'yaml';
import { KilnError, ValidationError, type Problem } from '../errors.ts';
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
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ValidationError(
      doc.errors.map((e) => ({
        file: at(file, lines, e.pos[0]),
        path: '',
        message: `YAML syntax: ${e.message.split('\n')[0]}`,
        hint: 'check indentation and quoting near that line',
      })),
    );
  }
  const value: unknown = doc.toJS();
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError([{ file, path: '', message: 'the spec must be a YAML mapping', hint: 'start from images/debian-bookworm.yaml' }]);
  }
  const locate = (p: Problem): Problem => {
    const node = nodeAt(doc.contents, p.path);
    return node?.range ? { ...p, file: at(file, lines, node.range[0]) } : p;
  };
  const problems = [...schemaProblems(ImageSpecSchema, value, file), ...semanticProblems(value as ImageSpec, file)];
  if (problems.length > 0) throw new ValidationError(problems.map(locate).sort(byPosition));
  return applyDefaults(value as ImageSpec, file);
}

/** Orders problems as they appear in the file (file:line:col), unlocated ones first. */
function byPosition(a: Problem, b: Problem): number {
  const pos = (p: Problem) => (/:(\d+):(\d+)$/.exec(p.file) ?? [0, 0, 0]).slice(1).map(Number);
  const [[la, ca], [lb, cb]] = [pos(a), pos(b)] as [number[], number[]];
  return la! - lb! || ca! - cb!;
}

function at(file: string, lines: LineCounter, offset: number): string {
  const { line, col } = lines.linePos(offset);
  return `${file}:${line}:${col}`;
}

/** Finds the YAML node a JSON-pointer path refers to, or its nearest existing ancestor. */
function nodeAt(root: unknown, pointer: string): YamlNode | undefined {
  let node = root as YamlNode | undefined;
  const segments = pointer.split('/').slice(1);
  for (const [i, raw] of segments.entries()) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((it) => String((it.key as { value?: unknown })?.value ?? it.key) === key);
      next = pair ? (pair.value ?? pair.key) : undefined;
      if (next === undefined || next === null) return pair?.key as YamlNode | undefined ?? node;
      // A block mapping or list starts on the line below its key: point at the key the problem names.
      if (i === segments.length - 1 && (isMap(next) || isSeq(next))) return pair!.key as YamlNode;
    } else if (isSeq(node)) {
      next = node.items[Number(key)];
    }
    if (next === undefined || next === null) return node;
    node = next as YamlNode;
  }
  return node;
}
