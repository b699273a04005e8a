// The command-line shell both executables share (kiln, kiln-firstboot): a table of commands,
// strict flag parsing, help, and typed errors turned into messages and exit codes.
import { parseArgs } from 'node:util';
import { writeOut, writeErr } from './output.ts';

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

interface CommandInfo {
  /** The word that selects it: a command of the program, or a verb of its parent command. */
  name: string;
  /** One line, from the executable's name on: `kiln cluster up DIR --image DISK …`. */
  usage: string;
  summary: string;
}

/** A command that runs: its own flags, parsed strictly (-h/--help is added), and what it does. */
export interface LeafCommand extends CommandInfo {
  options: Options;
  run: (positionals: string[], values: Record<string, unknown>) => Promise<number>;
  verbs?: never;
}

/**
 * A command of verbs (`kiln cluster gen|up|…`): the first positional names the verb, and the
 * other arguments are the verb's own, parsed against the verb's flags only. A verb is a Command
 * itself, so verbs nest.
 */
export interface VerbCommand extends CommandInfo {
  verbs: Command[];
  options?: never;
  run?: never;
}

export type Command = LeafCommand | VerbCommand;

export interface Program {
  /** The executable's name, e.g. `kiln`. */
  name: string;
  version: string;
  tagline: string;
  commands: Command[];
  exitCodes: string;
}

/** `name  summary` rows, the names padded to one width. */
function table(commands: Command[]): string[] {
  const width = Math.max(...commands.map((c) => c.name.length));
  return commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
}

function help(p: Program): string {
  return [
    `${p.name} ${p.version} — ${p.tagline}`,
    '',
    'Commands:',
    ...table(p.commands),
    '',
    'Usage:',
    ...p.commands.map((c) => `  ${c.usage}`),
    '',
    `Exit codes: ${p.exitCodes}`,
  ].join('\n');
}

/** What `kiln cluster --help` prints: the command's summary, then each verb and its usage. */
function verbsHelp(command: VerbCommand): string {
  return [command.summary, '', 'Commands:', ...table(command.verbs), '', 'Usage:', ...command.verbs.map((v) => `  ${v.usage}`)].join('\n');
}

/** Every flag a command or its verbs declare: enough to tell a flag's value from the verb. */
function allOptions(command: Command): Options {
  return command.verbs ? Object.assign({}, ...command.verbs.map(allOptions)) : command.options;
}

/**
 * Splits args into the verb (the first positional) and the verb's own arguments. Flags before the
 * verb are read the way the verbs declare them, so `cluster --json status DIR` finds `status`, and
 * `cluster -o DIR gen …` finds `gen`; they stay the verb's, to be parsed by its rules.
 */
function splitVerb(command: VerbCommand, args: string[]): { verb?: string; rest: string[]; help: boolean } {
  const { tokens } = parseArgs({
    args,
    options: { ...allOptions(command), help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  const at = tokens.find((t) => t.kind === 'positional')?.index;
  // -h before a verb is the verb's (`cluster -h up`); without a verb it asks for the list of verbs
  if (at === undefined) return { rest: args, help: tokens.some((t) => t.kind === 'option' && t.name === 'help') };
  return { verb: args[at], rest: [...args.slice(0, at), ...args.slice(at + 1)], help: false };
}

export async function runProgram(p: Program, argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === 'version') {
    writeOut(`${p.name} ${p.version}\n`);
    return 0;
  }
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    writeOut(`${help(p)}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = p.commands.find((c) => c.name === name);
  if (!command) {
    writeErr(`${p.name}: unknown command "${name}"\n\n${help(p)}\n`);
    return 2;
  }
  return dispatch(command, `${p.name} ${name}`, rest, `${p.name} ${name}`);
}

/**
 * Runs command (a verb, for a command of verbs) on args. `where` names it in usage errors
 * (`kiln cluster gen: Unknown option …`); `prefix` starts the errors its run throws, and stays
 * the program's command (`kiln cluster: …`) whichever verb ran.
 */
async function dispatch(command: Command, where: string, args: string[], prefix: string): Promise<number> {
  if (command.verbs) {
    const { verb: name, rest, help } = splitVerb(command, args);
    if (name === undefined && help) {
      writeOut(`${verbsHelp(command)}\n`);
      return 0;
    }
    const verb = command.verbs.find((v) => v.name === name);
    if (!verb) {
      const problem = name === undefined ? `no ${command.name} command given` : `unknown ${command.name} command "${name}"`;
      const verbs = command.verbs.map((v) => v.name).join(', ');
      writeErr(`${where}: ${problem}\n    hint: one of ${verbs}: ${command.usage}\n`);
      return 2;
    }
    return dispatch(verb, `${where} ${verb.name}`, rest, prefix);
  }
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    writeErr(`${where}: ${(error as Error).message}\nusage: ${command.usage}\n`);
    return 2;
  }
  if (parsed.values.help) {
    writeOut(`${command.summary}\nusage: ${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(parsed.positionals, parsed.values);
  } catch (error) {
    // KilnError and its kin: describe() names the file, the path and a hint
    const e = error as { describe?: () => string; exitCode?: number; stack?: string };
    if (typeof e.describe === 'function') {
      writeErr(`${prefix}: ${e.describe()}\n`);
      return e.exitCode ?? 1;
    }
    writeErr(`${prefix}: internal error: ${e.stack ?? String(error)}\n`);
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
      writeErr(`${p.name}: internal error: the command stalled before finishing\n`);
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
      writeErr(`${p.name}: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
