// The shell's commands of verbs, on a small fake program: each verb parses only its own flags, has
// its own --help, and the command lists its verbs; plain commands behave as they always did.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runProgram, type Command, type Program } from '../../../core/cli.ts';

/** What each run was called with, by verb. */
let calls: Array<{ verb: string; positionals: string[]; values: Record<string, unknown> }>;
const record =
  (verb: string, code = 0) =>
  async (positionals: string[], values: Record<string, unknown>) => {
    calls.push({ verb, positionals, values });
    return code;
  };

const VERBS: Command[] = [
  {
    name: 'make',
    usage: 'fake box make FILE --out DIR [--again]',
    summary: 'make a box',
    options: { out: { type: 'string', short: 'o' }, again: { type: 'boolean' } },
    run: record('make'),
  },
  {
    name: 'drop',
    usage: 'fake box drop DIR [--force] [--timeout S]',
    summary: 'drop a box',
    options: { force: { type: 'boolean' }, timeout: { type: 'string' } },
    run: async () => {
      // what the shell asks of KilnError and its kin: describe() and exitCode
      throw Object.assign(new Error('the box is stuck'), {
        describe: () => 'the box is stuck\n    hint: fake box drop DIR --force',
        exitCode: 2,
      });
    },
  },
  {
    name: 'lid',
    usage: 'fake box lid open|shut',
    summary: 'the lid of a box',
    verbs: [
      {
        name: 'open',
        usage: 'fake box lid open [--wide]',
        summary: 'open the lid',
        options: { wide: { type: 'boolean' } },
        run: record('lid open'),
      },
      { name: 'shut', usage: 'fake box lid shut', summary: 'shut the lid', options: {}, run: record('lid shut', 3) },
    ],
  },
];

const PROGRAM: Program = {
  name: 'fake',
  version: '1.2.3',
  tagline: 'a fake program',
  commands: [
    { name: 'box', usage: 'fake box make|drop|lid …', summary: 'boxes', verbs: VERBS },
    {
      name: 'plain',
      usage: 'fake plain [--json]',
      summary: 'a plain command',
      options: { json: { type: 'boolean' } },
      run: record('plain'),
    },
    {
      name: 'crash',
      usage: 'fake crash',
      summary: 'throws an error without describe()',
      options: {},
      run: async () => {
        throw new Error('boom');
      },
    },
  ],
  exitCodes: '0 ok, 2 usage.',
};

let stdout: string;
let stderr: string;
beforeEach(() => {
  calls = [];
  stdout = '';
  stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
});
afterEach(() => vi.restoreAllMocks());

const run = (...argv: string[]) => runProgram(PROGRAM, argv);

describe('a command of verbs', () => {
  it('runs the verb with its positionals and only its own flags', async () => {
    expect(await run('box', 'make', 'a.yaml', '--out', 'd', '--again')).toBe(0);
    expect(calls).toEqual([{ verb: 'make', positionals: ['a.yaml'], values: { out: 'd', again: true } }]);
    expect(stdout + stderr).toBe('');
  });

  it("finds the verb after flags, read as the verbs declare them (a flag's value is no verb)", async () => {
    expect(await run('box', '-o', 'd', 'make', 'a.yaml')).toBe(0);
    expect(await run('box', '--out', 'make', 'make', 'a.yaml')).toBe(0);
    expect(calls.map((c) => [c.verb, c.positionals, c.values])).toEqual([
      ['make', ['a.yaml'], { out: 'd' }],
      ['make', ['a.yaml'], { out: 'make' }],
    ]);
  });

  it('after --, the words are positionals of the verb', async () => {
    expect(await run('box', 'make', '--', '--again')).toBe(0);
    expect(calls).toEqual([{ verb: 'make', positionals: ['--again'], values: {} }]);
  });

  it("rejects another verb's flag with exit 2, naming the flag and the verb's usage", async () => {
    expect(await run('box', 'make', 'a.yaml', '--out', 'd', '--force')).toBe(2);
    expect(calls).toEqual([]);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^fake box make: Unknown option '--force'/);
    expect(stderr).toContain('\nusage: fake box make FILE --out DIR [--again]\n');
  });

  it('rejects a flag no verb declares, before or after the verb', async () => {
    for (const argv of [
      ['box', 'drop', 'd', '--bogus'],
      ['box', '--bogus', 'drop', 'd'],
    ]) {
      stderr = '';
      expect(await run(...argv), argv.join(' ')).toBe(2);
      expect(stderr).toMatch(/^fake box drop: Unknown option '--bogus'.*\nusage: fake box drop DIR \[--force\] \[--timeout S\]\n$/s);
    }
    expect(calls).toEqual([]);
  });

  it("a verb's flag errors other than unknown ones also show the verb's usage", async () => {
    expect(await run('box', 'make', 'a.yaml', '--out')).toBe(2);
    expect(stderr).toMatch(/^fake box make: Option '-o, --out <value>' argument missing\nusage: fake box make FILE/);
  });

  it.each([['--help'], ['-h']])('VERB %s prints the verb summary and usage, exit 0, and runs nothing', async (flag) => {
    expect(await run('box', 'make', flag)).toBe(0);
    expect(stdout).toBe('make a box\nusage: fake box make FILE --out DIR [--again]\n');
    expect(stderr).toBe('');
    expect(calls).toEqual([]);
  });

  it('-h before the verb is the verb’s', async () => {
    expect(await run('box', '-h', 'drop')).toBe(0);
    expect(stdout).toBe('drop a box\nusage: fake box drop DIR [--force] [--timeout S]\n');
  });

  it.each([['--help'], ['-h']])('%s without a verb lists the verbs with their summaries and usages, exit 0', async (flag) => {
    expect(await run('box', flag)).toBe(0);
    expect(stdout).toBe(
      [
        'boxes',
        '',
        'Commands:',
        '  make  make a box',
        '  drop  drop a box',
        '  lid   the lid of a box',
        '',
        'Usage:',
        '  fake box make FILE --out DIR [--again]',
        '  fake box drop DIR [--force] [--timeout S]',
        '  fake box lid open|shut',
        '',
      ].join('\n'),
    );
    expect(stderr).toBe('');
  });

  it('no verb, or only flags, exits 2 listing the verbs', async () => {
    for (const argv of [['box'], ['box', '--out', 'd']]) {
      stderr = '';
      expect(await run(...argv), argv.join(' ')).toBe(2);
      expect(stderr).toBe('fake box: no box command given\n    hint: one of make, drop, lid: fake box make|drop|lid …\n');
    }
    expect(stdout).toBe('');
  });

  it('an unknown verb exits 2 naming it and listing the verbs, even with --help', async () => {
    for (const argv of [
      ['box', 'launch', 'x'],
      ['box', 'launch', '--help'],
    ]) {
      stderr = '';
      expect(await run(...argv), argv.join(' ')).toBe(2);
      expect(stderr).toBe('fake box: unknown box command "launch"\n    hint: one of make, drop, lid: fake box make|drop|lid …\n');
    }
    expect(stdout).toBe('');
    expect(calls).toEqual([]);
  });

  it("errors a verb throws keep the command's prefix, the error's message and exit code", async () => {
    expect(await run('box', 'drop', 'd', '--force')).toBe(2);
    expect(stderr).toBe('fake box: the box is stuck\n    hint: fake box drop DIR --force\n');
  });

  it('verbs nest: each level has its own verbs, flags, help and exit codes', async () => {
    expect(await run('box', 'lid', 'open', '--wide')).toBe(0);
    expect(await run('box', 'lid', 'shut')).toBe(3);
    expect(calls.map((c) => [c.verb, c.values])).toEqual([
      ['lid open', { wide: true }],
      ['lid shut', {}],
    ]);
    expect(await run('box', 'lid', 'shut', '--wide')).toBe(2);
    expect(stderr).toMatch(/^fake box lid shut: Unknown option '--wide'.*\nusage: fake box lid shut\n$/s);
    stderr = '';
    expect(await run('box', 'lid')).toBe(2);
    expect(stderr).toBe('fake box lid: no lid command given\n    hint: one of open, shut: fake box lid open|shut\n');
    expect(await run('box', 'lid', '--help')).toBe(0);
    expect(stdout).toMatch(/^the lid of a box\n\nCommands:\n {2}open {2}open the lid\n {2}shut {2}shut the lid\n/);
  });
});

describe('the program and its plain commands, as before', () => {
  it('the program help lists every command and its usage line', async () => {
    expect(await run('--help')).toBe(0);
    expect(stdout).toBe(
      [
        'fake 1.2.3 — a fake program',
        '',
        'Commands:',
        '  box    boxes',
        '  plain  a plain command',
        '  crash  throws an error without describe()',
        '',
        'Usage:',
        '  fake box make|drop|lid …',
        '  fake plain [--json]',
        '  fake crash',
        '',
        'Exit codes: 0 ok, 2 usage.',
        '',
      ].join('\n'),
    );
  });

  it('no command prints the help and exits 2; an unknown one exits 2 on stderr', async () => {
    expect(await run()).toBe(2);
    expect(stdout).toMatch(/^fake 1\.2\.3/);
    expect(await run('launch')).toBe(2);
    expect(stderr).toMatch(/^fake: unknown command "launch"\n\nfake 1\.2\.3/);
  });

  it('--version', async () => {
    expect(await run('--version')).toBe(0);
    expect(stdout).toBe('fake 1.2.3\n');
  });

  it('a plain command parses its flags strictly and has its --help', async () => {
    expect(await run('plain', 'x', '--json')).toBe(0);
    expect(calls).toEqual([{ verb: 'plain', positionals: ['x'], values: { json: true } }]);
    expect(await run('plain', '--out', 'd')).toBe(2);
    expect(stderr).toMatch(/^fake plain: Unknown option '--out'.*\nusage: fake plain \[--json\]\n$/s);
    expect(await run('plain', '-h')).toBe(0);
    expect(stdout).toBe('a plain command\nusage: fake plain [--json]\n');
  });

  it('an error without describe() is an internal error, exit 1', async () => {
    expect(await run('crash')).toBe(1);
    expect(stderr).toMatch(/^fake crash: internal error: Error: boom\n/);
  });
});
