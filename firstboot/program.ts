// kiln-firstboot: turns a booted kiln image into the node its metadata describes.
// Commands load lazily so `--version` (and the early boot pass) start as fast as node itself.
// The program as a value: cli.ts runs it as the process; tests run it in-process (runProgram).
import type { Command, Program } from '../core/cli.ts';
import { KILN_VERSION } from '../core/version.ts';

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
  {
    name: 'update',
    usage: 'kiln-firstboot update --check FILE [--role control-plane|worker --control-plane vX.Y.Z] [--root DIR] [--json]',
    summary: 'check an update bundle against this node: signature, freshness, every part, the version skew; writes nothing',
    options: {
      check: { type: 'boolean' },
      role: { type: 'string' },
      'control-plane': { type: 'string' },
      root: { type: 'string' },
      json: { type: 'boolean' },
    },
    run: async (pos, v) => (await import('./commands/update.ts')).updateCommand(pos, v),
  },
];
export const KILN_FIRSTBOOT: Program = {
  name: 'kiln-firstboot',
  version: KILN_VERSION,
  tagline: 'provisions a kiln node from NoCloud or Ignition metadata',
  commands: COMMANDS,
  exitCodes: '0 ok, 1 failure, 2 invalid metadata or usage, 3 no metadata source.',
};
