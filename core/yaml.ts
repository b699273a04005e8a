// YAML documents whose problems point at file:line:col: parse once, keep the node tree for locating.
import { LineCounter, parseDocument, isMap, isSeq, type Node as YamlNode } from 'yaml';
import { type Problem } from './problem.ts';
import { ValidationError } from './errors.ts';

export interface YamlDocument {
  value: unknown;
  /** Sets a problem's line and column to the node its path names (or its nearest ancestor). */
  locate(problem: Problem): Problem;
}

/** Parses YAML text; syntax errors throw a ValidationError naming every bad spot. */
export function readYaml(text: string, file: string): YamlDocument {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ValidationError(
      doc.errors.map((e) => ({
        file,
        ...lines.linePos(e.pos[0]),
        path: '',
        message: `YAML syntax: ${e.message.split('\n')[0]}`,
        hint: 'check indentation and quoting near that line',
        severity: 'error' as const,
      })),
    );
  }
  return {
    value: doc.toJS(),
    locate(p) {
      // a problem of another file, or one its reader already placed (a MIME part's line), stays put
      if (p.file !== file || p.line !== undefined) return p;
      const node = nodeAt(doc.contents, p.path);
      return node?.range ? { ...p, ...lines.linePos(node.range[0]) } : p;
    },
  };
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
      if (next === undefined || next === null) return (pair?.key as YamlNode | undefined) ?? node;
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
