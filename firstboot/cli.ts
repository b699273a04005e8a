#!/usr/bin/env node
// kiln-firstboot: turns a booted kiln image into the node its metadata describes.
// Commands load lazily so `--version` (and the early boot pass) start as fast as node itself.
import { parseArgs } from 'node:util';
import { KILN_VERSION } from '../builder/version.ts';

interface Command {
  name: string;
  usage: string;
  summary: string;
  options: NonNullable<Parameters<typeof parseArgs>[0]>['options'];
  run: (positionals: string[], values: Record<string, unknown>) => Promise<number>;
}

const COMMANDS: Command[] = [
  {
    name: 'run',
    usage: 'kiln-firstboot run [--pass early|late]',
    summary: 'provision this node from its metadata (what the kiln-firstboot units run)',
    options: { pass: { type: 'string', default: 'early' } },
    run: async (_pos, v) => (await import('./commands/run.ts')).runCommand(v),
  },
  {
    name: 'validate',
    usage: 'kiln-firstboot validate PATH [--json] [--offline]',
    summary: 'check a cloud-config file, an Ignition config or a NoCloud seed directory without applying it',
    options: { json: { type: 'boolean' }, offline: { type: 'boolean' } },
    run: async (pos, v) => (await import('./commands/validate.ts')).validateCommand(pos, v),
  },
  {
    name: 'plan',
    usage: 'kiln-firstboot plan --config NODE.yaml [--render DIR] [--root DIR] [--json]',
    summary: 'print the role plan for a node config; --render writes every file it would write under DIR',
    options: { config: { type: 'string' }, render: { type: 'string' }, root: { type: 'string' }, json: { type: 'boolean' } },
    run: async (_pos, v) => (await import('./commands/plan.ts')).planCommand(v),
  },
  {
    name: 'status',
    usage: 'kiln-firstboot status [--json]',
    summary: 'show what the firstboot passes did on this node',
    options: { json: { type: 'boolean' } },
    run: async (_pos, v) => (await import('./commands/status.ts')).statusCommand(v),
  },
];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `kiln-firstboot ${KILN_VERSION} — provisions a kiln node from NoCloud or Ignition metadata`,
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Usage:',
    ...COMMANDS.map((c) => `  ${c.usage}`),
    '',
    'Exit codes: 0 ok, 1 failure, 2 invalid metadata or usage, 3 no metadata source.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === 'version') {
    process.stdout.write(`kiln-firstboot ${KILN_VERSION}\n`);
    return 0;
  }
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${help()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`kiln-firstboot: unknown command "${name}"\n\n${help()}\n`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    process.stderr.write(`kiln-firstboot ${name}: ${(error as Error).message}\nusage: ${command.usage}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(`${command.summary}\nusage: ${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(parsed.positionals, parsed.values);
  } catch (error) {
    const e = error as { describe?: () => string; exitCode?: number; stack?: string };
    if (typeof e.describe === 'function') {
      process.stderr.write(`kiln-firstboot ${name}: ${e.describe()}\n`);
      return e.exitCode ?? 1;
    }
    process.stderr.write(`kiln-firstboot ${name}: internal error: ${e.stack ?? String(error)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`kiln-firstboot: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
