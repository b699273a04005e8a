#!/usr/bin/env node
// kiln: bakes bootable Kubernetes node images from a declarative image spec.
import { parseArgs } from 'node:util';
import { KilnError } from './errors.ts';
import { KILN_VERSION } from './version.ts';
import { buildCommand } from './commands/build.ts';
import { validateCommand } from './commands/validate.ts';
import { schemaCommand } from './commands/schema.ts';
import { doctorCommand } from './commands/doctor.ts';
import { dataDiskCommand } from './commands/data-disk.ts';

interface Command {
  name: string;
  usage: string;
  summary: string;
  options: NonNullable<Parameters<typeof parseArgs>[0]>['options'];
  run: (positionals: string[], values: Record<string, unknown>) => Promise<number>;
}

const COMMANDS: Command[] = [
  {
    name: 'build',
    usage: 'kiln build SPEC --out DIR [--no-cache] [--cache-dir DIR] [--json]',
    summary: 'build the image described by SPEC into DIR (rootfs.tar, outputs, manifest.json)',
    options: { out: { type: 'string', short: 'o' }, 'no-cache': { type: 'boolean' }, 'cache-dir': { type: 'string' }, json: { type: 'boolean' } },
    run: (pos, v) => buildCommand(pos, v),
  },
  {
    name: 'validate',
    usage: 'kiln validate SPEC... [--json]',
    summary: 'check image specs without building anything',
    options: { json: { type: 'boolean' } },
    run: (pos, v) => validateCommand(pos, v),
  },
  {
    name: 'schema',
    usage: 'kiln schema image|node',
    summary: 'print the JSON Schema of a kiln document (for editors)',
    options: {},
    run: (pos) => schemaCommand(pos),
  },
  {
    name: 'data-disk',
    usage: 'kiln data-disk FILE [--size 20G]',
    summary: 'create the persistent /var disk for live (ISO/PXE) nodes',
    options: { size: { type: 'string' } },
    run: (pos, v) => dataDiskCommand(pos, v),
  },
  {
    name: 'doctor',
    usage: 'kiln doctor [--json]',
    summary: 'list the host tools kiln uses, what each is for, and which are missing',
    options: { json: { type: 'boolean' } },
    run: (_pos, v) => doctorCommand(v),
  },
];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `kiln ${KILN_VERSION} — bootable Kubernetes node images`,
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Usage:',
    ...COMMANDS.map((c) => `  ${c.usage}`),
    '',
    'Exit codes: 0 ok, 1 build or tool failure, 2 invalid input.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${help()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === 'version') {
    process.stdout.write(`kiln ${KILN_VERSION}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`kiln: unknown command "${name}"\n\n${help()}\n`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    process.stderr.write(`kiln ${name}: ${(error as Error).message}\nusage: ${command.usage}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(`${command.summary}\nusage: ${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(parsed.positionals, parsed.values);
  } catch (error) {
    if (error instanceof KilnError) {
      process.stderr.write(`kiln ${name}: ${error.describe()}\n`);
      return error.exitCode;
    }
    process.stderr.write(`kiln ${name}: internal error: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

let settled = false;
// If the event loop drains while a command is still pending (a stream that never finishes),
// node would exit 0 silently; make that a loud failure instead.
process.on('exit', () => {
  if (!settled) {
    process.stderr.write('kiln: internal error: the command stalled before finishing\n');
    process.exitCode = 1;
  }
});

main(process.argv.slice(2)).then(
  (code) => {
    settled = true;
    process.exitCode = code;
  },
  (error: unknown) => {
    settled = true;
    process.stderr.write(`kiln: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
