// The command-line shell both executables share (kiln, kiln-firstboot): a table of commands,
// strict flag parsing, help, and typed errors turned into messages and exit codes.
import { parseArgs } from 'node:util';

export interface Command {
  name: string;
  usage: string;
  summary: string;
  options: NonNullable<Parameters<typeof parseArgs>[0]>['options'];
  run: (positionals: string[], values: Record<string, unknown>) => Promise<number>;
}

export interface Program {
  /** The executable's name, e.g. `kiln`. */
  name: string;
  version: string;
  tagline: string;
  commands: Command[];
  exitCodes: string;
}

function help(p: Program): string {
  const width = Math.max(...p.commands.map((c) => c.name.length));
  return [
    `${p.name} ${p.version} — ${p.tagline}`,
    '',
    'Commands:',
    ...p.commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Usage:',
    ...p.commands.map((c) => `  ${c.usage}`),
    '',
    `Exit codes: ${p.exitCodes}`,
  ].join('\n');
}

export async function runProgram(p: Program, argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === 'version') {
    process.stdout.write(`${p.name} ${p.version}\n`);
    return 0;
  }
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${help(p)}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = p.commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`${p.name}: unknown command "${name}"\n\n${help(p)}\n`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    process.stderr.write(`${p.name} ${name}: ${(error as Error).message}\nusage: ${command.usage}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(`${command.summary}\nusage: ${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(parsed.positionals, parsed.values);
  } catch (error) {
    // KilnError and its kin: describe() names the file, the path and a hint
    const e = error as { describe?: () => string; exitCode?: number; stack?: string };
    if (typeof e.describe === 'function') {
      process.stderr.write(`${p.name} ${name}: ${e.describe()}\n`);
      return e.exitCode ?? 1;
    }
    process.stderr.write(`${p.name} ${name}: internal error: ${e.stack ?? String(error)}\n`);
    return 1;
  }
}

/** Runs the program as the process: its result becomes the exit code; a stalled command is an error. */
export function main(p: Program): void {
  let settled = false;
  // If the event loop drains while a command is still pending (a stream that never finishes),
  // node would exit 0 silently; make that a loud failure instead.
  process.on('exit', () => {
    if (!settled) {
      process.stderr.write(`${p.name}: internal error: the command stalled before finishing\n`);
      process.exitCode = 1;
    }
  });
  runProgram(p, process.argv.slice(2)).then(
    (code) => {
      settled = true;
      process.exitCode = code;
    },
    (error: unknown) => {
      settled = true;
      process.stderr.write(`${p.name}: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
