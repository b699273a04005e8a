// YAML documents whose problems point at file:line:col: parse once, keep the node tree for locating.
import {
  LineCounter,
  parseAllDocuments,
  parseDocument,
  isAlias,
  isMap,
  isPair,
  isSeq,
  type Document,
  type ErrorCode,
  type Node as YamlNode,
} from 'yaml';
import { type Problem } from './problem.ts';
import { ValidationError } from './errors.ts';

export interface YamlDocument {
  value: unknown;
  /** Sets a problem's line and column to the node its path names (or its nearest ancestor). */
  locate(problem: Problem): Problem;
}

/**
 * What a YAML document may cost to read. Aliases are accepted (a shared value referenced hundreds of
 * times is ordinary YAML) as long as all they expand to, together, stays within `aliasedValues`
 * values (what the text itself holds is bounded by its size); nesting deeper than `depth` is
 * refused before anything walks it.
 */
export const YAML_BUDGET = { aliasedValues: 100_000, depth: 100 } as const;

/**
 * The parser's messages, by code, in words that never repeat the document's text: the text at a
 * syntax error may be a password or a token (`authPass: |Kp9z…`, `token: *abc…`).
 */
const SYNTAX_MESSAGES: Record<ErrorCode, string> = {
  ALIAS_PROPS: 'an alias (*name) cannot carry a tag or an anchor',
  BAD_ALIAS: 'malformed alias (*name)',
  BAD_DIRECTIVE: 'malformed directive (%YAML or %TAG)',
  BAD_DQ_ESCAPE: 'invalid escape in a double-quoted string',
  BAD_INDENT: 'bad indentation, or a flow collection ([...] or {...}) that is not closed',
  BAD_PROP_ORDER: 'an anchor or tag must come before the value it marks',
  BAD_SCALAR_START: 'a plain value cannot start with this character; quote it',
  BLOCK_AS_IMPLICIT_KEY: 'a block value cannot be a mapping key',
  BLOCK_IN_FLOW: 'a block value inside a flow collection ([...] or {...})',
  DUPLICATE_KEY: 'a key appears twice in the same mapping',
  IMPOSSIBLE: 'unreadable YAML',
  KEY_OVER_1024_CHARS: 'an implicit key longer than 1024 characters',
  MISSING_CHAR: 'a comma, colon, closing bracket, brace or quote is missing',
  MULTILINE_IMPLICIT_KEY: 'a mapping key spans lines (is a colon or quote missing?)',
  MULTIPLE_ANCHORS: 'a value carries two anchors',
  MULTIPLE_DOCS: 'more than one YAML document (---) in the file',
  MULTIPLE_TAGS: 'a value carries two tags',
  NON_STRING_KEY: 'a mapping key that is not a string',
  RESOURCE_EXHAUSTION: `nested too deep to read (the budget is ${YAML_BUDGET.depth} levels)`,
  TAB_AS_INDENT: 'a tab used for indentation (YAML indents with spaces)',
  TAG_RESOLVE_FAILED: 'a value does not fit its tag',
  UNEXPECTED_TOKEN: 'unexpected text here (a block scalar header such as | or > takes nothing after it but a comment)',
  BAD_COLLECTION_TYPE: 'a collection tag that does not fit the collection',
};

/** Parses YAML text; syntax errors and documents past the budget throw a ValidationError naming every bad spot. */
export function readYaml(text: string, file: string, options: { failsafe?: boolean } = {}): YamlDocument {
  const lines = new LineCounter();
  return checked(parseDocument(text, { lineCounter: lines, ...parseOptions(options) }), lines, file);
}

/**
 * A stream of YAML documents separated by `---` (rendered Kubernetes manifests): each read and
 * budgeted as readYaml reads one; empty documents are dropped.
 */
export function readYamlStream(
  text: string,
  file: string,
  options: { failsafe?: boolean; duplicateKeys?: 'refuse' | 'last-wins' } = {},
): YamlDocument[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, {
    lineCounter: lines,
    ...parseOptions(options),
    // another tool's output (helm template) may repeat a key, which the Kubernetes API takes (the last wins)
    ...(options.duplicateKeys === 'last-wins' ? { uniqueKeys: false } : {}),
  });
  // parseAllDocuments gives an EmptyStream (an empty list with extras) for text with no documents
  const list = Array.isArray(docs) ? docs : [];
  return list.map((d) => checked(d, lines, file)).filter((d) => d.value !== null && d.value !== undefined);
}

// failsafe: every scalar a string (for documents of other tools, e.g. a Helm repository index)
const parseOptions = (options: { failsafe?: boolean }) => ({
  prettyErrors: false,
  uniqueKeys: true,
  ...(options.failsafe ? { schema: 'failsafe' as const } : {}),
});

function checked(doc: Document, lines: LineCounter, file: string): YamlDocument {
  const problem = (offset: number, message: string, hint: string): Problem => ({
    file,
    ...lines.linePos(offset),
    path: '',
    message,
    hint,
    severity: 'error' as const,
  });
  if (doc.errors.length > 0)
    throw new ValidationError(
      doc.errors.map((e) =>
        e.code === 'RESOURCE_EXHAUSTION'
          ? problem(e.pos[0], `YAML: ${SYNTAX_MESSAGES[e.code]}`, FLATTEN)
          : problem(
              e.pos[0],
              `YAML syntax: ${SYNTAX_MESSAGES[e.code] ?? 'unreadable YAML'}`,
              'check indentation and quoting near that line',
            ),
      ),
    );
  const over = overBudget(doc);
  if (over) throw new ValidationError([problem(over.offset, over.message, over.hint)]);
  return {
    // the budget was checked above: the expansion is bounded, so the library's own alias count is not needed
    value: doc.toJS({ maxAliasCount: -1 }),
    locate(p) {
      // a problem of another file, or one its reader already placed (a MIME part's line), stays put
      if (p.file !== file || p.line !== undefined) return p;
      const node = nodeAt(doc.contents, p.path);
      return node?.range ? { ...p, ...lines.linePos(node.range[0]) } : p;
    },
  };
}

interface Overrun {
  offset: number;
  message: string;
  hint: string;
}

const FLATTEN = 'flatten the document: no kiln document needs that depth';

/**
 * Counts the values the aliases add when toJS expands them, in document order: each alias as the
 * size of its anchored node (known by then: an anchor precedes its aliases), so the count costs one
 * walk however far the aliases multiply. Stops at the first alias that names
 * no anchor, names a value it sits inside, or takes the count past the budget, and at the first
 * node nested past the depth budget.
 */
function overBudget(doc: Document): Overrun | undefined {
  const sizes = new Map<YamlNode, number>();
  let total = 0;
  const stop = (found: Overrun): never => {
    throw Object.assign(new Error(found.message), { overrun: found });
  };
  const count = (n: number, offset: number) => {
    total += n;
    if (total > YAML_BUDGET.aliasedValues)
      stop({
        offset,
        message: `YAML: the aliases expand to more than ${YAML_BUDGET.aliasedValues} values`,
        hint: 'aliases are fine for shared values, not for a document that multiplies (a "billion laughs"): write a smaller one',
      });
  };
  const sizeOf = (node: unknown, depth: number): number => {
    if (!node || typeof node !== 'object') return 0;
    const offset = (node as YamlNode).range?.[0] ?? 0;
    if (depth > YAML_BUDGET.depth) stop({ offset, message: `YAML: nested deeper than ${YAML_BUDGET.depth} levels`, hint: FLATTEN });
    if (isAlias(node)) {
      const source = node.resolve(doc);
      if (!source)
        stop({
          offset,
          message: 'YAML: an alias (*name) refers to no anchor (&name) before it',
          hint: 'define the anchor before its first use, or write the value out',
        });
      const size = sizes.get(source!);
      if (size === undefined)
        stop({
          offset,
          message: 'YAML: an alias (*name) refers to the value it sits inside (a recursive alias)',
          hint: 'a value cannot contain itself: write the shared part out',
        });
      count(size!, offset);
      return size!;
    }
    let size = 1;
    if (isMap(node) || isSeq(node))
      for (const item of node.items as unknown[])
        size += isPair(item) ? sizeOf(item.key, depth + 1) + sizeOf(item.value, depth + 1) : sizeOf(item, depth + 1);
    if ((node as { anchor?: string }).anchor) sizes.set(node as YamlNode, size);
    return size;
  };
  try {
    sizeOf(doc.contents, 0);
  } catch (error) {
    const overrun = (error as { overrun?: Overrun }).overrun;
    if (overrun) return overrun;
    throw error;
  }
  return undefined;
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
