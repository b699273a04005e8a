// `kiln cluster gen`: a validated cluster spec → DIR with the PKI, secrets.json, cluster.json and
// each node's NoCloud seed, cidata.iso and Ignition config. Every file is made (and checked with
// kiln-firstboot's own parsers) in memory before the first write; each write is atomic.
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { type Problem } from '../../core/problem.ts';
import { ValidationError } from '../../core/errors.ts';
import { mkdirs, writeFileAtomic } from '../../core/fs.ts';
import { nodeConfigProblems } from '../../node/config/parse.ts';
import { parseIgnition } from '../../node/formats/ignition/parse.ts';
import { decodeMetadata } from '../../node/metadata/decode.ts';
import { endpointOf, vmsOf } from './model.ts';
import { ignitionConfig } from './ignition.ts';
import { cidataIso } from './iso.ts';
import { nodeConfigOf, nodeSummary, type ClusterSecrets } from './node-config.ts';
import { noCloudSeed, type NoCloudSeed, type SeedFile } from './nocloud.ts';
import { CAS, discoveryHash, type CaName } from './pki.ts';
import type { ClusterNodeSpec, ClusterSpec } from './schema.ts';
import { LAYOUT, completeSecrets, readStored } from './state.ts';

const PUBLIC = 0o644;
const SECRET = 0o600;
const PRIVATE_DIR = 0o700;

interface Planned {
  rel: string;
  data: string | Buffer;
  mode: number;
}

export interface GenResult {
  dir: string;
  caCertHash: string;
  endpoint: string;
  /** What this run made new (CA files, token, certificateKey); the rest was kept. */
  created: string[];
  nodes: Array<{ name: string; role: string; advertiseAddress: string; dir: string }>;
  /** Node directories of nodes no longer in the spec, removed. */
  removed: string[];
}

/** meta-data's instance-id: stable across re-runs, new with a new CA (--rotate), so a node provisions again only then. */
const instanceIdOf = (spec: ClusterSpec, node: ClusterNodeSpec, caCertHash: string) =>
  `${spec.name}-${node.name}-${createHash('sha256').update(`${caCertHash}\n${node.name}`).digest('hex').slice(0, 12)}`;

/** The extra CAs the init node places where kubeadm init looks for them (it makes the missing ones). */
const EXTRA_CAS: Array<[CaName & ('frontProxy' | 'etcd'), string]> = [
  ['frontProxy', '/etc/kubernetes/pki/front-proxy-ca'],
  ['etcd', '/etc/kubernetes/pki/etcd/ca'],
];
const extraFilesOf = (node: ClusterNodeSpec, s: ClusterSecrets): SeedFile[] =>
  node.role !== 'init'
    ? []
    : EXTRA_CAS.flatMap(([name, at]) =>
        s[name]
          ? [
              { path: `${at}.crt`, contents: s[name].cert },
              { path: `${at}.key`, contents: s[name].key },
            ]
          : [],
      );

/** Runs a firstboot parser over what kiln made: a problem there is reported against the node in the spec. */
function selfCheck(file: string, at: string, what: string, check: () => unknown): Problem[] {
  try {
    check();
    return [];
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return error.problems.map((p) => ({
      file,
      path: at,
      message: `kiln-firstboot would reject the generated ${what}: ${p.path || '(top)'}: ${p.message}`,
      hint: p.hint ?? 'report this as a kiln bug',
      severity: 'error' as const,
    }));
  }
}

function planNode(spec: ClusterSpec, file: string, i: number, secrets: ClusterSecrets, hash: string) {
  const node = spec.nodes[i]!;
  const config = nodeConfigOf(spec, node, secrets, hash);
  const extra = extraFilesOf(node, secrets);
  const seed = noCloudSeed(spec, node, config, instanceIdOf(spec, node, hash), extra);
  // the Ignition config renders the network-config: a network it refuses is reported like the seed's
  let ignition = '';
  const rendering = selfCheck(
    file,
    `/nodes/${i}`,
    'network-config',
    () => (ignition = ignitionConfig(node, config, seed['network-config'], extra)),
  );
  const raw = (name: keyof typeof seed) => ({ name, data: Buffer.from(seed[name]) });
  const problems = [
    ...rendering,
    ...nodeConfigProblems(config, file).map((p) => ({
      ...p,
      path: `/nodes/${i}`,
      message: `the node config of ${node.name}: ${p.path}: ${p.message}`,
    })),
    ...selfCheck(file, `/nodes/${i}`, 'NoCloud seed', () =>
      decodeMetadata({ kind: 'nocloud', userData: raw('user-data'), metaData: raw('meta-data'), networkConfig: raw('network-config') }),
    ),
    ...(rendering.length > 0 ? [] : selfCheck(file, `/nodes/${i}`, 'Ignition config', () => parseIgnition(ignition, 'ignition.json'))),
  ];
  return { node, seed, ignition, problems };
}

async function privateDir(dir: string): Promise<void> {
  await mkdirs(dir, PRIVATE_DIR);
  await chmod(dir, PRIVATE_DIR);
}

const WORK_PREFIX = '.kiln-work-';

/**
 * Runs fn with a work directory inside DIR (0700, like DIR: the seeds it packs hold the token), not
 * in $TMPDIR; removed on every exit path, and a killed run's leftover removed by the next run. A
 * DIR this run made is removed again when fn fails, so a failed run leaves no trace.
 */
async function inWorkDir<T>(dir: string, fn: (work: string) => Promise<T>): Promise<T> {
  const existed = await stat(dir).then(
    () => true,
    () => false,
  );
  await privateDir(dir);
  for (const name of await readdir(dir)) if (name.startsWith(WORK_PREFIX)) await rm(path.join(dir, name), { recursive: true, force: true });
  const work = await mkdtemp(path.join(dir, WORK_PREFIX));
  let ok = false;
  try {
    const result = await fn(work);
    ok = true;
    return result;
  } finally {
    await rm(work, { recursive: true, force: true });
    if (!ok && !existed) await rm(dir, { recursive: true, force: true });
  }
}

export interface GenOptions {
  /** Make new secrets even where DIR has them. */
  rotate?: boolean;
  /** Packs a seed as cidata.iso in a private work directory; unit tests swap in one that needs no xorriso. */
  iso?: (seed: NoCloudSeed, workDir: string) => Promise<Buffer>;
}

export async function generateCluster(spec: ClusterSpec, file: string, dir: string, opts: GenOptions = {}): Promise<GenResult> {
  const iso = opts.iso ?? cidataIso;
  const stored = await readStored(dir, spec, opts.rotate === true);
  const { secrets, created } = await completeSecrets(stored, spec);
  const hash = discoveryHash(secrets.ca.cert);
  const nodes = spec.nodes.map((_, i) => planNode(spec, file, i, secrets, hash));
  const problems = nodes.flatMap((n) => n.problems);
  if (problems.length > 0) throw new ValidationError(problems);

  const plan: Planned[] = [];
  for (const name of Object.keys(CAS) as CaName[]) {
    const pair = secrets[name];
    if (pair)
      plan.push({ rel: LAYOUT.caCert(name), data: pair.cert, mode: PUBLIC }, { rel: LAYOUT.caKey(name), data: pair.key, mode: SECRET });
  }
  plan.push({
    rel: LAYOUT.secrets,
    data: `${JSON.stringify({ token: secrets.token, certificateKey: secrets.certificateKey }, null, 2)}\n`,
    mode: SECRET,
  });
  const isos = await inWorkDir(dir, (work) => Promise.all(nodes.map(({ seed }) => iso(seed, work))));
  for (const [i, { node, seed, ignition }] of nodes.entries()) {
    plan.push(
      { rel: LAYOUT.nocloud(node.name, 'user-data'), data: seed['user-data'], mode: SECRET },
      { rel: LAYOUT.nocloud(node.name, 'meta-data'), data: seed['meta-data'], mode: PUBLIC },
      { rel: LAYOUT.nocloud(node.name, 'network-config'), data: seed['network-config'], mode: PUBLIC },
      { rel: LAYOUT.iso(node.name), data: isos[i]!, mode: SECRET },
      { rel: LAYOUT.ignition(node.name), data: ignition, mode: SECRET },
    );
  }
  const summary = {
    name: spec.name,
    kubernetesVersion: spec.kubernetes.version,
    controlPlaneEndpoint: endpointOf(spec),
    caCertHash: hash,
    vms: vmsOf(spec),
    pki: Object.fromEntries((Object.keys(CAS) as CaName[]).filter((n) => secrets[n]).map((n) => [n, LAYOUT.caCert(n)])),
    nodes: nodes.map(({ node, seed }) => ({
      ...nodeSummary(spec, node),
      instanceId: /instance-id: (\S+)/.exec(seed['meta-data'])![1],
      nocloud: path.dirname(LAYOUT.nocloud(node.name, 'user-data')),
      cidata: LAYOUT.iso(node.name),
      ignition: LAYOUT.ignition(node.name),
    })),
  };
  // cluster.json last: a run that stops early leaves the previous summary, and a re-run finishes the job
  plan.push({ rel: LAYOUT.summary, data: `${JSON.stringify(summary, null, 2)}\n`, mode: PUBLIC });

  // first write: every directory that holds secrets is 0700
  await privateDir(dir);
  for (const rel of new Set(plan.map((p) => path.dirname(p.rel)).filter((d) => d !== '.'))) {
    const parts = rel.split('/');
    for (let n = 1; n <= parts.length; n++) await privateDir(path.join(dir, ...parts.slice(0, n)));
  }
  for (const p of plan) await writeFileAtomic(path.join(dir, p.rel), p.data, p.mode);

  const wanted = new Set(spec.nodes.map((n) => n.name));
  const removed: string[] = [];
  for (const entry of await readdir(path.join(dir, LAYOUT.nodesDir), { withFileTypes: true }))
    if (entry.isDirectory() && !wanted.has(entry.name)) {
      await rm(path.join(dir, LAYOUT.nodeDir(entry.name)), { recursive: true, force: true });
      removed.push(entry.name);
    }
  return {
    dir,
    caCertHash: hash,
    endpoint: endpointOf(spec),
    created,
    nodes: summary.nodes.map((n) => ({
      name: n.name,
      role: n.role,
      advertiseAddress: n.advertiseAddress,
      dir: path.join(dir, LAYOUT.nodeDir(n.name)),
    })),
    removed,
  };
}
