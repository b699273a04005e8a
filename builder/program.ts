// kiln: bakes bootable Kubernetes node images from a declarative image spec.
// The program as a value: cli.ts runs it as the process; tests run it in-process (runProgram).
import type { Command, Program } from '../core/cli.ts';
import { KILN_VERSION } from '../core/version.ts';
import { buildCommand } from './commands/build.ts';
import { validateCommand } from './commands/validate.ts';
import { schemaCommand } from './commands/schema.ts';
import { doctorCommand } from './commands/doctor.ts';
import { dataDiskCommand } from './commands/data-disk.ts';
import { keygenCommand } from './commands/keygen.ts';
import { CLUSTER_USAGE, CLUSTER_VERBS } from './commands/cluster.ts';

const COMMANDS: Command[] = [
  {
    name: 'build',
    usage: 'kiln build SPEC --out DIR [--no-cache] [--cache-dir DIR] [--json]',
    summary: 'build the image described by SPEC into DIR (rootfs.tar, outputs, manifest.json)',
    options: {
      out: { type: 'string', short: 'o' },
      'no-cache': { type: 'boolean' },
      'cache-dir': { type: 'string' },
      json: { type: 'boolean' },
    },
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
    usage: 'kiln schema image|node|cluster',
    summary: 'print the JSON Schema of a kiln document (for editors)',
    options: {},
    run: (pos) => schemaCommand(pos),
  },
  {
    name: 'cluster',
    usage: CLUSTER_USAGE,
    summary: "write a cluster's PKI and node metadata (gen); boot it as QEMU VMs on a private network (up, status, down) or for libvirt",
    verbs: CLUSTER_VERBS,
  },
  {
    name: 'data-disk',
    usage: 'kiln data-disk FILE [--size 20G]',
    summary: 'create the persistent /var disk for live (ISO/PXE) nodes',
    options: { size: { type: 'string' } },
    run: (pos, v) => dataDiskCommand(pos, v),
  },
  {
    name: 'keygen',
    usage: 'kiln keygen --out DIR [--name NAME]',
    summary: 'make the ed25519 key pair update bundles are signed with (NAME.key stays with you, NAME.pub goes into image specs)',
    options: { out: { type: 'string', short: 'o' }, name: { type: 'string' } },
    run: (pos, v) => keygenCommand(pos, v),
  },
  {
    name: 'doctor',
    usage: 'kiln doctor [--json]',
    summary: 'list the host tools kiln uses, what each is for, and which are missing',
    options: { json: { type: 'boolean' } },
    run: (_pos, v) => doctorCommand(v),
  },
];
export const KILN: Program = {
  name: 'kiln',
  version: KILN_VERSION,
  tagline: 'bootable Kubernetes node images',
  commands: COMMANDS,
  exitCodes: '0 ok, 1 build or tool failure, 2 invalid input.',
};
