// Tables of malformed YAML documents (image specs, cluster specs): mutations of a valid document,
// and the check that the user is told the JSON pointer, the message, a hint, and a file:line:col
// pointing at the line to fix.
import { expect } from 'vitest';
import { isMap, parseDocument, type Document, type Scalar } from 'yaml';
import { type Problem } from '../../core/problem.ts';
import { ValidationError } from '../../core/errors.ts';
import { where } from '../../core/problem.ts';

export type Mutation = (doc: Document) => void;
type Path = Array<string | number>;

/** Sets a value (creating parent mappings as needed). */
export const set =
  (path: Path, value: unknown): Mutation =>
  (doc) =>
    doc.setIn(path, doc.createNode(value));
export const del =
  (path: Path): Mutation =>
  (doc) => {
    doc.deleteIn(path);
  };
/** Renames a key in place, as a typo would: the value and the key's position stay. */
export const rename =
  (path: Path, to: string): Mutation =>
  (doc) => {
    const parent = path.length > 1 ? doc.getIn(path.slice(0, -1), true) : doc.contents;
    if (!isMap(parent)) throw new Error(`no mapping at ${path.slice(0, -1).join('.')}`);
    const pair = parent.items.find((p) => (p.key as Scalar).value === path.at(-1));
    if (!pair) throw new Error(`no key ${path.join('.')}`);
    pair.key = doc.createNode(to);
  };
export const all =
  (...mutations: Mutation[]): Mutation =>
  (doc) =>
    mutations.forEach((m) => m(doc));

/** The text after a mutation; a mutation that changes nothing is a broken test row. */
export function mutated(text: string, mutation: Mutation): string {
  const doc = parseDocument(text);
  mutation(doc);
  const out = doc.toString();
  if (out === text) throw new Error('mutation changed nothing');
  return out;
}

/** The problems `parse` reports; accepting the document fails the test. */
export function problemsOf(parse: (text: string, file: string) => unknown, text: string, file: string): Problem[] {
  try {
    parse(text, file);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).problems;
  }
  throw new Error(`${file}: the malformed document was accepted`);
}

export const show = (problems: Problem[]) => problems.map((p) => `  ${p.file} ${p.path}: ${p.message} [hint: ${p.hint ?? '-'}]`).join('\n');
export const matches = (text: string, expected: string | RegExp) =>
  typeof expected === 'string' ? text.includes(expected) : expected.test(text);

export interface Row {
  name: string;
  /** A mutation of the valid document, or raw text (for YAML-level breakage). */
  mutate?: Mutation;
  text?: string;
  path: string;
  message: string | RegExp;
  hint?: string | RegExp;
  /**
   * What the line named by file:line:col must contain. Defaults to the last path segment (the key)
   * when that is not an array index; null: the problem has no node to point at, so no :line:col.
   */
  at?: string | RegExp | null;
}

/** Finds the row's problem among `problems` (reported for `text` named `file`) and checks what it says and where it points. */
export function expectRow(row: Row, text: string, problems: Problem[], file: string): void {
  const p = problems.find((q) => q.path === row.path && matches(q.message, row.message));
  expect(p, `no problem at "${row.path}" matching ${String(row.message)}; got:\n${show(problems)}`).toBeDefined();
  expect(p!.hint?.trim(), `no hint for ${p!.path}: ${p!.message}`).toBeTruthy();
  if (row.hint) expect(matches(p!.hint!, row.hint), `hint "${p!.hint}" does not match ${String(row.hint)}`).toBe(true);
  expect(p!.file).toBe(file);
  if (row.at === null) {
    expect(p!.line).toBeUndefined();
    return;
  }
  const pos = new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+):(\\d+)$`).exec(where(p!));
  expect(pos, `${where(p!)} carries no :line:col`).not.toBeNull();
  const [line, col] = [Number(pos![1]), Number(pos![2])];
  const lines = text.split('\n');
  expect(line).toBeGreaterThanOrEqual(1);
  expect(line).toBeLessThanOrEqual(lines.length);
  const source = lines[line - 1]!;
  expect(col).toBeGreaterThanOrEqual(1);
  expect(col).toBeLessThanOrEqual(source.length + 1);
  const key = row.path.split('/').pop()!;
  const expectedOnLine = row.at ?? (key && !/^[0-9]+$/.test(key) ? key.replace(/~1/g, '/').replace(/~0/g, '~') : undefined);
  if (expectedOnLine !== undefined)
    expect(matches(source, expectedOnLine), `${where(p!)} points at "${source}", expected it to contain ${String(expectedOnLine)}`).toBe(
      true,
    );
}
