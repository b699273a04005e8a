// TEST ONLY. Every stand-in invocation, accepted or refused, appends one JSON line to
// $KILN_STANDIN_ROOT/var/lib/kiln-test/standins.jsonl; tests read it to assert what kiln asked for.
// It may hold bootstrap tokens and certificate keys: the file is 0600 and exists only in test roots
// and test images.
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ToolName } from './lib/program.ts';

const RECORD_FILE = 'var/lib/kiln-test/standins.jsonl';

export interface AppliedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface StandinRecord {
  /** ISO time of the invocation. */
  time: string;
  tool: ToolName;
  /** The arguments after the tool name, as given. */
  args: string[];
  exitCode: number;
  /** Why it was refused (the message the tool printed, without its framing). */
  error?: string;
  /** kubeadm: the documents of --config (or those the flags stand for), parsed. */
  config?: Array<Record<string, unknown>>;
  /** helm: the values after merging --values files and --set* flags, as helm would pass them to the chart. */
  values?: Record<string, unknown>;
  /** helm: the release asked for. */
  release?: { name: string; namespace: string; chart: string; chartVersion?: string; revision?: number };
  /** kubectl apply: each file read and the objects in it. */
  files?: Array<{ path: string; objects: AppliedObject[] }>;
  /** helm/kubectl: the kubeconfig used (a node path). */
  kubeconfig?: string;
  /** kubectl patch: the patch type, the object ("group/Kind/namespace/name") and the parsed body. */
  patch?: { type: string; target: string; body: Record<string, unknown> | unknown[] };
  /** kubeadm: the node paths the simulation wrote. */
  wrote?: string[];
  /** Non-fatal things the real tool would print as warnings (preflight warnings, ignored --version, …). */
  warnings?: string[];
}

export function appendRecord(root: string, record: StandinRecord): void {
  const file = path.join(root, RECORD_FILE);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  appendFileSync(file, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** The records under a root, oldest first ([] when none). */
export function readRecords(root: string): StandinRecord[] {
  const file = path.join(root, RECORD_FILE);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as StandinRecord);
}
