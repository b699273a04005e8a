#!/usr/bin/env node
// TEST ONLY. kiln-test-standins: one program standing in for kubeadm, helm and kubectl in tests
// and test images (never in a user's image). Run it through a symlink named after the tool
// (/usr/local/bin/kubeadm -> kiln-test-standins), or as `kiln-test-standins TOOL ARGS...`, or from
// source: `node --import tsx test/standins/main.ts TOOL ARGS...`. It checks its input as strictly
// as the real tool, simulates the effects later steps rely on under $KILN_STANDIN_ROOT (default /),
// and appends a record of every call to $KILN_STANDIN_ROOT/var/lib/kiln-test/standins.jsonl.
import { readFileSync } from 'node:fs';
import { isSea } from 'node:sea';
import { main } from './run.ts';

// A single executable sees [execPath, execPath, ...args]: the name it was called by (the symlink)
// is only in argv0. Run by node, argv[1] is the script (or the symlink to it).
const invokedAs = isSea() ? process.argv0 : (process.argv[1] ?? process.argv0);

main(invokedAs, process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stdin: () => readFileSync(0, 'utf8'),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`kiln-test-standins: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 70;
  },
);
