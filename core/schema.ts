// Schemas as kiln writes them (TypeBox with hints and secrets marked) and their validation errors
// turned into problems a person can act on: one per path, with a hint.
import { Type, type TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import type { Problem } from './problem.ts';
import { redactText, rememberSecret } from './redact.ts';

/** Attach a hint that validation prints when a value does not match. */
export const hinted = <T extends TSchema>(schema: T, hint: string): T => ({ ...schema, 'x-hint': hint });

/** Objects refuse unknown keys: a typo is an error, not a silently ignored setting. */
export const Strict = { additionalProperties: false } as const;

/** A map whose keys must match a pattern; a bad key is reported with the key hint. */
export const recordOf = <V extends TSchema>(pattern: string, keyHint: string, value: V, extra: object = {}) =>
  Type.Record(Type.String({ pattern }), value, { ...Strict, 'x-key-hint': keyHint, ...extra });

/** Marks a schema's value as secret: never repeated in a message, hidden wherever it is printed. */
export const secret = <T extends TSchema>(schema: T): T => ({ ...schema, 'x-secret': true });

export function schemaProblems(schema: TSchema, value: unknown, file: string): Problem[] {
  // before any problem is formed: a message of this or any later check must not show them
  rememberSecrets(schema, value);
  const byPath = new Map<string, Problem>();
  for (const error of Value.Errors(schema, value)) {
    if (byPath.has(error.path)) continue;
    // A parent union error repeats what its branch errors say better; keep the most specific.
    if ([...byPath.keys()].some((p) => error.path.startsWith(`${p}/`))) continue;
    byPath.set(error.path, toProblem(schema, error, file));
  }
  return [...byPath.values()];
}

function toProblem(root: TSchema, error: ValueError, file: string): Problem {
  const key = error.path.split('/').pop() ?? '';
  // a value under a schema marked x-secret (tokens, keys, passwords) is never repeated in a message
  const describeValue = (value: unknown) => (holdsSecret(error.schema) ? '(value not shown: secret)' : showValue(value));
  switch (error.type) {
    case ValueErrorType.ObjectAdditionalProperties: {
      const parent = schemaAt(root, error.path.split('/').slice(0, -1));
      const keyHint = parent?.['x-key-hint'] as string | undefined;
      if (keyHint) return { file, path: error.path, message: `invalid key "${key}"`, hint: keyHint, severity: 'error' as const };
      const allowed = Object.keys(parent?.properties ?? {});
      const near = closest(key, allowed);
      return {
        file,
        path: error.path,
        message: `unknown key "${key}"`,
        hint: near ? `did you mean "${near}"? allowed here: ${allowed.join(', ')}` : `allowed here: ${allowed.join(', ') || 'nothing'}`,
        severity: 'error' as const,
      };
    }
    case ValueErrorType.ObjectRequiredProperty:
      return {
        file,
        path: error.path,
        message: `missing required key "${key}"`,
        hint: hintOf(error.schema) ?? describe(error.schema) ?? shapeHint(error),
        severity: 'error' as const,
      };
    case ValueErrorType.Union: {
      const options = literalsOf(error.schema);
      if (options)
        return {
          file,
          path: error.path,
          message: `${describeValue(error.value)} is not one of: ${options.join(', ')}`,
          hint: hintOf(error.schema) ?? hintOf(schemaAt(root, error.path.split('/'))),
          severity: 'error' as const,
        };
    }
    // falls through: a union of shapes reads best with the generic message
    default:
      return {
        file,
        path: error.path,
        message: `${describeValue(error.value)}: ${error.message.charAt(0).toLowerCase()}${error.message.slice(1)}`,
        hint: hintOf(error.schema) ?? hintOf(schemaAt(root, error.path.split('/'))) ?? describe(error.schema) ?? shapeHint(error),
        severity: 'error' as const,
      };
  }
}

function literalsOf(schema: TSchema): string[] | undefined {
  const options = (schema.anyOf as TSchema[] | undefined)?.map((s) => s.const as unknown);
  return options?.every((o) => typeof o === 'string') ? (options as string[]) : undefined;
}

function hintOf(schema: TSchema | undefined): string | undefined {
  return schema?.['x-hint'] as string | undefined;
}

function describe(schema: TSchema): string | undefined {
  if (schema.pattern) return `must match ${schema.pattern}`;
  if (schema.description) return schema.description as string;
  return undefined;
}

/** Last resort, so no problem goes without a hint: say what shape the schema wants here. */
function shapeHint(error: ValueError): string {
  const s = error.schema;
  if (error.type === ValueErrorType.ArrayMinItems) return `list at least ${s.minItems} entr${s.minItems === 1 ? 'y' : 'ies'}`;
  if (error.type === ValueErrorType.ArrayUniqueItems) return 'list each entry only once';
  if (s.type === 'object') return s.properties ? `a mapping with the keys: ${Object.keys(s.properties).join(', ')}` : 'a mapping';
  if (s.type === 'array') return 'a YAML list, e.g. [a, b]';
  if (s.type === 'boolean') return 'true or false';
  if (s.type === 'integer' || s.type === 'number')
    return `a ${s.type === 'integer' ? 'whole ' : ''}number${s.minimum !== undefined ? ` ≥ ${s.minimum}` : ''}${s.maximum !== undefined ? ` and ≤ ${s.maximum}` : ''}`;
  if (s.type === 'string') return s.minLength ? 'a non-empty string' : 'a string';
  return 'see `kiln schema image` for the expected shape';
}

const secretBelow = new WeakMap<TSchema, boolean>();

/** True when the schema, or anything below it, is marked `x-secret`. */
function holdsSecret(schema: TSchema): boolean {
  let found = secretBelow.get(schema);
  if (found === undefined) secretBelow.set(schema, (found = JSON.stringify(schema).includes('"x-secret":true')));
  return found;
}

/** Registers with the redaction layer every string the value holds under an `x-secret` schema. */
export function rememberSecrets(schema: TSchema | undefined, value: unknown): void {
  if (!schema || !holdsSecret(schema)) return;
  if (schema['x-secret']) return stringsIn(value).forEach(rememberSecret);
  for (const branch of [...((schema.anyOf as TSchema[] | undefined) ?? []), ...((schema.allOf as TSchema[] | undefined) ?? [])])
    rememberSecrets(branch, value);
  if (Array.isArray(value)) for (const item of value) rememberSecrets(schema.items as TSchema | undefined, item);
  else if (value && typeof value === 'object')
    for (const [key, item] of Object.entries(value)) {
      const below =
        (schema.properties as Record<string, TSchema> | undefined)?.[key] ??
        (Object.values(schema.patternProperties ?? {})[0] as TSchema | undefined) ??
        (typeof schema.additionalProperties === 'object' ? (schema.additionalProperties as TSchema) : undefined);
      rememberSecrets(below, item);
    }
}

/** Every string inside a value (iterative: the value may be deep). */
function stringsIn(value: unknown): string[] {
  const found: string[] = [];
  const stack = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') found.push(v);
    else if (v && typeof v === 'object') stack.push(...Object.values(v));
  }
  return found;
}

function showValue(value: unknown): string {
  if (value === undefined) return 'missing value';
  // a URL's credentials never reach a message, even one that does not parse
  const text = redactText(JSON.stringify(value));
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** Walks the schema along a value path (object properties, patternProperties, array items). */
function schemaAt(root: TSchema, segments: string[]): TSchema | undefined {
  let node: TSchema | undefined = root;
  for (const seg of segments.filter(Boolean)) {
    if (!node) return undefined;
    if (node.properties?.[seg]) node = node.properties[seg];
    else if (node.patternProperties) node = Object.values(node.patternProperties)[0] as TSchema;
    else if (node.items) node = node.items as TSchema;
    else return undefined;
    while (node?.anyOf && node.anyOf.length === 1) node = node.anyOf[0];
  }
  return node;
}

/** Nearest allowed key by edit distance, if it is plausibly a typo. */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
