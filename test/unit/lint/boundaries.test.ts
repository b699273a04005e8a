// The layer boundaries of docs/architecture.md as eslint.config.js enforces them (no-restricted-imports):
// core ← node ← {builder, firstboot}; builder and firstboot never import each other; shipped code never
// imports test code. Checked through ESLint's own API: made-up files in each tree, then every shipped file.
import path from 'node:path';
import { ESLint, type Linter } from 'eslint';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../helpers/build.ts';

const RULE = 'no-restricted-imports';
const eslint = new ESLint({ cwd: repoRoot });

/** `import { valueN } from 'SOURCE';`, one line per source, then a use of them all. */
const importing = (sources: string[]) =>
  [
    ...sources.map((s, i) => `import { value${i} } from '${s}';`),
    `export const used = [${sources.map((_, i) => `value${i}`).join(', ')}];`,
    '',
  ].join('\n');

/** The layer rule's messages for `code` at `file` (a path in the repository, which need not exist). */
async function boundaryMessages(file: string, code: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(repoRoot, file) });
  // no parse error and no "file ignored" warning: the file was really linted
  expect(result!.messages.filter((m) => m.ruleId === null)).toEqual([]);
  return result!.messages.filter((m) => m.ruleId === RULE);
}

/** The line and severity of each of the layer rule's messages. */
const where = (messages: Linter.LintMessage[]) => messages.map((m) => ({ line: m.line, severity: m.severity }));

describe('the layer rule refuses imports across the boundaries', () => {
  it.each([
    ['firstboot/x.ts', '../builder/pipeline.ts'],
    ['firstboot/role/x.ts', '../../builder/spec/schema.ts'],
    ['builder/x.ts', '../firstboot/run.ts'],
    ['builder/cluster/x.ts', '../../firstboot/run.ts'],
    ['node/x.ts', '../builder/cli.ts'],
    ['node/formats/x.ts', '../../firstboot/run.ts'],
    ['core/x.ts', '../node/layout.ts'],
    ['core/x.ts', '../builder/pipeline.ts'],
    ['core/x.ts', '../firstboot/run.ts'],
  ])('%s importing %s', async (file, source) => {
    const messages = await boundaryMessages(file, importing([source]));
    expect(where(messages)).toEqual([{ line: 1, severity: 2 }]);
    expect(messages[0]!.message).toContain(`'${source}'`);
    expect(messages[0]!.message).toContain('(docs/architecture.md)');
  });

  it('node/ importing firstboot/ and builder/: both imports are errors', async () => {
    const messages = await boundaryMessages('node/x.ts', importing(['../firstboot/run.ts', '../builder/cli.ts']));
    expect(where(messages)).toEqual([
      { line: 1, severity: 2 },
      { line: 2, severity: 2 },
    ]);
    expect(messages[0]!.message).toContain('node/ is the contract both programs share');
  });

  it.each([
    ['core/x.ts', '../test/helpers/build.ts'],
    ['node/x.ts', '../test/helpers/build.ts'],
    ['builder/x.ts', '../test/helpers/build.ts'],
    ['builder/cluster/x.ts', '../../test/helpers/build.ts'],
    ['firstboot/x.ts', '../test/helpers/build.ts'],
  ])('shipped code never imports test code: %s importing %s', async (file, source) => {
    expect(where(await boundaryMessages(file, importing([source])))).toEqual([{ line: 1, severity: 2 }]);
  });

  it('a type-only import crosses the boundary too', async () => {
    const code = "import type { RunOptions } from '../firstboot/run.ts';\nexport type Options = RunOptions;\n";
    expect(where(await boundaryMessages('builder/x.ts', code))).toEqual([{ line: 1, severity: 2 }]);
  });
});

describe('the layer rule allows what the architecture allows', () => {
  it.each([
    ['firstboot/x.ts', ['../node/layout.ts', '../core/errors.ts']],
    ['firstboot/role/x.ts', ['../run.ts', '../../node/layout.ts', '../../core/errors.ts']],
    ['builder/x.ts', ['../node/layout.ts']],
    ['builder/cluster/x.ts', ['./generate.ts', '../pipeline.ts', '../../node/layout.ts', '../../core/errors.ts']],
    ['node/x.ts', ['../core/errors.ts', './layout.ts']],
    ['core/x.ts', ['./errors.ts', 'node:path', 'yaml', '@sinclair/typebox']],
    // tests may import every layer
    ['test/unit/x.test.ts', ['../../builder/pipeline.ts', '../../firstboot/run.ts', '../../node/layout.ts', '../helpers/build.ts']],
  ])('%s importing %j', async (file, sources) => {
    expect(await boundaryMessages(file, importing(sources))).toEqual([]);
  });
});

describe('the repository keeps to its layers', () => {
  it('no shipped file (core, node, builder, firstboot) breaks the layer rule', { timeout: 60_000 }, async () => {
    const results = await new ESLint({ cwd: repoRoot }).lintFiles(['core', 'node', 'builder', 'firstboot']);
    const trees = new Set(results.map((r) => path.relative(repoRoot, r.filePath).split(path.sep)[0]));
    expect([...trees].sort()).toEqual(['builder', 'core', 'firstboot', 'node']);
    const violations = results.flatMap((r) =>
      r.messages.filter((m) => m.ruleId === RULE).map((m) => `${path.relative(repoRoot, r.filePath)}:${m.line}: ${m.message}`),
    );
    expect(violations).toEqual([]);
  });
});
