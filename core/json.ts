// JSON documents read as kiln reads YAML: a syntax error is located (line:col) and worded without
// repeating the text (V8's message quotes it, and the text may be a password hash), nesting is
// bounded before any walker recurses into it, and the state files kiln writes for itself are read
// back through a schema, so a corrupt or tampered one is a clear error rather than a crash.
import type { TSchema } from '@sinclair/typebox';
import { parse as locateJsonError, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { ValidationError } from './errors.ts';
import { readInputFile } from './fs.ts';
import type { Problem } from './problem.ts';
import { schemaProblems } from './schema.ts';

/** What a state file of kiln's own may weigh. */
const STATE_BYTES = 4 * 1024 * 1024;

/** Nesting a JSON document may have: far past any real config, far short of a walker's stack. */
export const JSON_DEPTH = 100;

const SYNTAX: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'malformed number',
  PropertyNameExpected: 'a double-quoted property name is expected',
  ValueExpected: 'a value is expected',
  ColonExpected: "':' is expected after the property name",
  CommaExpected: "',' is expected between entries",
  CloseBraceExpected: "'}' is expected",
  CloseBracketExpected: "']' is expected",
  EndOfFileExpected: 'text after the end of the document',
  InvalidCommentToken: 'JSON has no comments',
  UnexpectedEndOfComment: 'JSON has no comments',
  UnexpectedEndOfString: 'a string is not closed',
  UnexpectedEndOfNumber: 'malformed number',
  InvalidUnicode: 'malformed \\u escape',
  InvalidEscapeCharacter: 'malformed escape in a string',
  InvalidCharacter: 'a control character inside a string',
};

/** 1-based line and column of a character offset. */
export function linePos(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, col: before.at(-1)!.length + 1 };
}

/**
 * Parses JSON text (a leading BOM allowed); syntax errors and nesting past JSON_DEPTH throw a
 * ValidationError located in `file`. `hint` is what a user of this kind of document is told (given
 * the offset of a syntax error, it may say more about that spot).
 */
export function readJson(text: string, file: string, hint: string | ((offset: number) => string)): unknown {
  const body = text.replace(/^\uFEFF/, '');
  const shift = text.length - body.length;
  const problem = (offset: number, message: string, why: string): ValidationError =>
    new ValidationError([{ file, ...linePos(text, offset + shift), path: '', message, hint: why, severity: 'error' as const }]);
  const hintAt = (offset: number) => (typeof hint === 'string' ? hint : hint(offset));
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    const { offset, code } = firstSyntaxError(body);
    const { line, col } = linePos(text, offset + shift);
    throw problem(offset, `JSON syntax error at line ${line}:${col}: ${SYNTAX[code] ?? 'unreadable JSON'}`, hintAt(offset));
  }
  const deep = tooDeep(body);
  if (deep !== undefined)
    throw problem(deep, `JSON nested deeper than ${JSON_DEPTH} levels`, 'flatten the document: no config needs that depth');
  return value;
}

/** Where the text first stops being JSON (JSON.parse said it does not parse; jsonc-parser says where). */
function firstSyntaxError(text: string): { offset: number; code: string } {
  const errors: ParseError[] = [];
  try {
    locateJsonError(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  } catch {
    // its recursive descent may run out of stack on hostile nesting: no position then
  }
  const first = errors[0];
  return first ? { offset: first.offset, code: printParseErrorCode(first.error) } : { offset: text.length, code: 'ValueExpected' };
}

/** Offset of the first bracket that opens level JSON_DEPTH + 1, if any (strings skipped). */
function tooDeep(text: string): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === '{' || c === '[') {
      if (++depth > JSON_DEPTH) return i;
    } else if (c === '}' || c === ']') depth--;
  }
  return undefined;
}

/**
 * A JSON file kiln wrote for itself (a state or status file), read back through its schema: a
 * missing file is undefined; an unreadable, corrupt or tampered one is an exit-2 error naming the
 * file, the field and what to do (`remedy`: usually remove the file, or re-run the step that writes it).
 */
export async function readStateFile<T>(file: string, schema: TSchema, remedy: string): Promise<T | undefined> {
  // a tampered one may be a FIFO, /dev/zero or huge: the input reader refuses those
  const text = await readInputFile(file, { what: 'this state file', hint: remedy, optional: true, maxBytes: STATE_BYTES });
  if (text === undefined) return undefined;
  const value = readJson(text, file, remedy);
  const problems: Problem[] = schemaProblems(schema, value, file).map((p) => ({ ...p, hint: `${p.hint ? `${p.hint}; ` : ''}${remedy}` }));
  if (problems.length > 0) throw new ValidationError(problems);
  return value as T;
}
