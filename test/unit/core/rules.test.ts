// The one rule runner and the one problem model: every finding reported, located, and a rule that
// breaks on a well-formed document reported rather than dropped.
import { describe, expect, it } from 'vitest';
import { parseDocumentText, type DocumentKind } from '../../../core/document.ts';
import { ValidationError } from '../../../core/errors.ts';
import { byPosition, formatProblem, Report, where, type Problem } from '../../../core/problem.ts';
import { runRules, type Rule } from '../../../core/rules.ts';
import { Type } from '@sinclair/typebox';

interface Doc {
  a?: number;
  b?: { c?: string };
}

const rules: Array<Rule<Doc>> = [
  {
    name: 'a is small',
    check: (d) => (d.a !== undefined && d.a > 10 ? { path: '/a', message: 'too big', hint: 'use 10 or less' } : undefined),
  },
  {
    name: 'b.c is lower case',
    check: (d) => (d.b!.c!.toLowerCase() === d.b!.c ? [] : [{ path: '/b/c', message: 'upper case', hint: 'lower it' }]),
  },
];

describe('runRules', () => {
  it('reports every finding with the file, the base path and severity error', () => {
    expect(runRules(rules, { a: 11, b: { c: 'X' } }, 'f.yaml', { malformed: false, base: '/kiln' })).toEqual([
      { file: 'f.yaml', path: '/kiln/a', message: 'too big', hint: 'use 10 or less', severity: 'error' },
      { file: 'f.yaml', path: '/kiln/b/c', message: 'upper case', hint: 'lower it', severity: 'error' },
    ]);
  });

  it('reports a rule that throws on a well-formed document as an internal problem naming the rule', () => {
    const [p, ...rest] = runRules(rules, { a: 1 }, 'f.yaml', { malformed: false });
    expect(rest).toEqual([]);
    expect(p).toMatchObject({ file: 'f.yaml', path: '', severity: 'error' });
    expect(p!.message).toMatch(/^internal error: the check "b\.c is lower case" failed \(/);
    expect(p!.hint).toMatch(/bug in kiln/);
  });

  it('leaves a throwing rule out when the schema already said the document is malformed', () => {
    expect(runRules(rules, { a: 1 }, 'f.yaml', { malformed: true })).toEqual([]);
  });
});

describe('parseDocumentText', () => {
  const kind: DocumentKind<Doc> = {
    what: 'test document',
    example: 'x.yaml',
    schema: Type.Object({ a: Type.Optional(Type.Number()), b: Type.Optional(Type.Object({ c: Type.Optional(Type.String()) })) }),
    rules,
  };
  const problemsOf = (text: string): Problem[] => {
    try {
      parseDocumentText(text, 'x.yaml', kind);
      return [];
    } catch (error) {
      if (error instanceof ValidationError) return error.problems;
      throw error;
    }
  };

  it('locates rule findings at line and column, sorted by position', () => {
    const problems = problemsOf('b:\n  c: UP\na: 12\n');
    expect(problems.map((p) => [p.path, p.line, p.col])).toEqual([
      ['/b/c', 2, 6],
      ['/a', 3, 4],
    ]);
    expect(problems.map(where)).toEqual(['x.yaml:2:6', 'x.yaml:3:4']);
  });

  it('reports a YAML syntax error with its position', () => {
    const [p] = problemsOf('a: [1, 2\n');
    expect(p).toMatchObject({ file: 'x.yaml', path: '', severity: 'error', line: expect.any(Number), col: expect.any(Number) });
  });
});

describe('the problem model', () => {
  it('formats a located problem as file:line:col: path: message with its hint', () => {
    const p: Problem = { file: 'f.yaml', line: 3, col: 7, path: '/a', message: 'bad', hint: 'fix it', severity: 'error' };
    expect(formatProblem(p)).toBe('f.yaml:3:7: /a: bad\n    hint: fix it');
    expect(formatProblem({ ...p, line: undefined, col: undefined, path: '' })).toBe('f.yaml: bad\n    hint: fix it');
  });

  it('orders unlocated problems first, then by line and column', () => {
    const at = (line?: number, col?: number): Problem => ({ file: 'f', path: '', message: '', severity: 'error', line, col });
    expect([at(3, 1), at(1, 9), at(), at(1, 2)].sort(byPosition).map((p) => where(p))).toEqual(['f', 'f:1:2', 'f:1:9', 'f:3:1']);
  });

  it('Report keeps errors and warnings apart, each with its severity', () => {
    const r = new Report('user-data (part 1)', 'user-data');
    r.error('/x', 'broken', 'mend');
    r.warn('/y', 'ignored');
    expect(r.problems).toEqual([{ file: 'user-data (part 1)', path: '/x', message: 'broken', hint: 'mend', severity: 'error' }]);
    expect(r.warnings).toEqual([{ file: 'user-data (part 1)', path: '/y', message: 'ignored', severity: 'warning' }]);
    expect(r.origin).toBe('user-data');
    expect(r.check(Type.Object({ n: Type.Number() }), { n: 'x' }, '/cfg')).toBe(false);
    expect(r.problems.at(-1)).toMatchObject({ path: '/cfg/n', severity: 'error' });
  });
});
