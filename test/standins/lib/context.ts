// TEST ONLY. What every stand-in works with: the node root it simulates (KILN_STANDIN_ROOT), its
// output streams, the record of this invocation, the small simulated cluster state (nodes,
// namespaces, releases, applied objects) and the test knobs under /etc/kiln-test/standins.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { FlagError } from '../flags.ts';
import type { StandinRecord } from '../record.ts';

export interface StandinIO {
  env: Record<string, string | undefined>;
  cwd: string;
  stdout(text: string): void;
  stderr(text: string): void;
  /** Standard input, read whole (kubectl apply -f -). */
  stdin?(): string;
}

/**
 * The tool refuses: exits with `code` after printing `message` in its own style. `plain` messages
 * are printed as they are (kubectl's "Error from server …", "The connection to the server …").
 */
export class Refusal extends Error {
  constructor(
    message: string,
    readonly code = 1,
    readonly opts: { plain?: boolean } = {},
  ) {
    super(message);
  }
}

/** Marks a refusal or warning where the stand-in is stricter than, or differs from, the real tool. */
export const STANDIN = '[kiln-test-standin]';

export interface NodeState {
  labels: Record<string, string>;
  taints: Array<{ key: string; value?: string; effect: string }>;
  registered: string;
  controlPlane: boolean;
}

export interface ClusterState {
  nodes: Record<string, NodeState>;
  namespaces: string[];
  releases: Record<string, { chart: string; chartVersion?: string; revision: number; status: string; values: Record<string, unknown> }>;
  /** Applied objects: "group/Kind/namespace/name" → a digest of their content. */
  objects: Record<string, string>;
}

/** The simulated cluster state, a node path under the root. */
export const STATE_FILE = '/var/lib/kiln-test/standins-state.json';
/** Where tests put knobs (see the README), a node path under the root. */
export const KNOB_DIR = '/etc/kiln-test/standins';
const DEFAULT_KUBERNETES_VERSION = 'v1.31.4';

export class Ctx {
  readonly root: string;
  readonly env: Record<string, string | undefined>;
  readonly cwd: string;

  constructor(
    readonly io: StandinIO,
    readonly record: StandinRecord,
  ) {
    this.env = io.env;
    this.cwd = io.cwd;
    this.root = path.resolve(io.env.KILN_STANDIN_ROOT || '/');
  }

  out(text: string): void {
    this.io.stdout(text);
  }

  err(text: string): void {
    this.io.stderr(text);
  }

  warn(text: string): void {
    (this.record.warnings ??= []).push(text);
  }

  /**
   * Where a path the tool was given lives on this machine: absolute paths are node paths, under
   * the root; relative ones are relative to the working directory.
   */
  host(nodePath: string): string {
    if (!path.isAbsolute(nodePath)) return path.resolve(this.cwd, nodePath);
    return this.root === '/' ? nodePath : path.join(this.root, nodePath);
  }

  exists(nodePath: string): boolean {
    return existsSync(this.host(nodePath));
  }

  /** The names in a node directory ([] when it is missing or not a directory). */
  list(nodePath: string): string[] {
    try {
      return readdirSync(this.host(nodePath));
    } catch {
      return [];
    }
  }

  isDir(nodePath: string): boolean {
    try {
      return statSync(this.host(nodePath)).isDirectory();
    } catch {
      return false;
    }
  }

  /** Reads a node file; throws Go's `open PATH: no such file or directory` style message. */
  read(nodePath: string): string {
    try {
      return readFileSync(this.host(nodePath), 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? 'no such file or directory'
          : code === 'EISDIR'
            ? 'is a directory'
            : code === 'EACCES'
              ? 'permission denied'
              : String(code);
      throw new Refusal(`open ${nodePath}: ${why}`);
    }
  }

  write(nodePath: string, contents: string | Buffer, mode = 0o644): void {
    const file = this.host(nodePath);
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
    writeFileSync(file, contents, { mode });
    chmodSync(file, mode);
    (this.record.wrote ??= []).push(nodePath);
  }

  mkdir(nodePath: string, mode = 0o755): void {
    mkdirSync(this.host(nodePath), { recursive: true, mode });
  }

  // --- test knobs -------------------------------------------------------------------------------

  knobPath(name: string): string {
    return `${KNOB_DIR}/${name}`;
  }

  /** A knob file's text, trimmed (undefined when absent). */
  knob(name: string): string | undefined {
    const file = this.host(this.knobPath(name));
    return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
  }

  /**
   * Failure knobs: when /etc/kiln-test/standins/NAME holds N > 0, this call should fail; N is
   * decremented so the (N+1)-th call succeeds (retry and backoff tests).
   */
  takeFailure(name: string): boolean {
    const text = this.knob(name);
    const n = Number(text);
    if (!text || !Number.isInteger(n) || n <= 0) return false;
    writeFileSync(this.host(this.knobPath(name)), `${n - 1}\n`);
    return true;
  }

  /** The Kubernetes version kubeadm and kubectl claim to be (env, then knob, then the default image's). */
  kubeVersion(): string {
    const v = this.env.KILN_STANDIN_KUBERNETES_VERSION || this.knob('kubernetes-version') || DEFAULT_KUBERNETES_VERSION;
    return v.startsWith('v') ? v : `v${v}`;
  }

  // --- simulated cluster state ------------------------------------------------------------------

  loadState(): ClusterState {
    const file = path.join(this.root, STATE_FILE);
    const empty: ClusterState = {
      nodes: {},
      namespaces: ['default', 'kube-node-lease', 'kube-public', 'kube-system'],
      releases: {},
      objects: {},
    };
    if (!existsSync(file)) return empty;
    return { ...empty, ...(JSON.parse(readFileSync(file, 'utf8')) as Partial<ClusterState>) };
  }

  saveState(state: ClusterState): void {
    const file = path.join(this.root, STATE_FILE);
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  }
}

/**
 * Prints a refusal framed the way the tool of this invocation frames errors, records it and
 * returns its exit code; anything else is rethrown (an internal error). `command` is what was run,
 * e.g. "kubectl get": kubectl names it in its usage hint after a flag error.
 */
export function report(ctx: Ctx, error: unknown, command: string): number {
  const tool = ctx.record.tool;
  const refusal =
    error instanceof FlagError
      ? new Refusal(tool === 'kubectl' ? `${error.message}\nSee '${command} --help' for usage.` : error.message)
      : error;
  if (!(refusal instanceof Refusal)) throw error;
  ctx.record.error = refusal.message;
  if (tool === 'kubeadm')
    ctx.err(`${refusal.message}\nTo see the stack trace of this error execute with --v=5 or higher\n`); // kubeadm 1.31; exit 1 (3 for validation)
  else if (tool === 'helm') ctx.err(`Error: ${refusal.message}\n`);
  else ctx.err(refusal.opts.plain ? `${refusal.message}\n` : `error: ${refusal.message}\n`);
  return refusal.code;
}

/**
 * YAML the way Kubernetes tools read it (sigs.k8s.io/yaml on go-yaml: YAML 1.1, so `yes`/`on`
 * are booleans and 0755 is octal). Returns the documents' values; `null` for empty documents.
 */
export function parseYamlDocuments(text: string): { docs: unknown[]; error?: string } {
  const docs = YAML.parseAllDocuments(text, { version: '1.1', prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const d of list) {
    const e = d.errors[0];
    if (e) {
      const line = e.linePos?.[0]?.line;
      return { docs: [], error: `error converting YAML to JSON: yaml: ${line ? `line ${line}: ` : ''}${e.message.split('\n')[0]}` };
    }
  }
  return { docs: list.map((d) => d.toJS({ maxAliasCount: 100 }) as unknown) };
}

export function isMapping(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function toYaml(value: unknown): string {
  return YAML.stringify(value, { lineWidth: 0 });
}
