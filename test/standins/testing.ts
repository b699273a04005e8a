// TEST ONLY. A harness for the stand-ins' own tests: a temporary node root, in-process runs (fast)
// and runs through `node --import tsx test/standins/main.ts` (the real process entry); for network
// mode, a free port and the stand-in API server run in-process.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { startApiserver, type RunningApiserver } from './apiserver/server.ts';
import { Ctx, type ClusterState } from './lib/context.ts';
import { readRecords, type StandinRecord } from './record.ts';
import { runTool, type ToolName } from './run.ts';

export const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.ts');
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  /** The record this run appended. */
  record: StandinRecord;
}

export class NodeRoot {
  readonly dir: string;

  constructor() {
    this.dir = mkdtempSync(path.join(process.env.KILN_TEST_TMP ?? tmpdir(), 'kiln-standins-'));
  }

  host(nodePath: string): string {
    return path.join(this.dir, nodePath);
  }

  write(nodePath: string, contents: string | Buffer, mode = 0o644): string {
    const file = this.host(nodePath);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, contents);
    chmodSync(file, mode);
    return nodePath;
  }

  /** Writes documents as multi-document YAML. */
  yaml(nodePath: string, ...docs: unknown[]): string {
    return this.write(nodePath, docs.map((d) => YAML.stringify(d)).join('---\n'));
  }

  read(nodePath: string): string {
    return readFileSync(this.host(nodePath), 'utf8');
  }

  exists(nodePath: string): boolean {
    return existsSync(this.host(nodePath));
  }

  mode(nodePath: string): number {
    return statSync(this.host(nodePath)).mode & 0o777;
  }

  knob(name: string, value: string): void {
    this.write(`/etc/kiln-test/standins/${name}`, `${value}\n`);
  }

  records(): StandinRecord[] {
    return readRecords(this.dir);
  }

  /** The simulated cluster state. */
  state(): ClusterState {
    return JSON.parse(readFileSync(this.host('/var/lib/kiln-test/standins-state.json'), 'utf8'));
  }

  env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
    return { PATH: process.env.PATH, HOME: '/root', KILN_STANDIN_ROOT: this.dir, ...extra };
  }

  /** Runs a stand-in in this process. */
  async run(tool: ToolName, args: string[], extraEnv: Record<string, string | undefined> = {}, stdin?: string): Promise<Ran> {
    let stdout = '';
    let stderr = '';
    const before = this.records().length;
    const code = await runTool(tool, args, {
      env: this.env(extraEnv),
      cwd: this.dir,
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      ...(stdin !== undefined ? { stdin: () => stdin } : {}),
    });
    const records = this.records();
    if (records.length !== before + 1) throw new Error(`expected one new record, found ${records.length - before}`);
    return { code, stdout, stderr, record: records.at(-1)! };
  }

  /** Runs a program with this root (KILN_STANDIN_ROOT) and the given environment, from the repository. */
  spawn(command: string, args: string[], extraEnv: Record<string, string | undefined> = {}): SpawnSyncReturns<string> {
    return spawnSync(command, args, { cwd: REPO, encoding: 'utf8', env: this.env(extraEnv) as NodeJS.ProcessEnv, timeout: 60_000 });
  }

  /** `node --import tsx SCRIPT ARGS` (SCRIPT: test/standins/main.ts, or a symlink to it). */
  tsx(script: string, args: string[], extraEnv: Record<string, string | undefined> = {}): SpawnSyncReturns<string> {
    return this.spawn(process.execPath, ['--import', 'tsx', script, ...args], extraEnv);
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// --- network mode ---------------------------------------------------------------------------------

/** The environment that turns network mode on under a test root (at / it is on by default). */
export const NETWORK = { KILN_STANDIN_NETWORK: '1' };

/** A TCP port free on 127.0.0.1 just now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** `kiln-test-standins apiserver` for `node`, in this process, on 127.0.0.1:`port`; its log lines go to `logs`. */
export function serveNode(node: NodeRoot, port: number, logs: string[]): Promise<RunningApiserver> {
  const io = {
    env: node.env({ KILN_STANDIN_APISERVER_LISTEN: `127.0.0.1:${port}` }),
    cwd: node.dir,
    stdout: (t: string) => void logs.push(t),
    stderr: (t: string) => void logs.push(t),
  };
  return startApiserver(new Ctx(io, { time: new Date().toISOString(), tool: 'apiserver', args: [], exitCode: 0 }), (line) =>
    logs.push(line),
  );
}

// --- configs kiln's role plan would render --------------------------------------------------------

export const TOKEN = 'abcdef.0123456789abcdef';
export const CERT_KEY = 'a'.repeat(64);
export const CA_HASH = `sha256:${'b'.repeat(64)}`;

/** A YAML mapping as a test edits it. */
type Mapping = Record<string, unknown>;

/**
 * The documents initConfig renders, as its `edit` sees them. An edit may write anything (wrong
 * types on purpose, to see them refused), so only the mappings edits reach into are typed as such.
 */
export interface InitDocs {
  init: Mapping & { nodeRegistration: Mapping; bootstrapTokens: [Mapping] };
  cluster: Mapping & { networking: Mapping };
  kubelet: Mapping;
}

/** The JoinConfiguration joinConfig renders, as its `edit` sees it (see InitDocs). */
export interface JoinDoc extends Mapping {
  discovery: Mapping & { bootstrapToken: Mapping };
  nodeRegistration: Mapping;
}

export function initConfig(edit: (docs: InitDocs) => void = () => {}): unknown[] {
  const docs: InitDocs = {
    init: {
      apiVersion: 'kubeadm.k8s.io/v1beta4',
      kind: 'InitConfiguration',
      bootstrapTokens: [{ token: TOKEN, ttl: '24h0m0s' }],
      localAPIEndpoint: { advertiseAddress: '10.0.0.11', bindPort: 6443 },
      nodeRegistration: {
        name: 'cp-1',
        criSocket: 'unix:///run/containerd/containerd.sock',
        kubeletExtraArgs: [{ name: 'node-ip', value: '10.0.0.11' }],
      },
      skipPhases: ['addon/kube-proxy'],
    },
    cluster: {
      apiVersion: 'kubeadm.k8s.io/v1beta4',
      kind: 'ClusterConfiguration',
      clusterName: 'lab',
      kubernetesVersion: 'v1.31.4',
      controlPlaneEndpoint: '10.0.0.10:6443',
      networking: { podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12', dnsDomain: 'cluster.local' },
    },
    kubelet: {
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      cgroupDriver: 'systemd',
      maxPods: 150,
      systemReserved: { cpu: '500m', memory: '1Gi' },
    },
  };
  edit(docs);
  return [docs.init, docs.cluster, docs.kubelet].filter(Boolean);
}

export function joinConfig(edit: (join: JoinDoc) => void = () => {}): unknown {
  const join: JoinDoc = {
    apiVersion: 'kubeadm.k8s.io/v1beta4',
    kind: 'JoinConfiguration',
    discovery: { bootstrapToken: { apiServerEndpoint: '10.0.0.10:6443', token: TOKEN, caCertHashes: [CA_HASH] } },
    nodeRegistration: { name: 'worker-1', kubeletExtraArgs: [{ name: 'node-ip', value: '10.0.0.21' }] },
  };
  edit(join);
  return join;
}

export function kubeconfig(server = 'https://10.0.0.10:6443'): string {
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'lab', cluster: { server } }],
    contexts: [{ name: 'admin@lab', context: { cluster: 'lab', user: 'admin' } }],
    'current-context': 'admin@lab',
    users: [{ name: 'admin', user: {} }],
  });
}
