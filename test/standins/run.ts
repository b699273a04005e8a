// TEST ONLY. Runs one stand-in invocation: picks the tool from the name the program was called by
// (or `kiln-test-standins TOOL ARGS`), runs it against KILN_STANDIN_ROOT and appends its record.
// Pure of process globals, so tests can run the stand-ins in-process.
import path from 'node:path';
import pkg from '../../package.json' with { type: 'json' };
import { apiserver } from './apiserver/index.ts';
import { helm } from './helm.ts';
import { kubeadm } from './kubeadm/index.ts';
import { kubectl } from './kubectl.ts';
import { Ctx, STANDIN, type StandinIO } from './lib/context.ts';
import { appendRecord, type StandinRecord } from './record.ts';

export const PROGRAM = 'kiln-test-standins';
export const TOOLS = { kubeadm, helm, kubectl, apiserver } as const;
export type ToolName = keyof typeof TOOLS;

const isTool = (name: string | undefined): name is ToolName => name !== undefined && Object.hasOwn(TOOLS, name);

export type Invocation = { tool: ToolName; args: string[] } | { version: true } | { usage: string };

/**
 * What a command line asks for. `invokedAs` is the path or name the program was started by: a
 * symlink named kubeadm, helm or kubectl picks that tool; anything else (the program itself, a
 * script run by node) takes the tool as its first argument.
 */
export function resolveInvocation(invokedAs: string, args: string[]): Invocation {
  const name = path.basename(invokedAs).replace(/\.(ts|js|cjs|mjs)$/, '');
  if (isTool(name)) return { tool: name, args };
  if (isTool(args[0])) return { tool: args[0], args: args.slice(1) };
  if (args.length === 1 && args[0] === '--version') return { version: true };
  return {
    usage: `usage: ${PROGRAM} {${Object.keys(TOOLS).join('|')}} ARGS... (or run it through a symlink named after the tool)\nTEST ONLY: stand-ins for kubeadm, helm, kubectl and the kube-apiserver that check their input and record it; they never ship in a user's image.\n`,
  };
}

/** Runs one tool invocation and records it; returns the exit code. */
export async function runTool(tool: ToolName, args: string[], io: StandinIO): Promise<number> {
  const record: StandinRecord = { time: new Date().toISOString(), tool, args: [...args], exitCode: 0 };
  const ctx = new Ctx(io, record);
  let code: number;
  try {
    code = await TOOLS[tool](args, ctx);
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    io.stderr(`${STANDIN} internal error in the ${tool} stand-in: ${message}\n`);
    record.error = `${STANDIN} internal error: ${error instanceof Error ? error.message : String(error)}`;
    code = 70;
  }
  const { time, ...rest } = record;
  const ordered: StandinRecord = { ...rest, exitCode: code, time };
  try {
    appendRecord(ctx.root, ordered);
  } catch (error) {
    io.stderr(`${STANDIN} cannot append the invocation record under ${ctx.root}: ${(error as Error).message}\n`);
    if (code === 0) code = 70;
  }
  return code;
}

/** The whole program: dispatch, `--version`, usage. */
export async function main(invokedAs: string, args: string[], io: StandinIO): Promise<number> {
  const inv = resolveInvocation(invokedAs, args);
  if ('version' in inv) {
    io.stdout(`${PROGRAM} ${pkg.version}\n`);
    return 0;
  }
  if ('usage' in inv) {
    io.stderr(inv.usage);
    return 2;
  }
  return runTool(inv.tool, inv.args, io);
}
