// The YAML reader's budget and wording: aliases accepted for shared values, refused past the
// expansion budget, undefined and recursive aliases and deep nesting located, syntax errors
// worded without the document's text.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../core/errors.ts';
import { readYaml, YAML_BUDGET } from '../../../core/yaml.ts';

function problemOf(text: string) {
  try {
    readYaml(text, 'doc.yaml');
  } catch (error) {
    if (error instanceof ValidationError) return error.problems[0]!;
    throw error;
  }
  throw new Error('accepted');
}

/** A "billion laughs": `levels` anchors, each a list of ten aliases of the one before. */
const laughs = (levels: number) =>
  [
    'l0: &l0 [x, x, x, x, x, x, x, x, x, x]',
    ...Array.from({ length: levels }, (_, i) => `l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(', ')}]`),
  ].join('\n');

describe('readYaml aliases', () => {
  it('accepts hundreds of references to a shared value (past the yaml library default of 100)', () => {
    const text = `shared: &s {image: registry.example/app:1, pull: always}\nuses: [${Array(500).fill('*s').join(', ')}]\n`;
    const value = readYaml(text, 'doc.yaml').value as { uses: unknown[] };
    expect(value.uses).toHaveLength(500);
    expect(value.uses[499]).toEqual({ image: 'registry.example/app:1', pull: 'always' });
  });

  it('accepts a document that expands to just under the budget, refuses one just past it, quickly', () => {
    expect(() => readYaml(laughs(3), 'doc.yaml')).not.toThrow(); // ~11 000 values
    const t0 = Date.now();
    const p = problemOf(laughs(9)); // 10^10 values if expanded
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(p).toMatchObject({
      file: 'doc.yaml',
      line: 5,
      message: `YAML: the aliases expand to more than ${YAML_BUDGET.aliasedValues} values`,
    });
    expect(p.hint).toMatch(/billion laughs/);
  });

  it('locates an undefined alias and a recursive one', () => {
    expect(problemOf('a: 1\nb: *nope\n')).toMatchObject({ line: 2, col: 4, message: expect.stringMatching(/refers to no anchor/) });
    expect(problemOf('a: &x\n  - 1\n  - *x\n')).toMatchObject({ line: 3, message: expect.stringMatching(/recursive alias/) });
  });
});

describe('readYaml nesting', () => {
  it('accepts the budget, refuses one level more, and survives thousands', () => {
    const nest = (n: number) => `a: ${'['.repeat(n)}${']'.repeat(n)}\n`;
    expect(() => readYaml(nest(YAML_BUDGET.depth - 1), 'doc.yaml')).not.toThrow();
    expect(problemOf(nest(YAML_BUDGET.depth + 1)).message).toBe(`YAML: nested deeper than ${YAML_BUDGET.depth} levels`);
    expect(problemOf(nest(20_000)).message).toMatch(/^YAML: nested/);
  });
});

describe('readYaml syntax errors', () => {
  it.each([
    ['a block scalar header with text after it', 'authPass: |Kp9zQ2w\n', 'Kp9zQ2w', 1],
    ['an alias named like a token', 'token: *k1lnvm.4f2a9c7e1b3d5f60\n', '4f2a9c7e1b3d5f60', 1],
    ['a bad double-quoted escape', 'pass: "pa\\qss-Zx81"\n', 'Zx81', 1],
    ['an unclosed flow mapping', 'creds: {user: ops, pass: Zx81-secret\n', 'Zx81', 2],
  ])('%s: located, hinted, the text not repeated', (_what, text, secret, line) => {
    const p = problemOf(text);
    expect(p.line).toBe(line);
    expect(p.hint).toBeTruthy();
    expect(JSON.stringify(p)).not.toContain(secret);
  });
});
