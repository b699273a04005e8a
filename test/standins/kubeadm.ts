// TEST ONLY. A stand-in for kubeadm (v1beta4 configs; messages and exit codes of kubeadm 1.31):
// `version`, `init`, `join` and `reset`. It checks its input as strictly as kubeadm does, and where
// kubeadm would only warn about something that silently loses a setting (an unknown key, an
// ignored document, a patch file it skips) it refuses, saying so with "[kiln-test-standin]". It
// then simulates the effects the next steps depend on under KILN_STANDIN_ROOT: kubeconfigs,
// static Pod stubs, the kubelet's config, and the node in the simulated cluster.
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism, hostname, networkInterfaces, totalmem } from 'node:os';
import path from 'node:path';
import kubeadmFields from '../../../shared/upstream/kubernetes/kubeadm-v1beta4.json' with { type: 'json' };
import kubeletFields from '../../../shared/upstream/kubernetes/kubelet-v1beta1.json' with { type: 'json' };
import kubeproxyFields from '../../../shared/upstream/kubernetes/kubeproxy-v1alpha1.json' with { type: 'json' };
import { FlagError, bool, findCommand, list, parseFlags, str, type FlagSpecs, type ParsedFlags } from './flags.ts';
import { Refusal, STANDIN, isMapping, parseYamlDocuments, toYaml, type ClusterState, type Ctx } from './lib/context.ts';
import { kubeDocProblems, type FieldList } from './lib/kube-fields.ts';
import { kubeTypeProblems } from './lib/kube-types.ts';
import { makeKubeconfig } from './lib/kubeconfig.ts';
import { jsonPatch, mergePatch, strategicMergePatch } from './lib/patch.ts';
import { isDns1123Subdomain, isValidPort, nthAddress, parseHostPort, splitHostPort, validateSubnets } from './lib/validate.ts';

const LISTS = [kubeadmFields, kubeletFields, kubeproxyFields] as unknown as FieldList[];
const KUBEADM = 'kubeadm.k8s.io/v1beta4';
const KUBELET = 'kubelet.config.k8s.io/v1beta1';
const KUBEPROXY = 'kubeproxy.config.k8s.io/v1alpha1';
const VALIDATION_EXIT = 3;
const TOKEN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;

type Doc = Record<string, any>;

// --- flags --------------------------------------------------------------------------------------

const GLOBAL: FlagSpecs = {
  v: { type: 'int32', short: 'v' },
  'log-file': { type: 'string' },
  'log-file-max-size': { type: 'int' },
  'one-output': { type: 'bool' },
  'skip-headers': { type: 'bool' },
  'skip-log-headers': { type: 'bool' },
  'add-dir-header': { type: 'bool' },
  rootfs: { type: 'string' },
  help: { type: 'bool', short: 'h' },
};

const INIT_FLAGS: FlagSpecs = {
  'apiserver-advertise-address': { type: 'string' },
  'apiserver-bind-port': { type: 'int32' },
  'apiserver-cert-extra-sans': { type: 'stringSlice' },
  'cert-dir': { type: 'string' },
  'certificate-key': { type: 'string' },
  config: { type: 'string' },
  'control-plane-endpoint': { type: 'string' },
  'cri-socket': { type: 'string' },
  'dry-run': { type: 'bool' },
  'feature-gates': { type: 'string' },
  'ignore-preflight-errors': { type: 'stringSlice' },
  'image-repository': { type: 'string' },
  'kubernetes-version': { type: 'string' },
  'node-name': { type: 'string' },
  patches: { type: 'string' },
  'pod-network-cidr': { type: 'string' },
  'service-cidr': { type: 'string' },
  'service-dns-domain': { type: 'string' },
  'skip-certificate-key-print': { type: 'bool' },
  'skip-phases': { type: 'stringSlice' },
  'skip-token-print': { type: 'bool' },
  token: { type: 'string' },
  'token-ttl': { type: 'duration' },
  'upload-certs': { type: 'bool' },
};

const JOIN_FLAGS: FlagSpecs = {
  'apiserver-advertise-address': { type: 'string' },
  'apiserver-bind-port': { type: 'int32' },
  'certificate-key': { type: 'string' },
  config: { type: 'string' },
  'control-plane': { type: 'bool' },
  'cri-socket': { type: 'string' },
  'discovery-file': { type: 'string' },
  'discovery-token': { type: 'string' },
  'discovery-token-ca-cert-hash': { type: 'stringSlice' },
  'discovery-token-unsafe-skip-ca-verification': { type: 'bool' },
  'dry-run': { type: 'bool' },
  'ignore-preflight-errors': { type: 'stringSlice' },
  'node-name': { type: 'string' },
  patches: { type: 'string' },
  'skip-phases': { type: 'stringSlice' },
  'tls-bootstrap-token': { type: 'string' },
  token: { type: 'string' },
};

const RESET_FLAGS: FlagSpecs = {
  'cert-dir': { type: 'string' },
  'cleanup-tmp-dir': { type: 'bool' },
  config: { type: 'string' },
  'cri-socket': { type: 'string' },
  'dry-run': { type: 'bool' },
  force: { type: 'bool', short: 'f' },
  'ignore-preflight-errors': { type: 'stringSlice' },
  kubeconfig: { type: 'string' },
  'skip-phases': { type: 'stringSlice' },
};

/** Flags kubeadm lets through beside --config (validation.isAllowedFlag); "skip-*" too. */
const ALLOWED_WITH_CONFIG = new Set(['config', 'ignore-preflight-errors', 'dry-run', 'kubeconfig', 'node-name', 'kubeconfig-dir', 'upload-certs', 'print-join-command', 'rootfs', 'v', 'log-file']);

const INIT_PHASES = [
  'preflight',
  ...['', '/all', '/ca', '/apiserver', '/apiserver-kubelet-client', '/front-proxy-ca', '/front-proxy-client', '/etcd-ca', '/etcd-server', '/etcd-peer', '/etcd-healthcheck-client', '/apiserver-etcd-client', '/sa'].map((s) => `certs${s}`),
  ...['', '/all', '/admin', '/super-admin', '/kubelet', '/controller-manager', '/scheduler'].map((s) => `kubeconfig${s}`),
  'etcd',
  'etcd/local',
  ...['', '/all', '/apiserver', '/controller-manager', '/scheduler'].map((s) => `control-plane${s}`),
  'kubelet-start',
  'wait-control-plane',
  ...['', '/all', '/kubeadm', '/kubelet'].map((s) => `upload-config${s}`),
  'upload-certs',
  'mark-control-plane',
  'bootstrap-token',
  ...['', '/all', '/enable-client-cert-rotation', '/experimental-cert-rotation'].map((s) => `kubelet-finalize${s}`),
  ...['', '/all', '/coredns', '/kube-proxy'].map((s) => `addon${s}`),
  'show-join-command',
];
const JOIN_PHASES = [
  'preflight',
  ...['', '/all', '/download-certs', '/certs', '/kubeconfig', '/control-plane'].map((s) => `control-plane-prepare${s}`),
  'kubelet-start',
  'etcd-join',
  'kubelet-wait-bootstrap',
  ...['', '/all', '/etcd', '/update-status', '/mark-control-plane'].map((s) => `control-plane-join${s}`),
  'wait-control-plane',
];

// --- output -------------------------------------------------------------------------------------

/** kubeadm's error handling (1.31): the message, a hint about --v=5, exit 1 (3 for validation). */
function report(ctx: Ctx, error: unknown): number {
  if (error instanceof FlagError) error = new Refusal(error.message, 1);
  if (!(error instanceof Refusal)) throw error;
  ctx.record.error = error.message;
  ctx.err(`${error.message}\nTo see the stack trace of this error execute with --v=5 or higher\n`);
  return error.code;
}

/** utilerrors.Aggregate's message. */
function aggregate(errors: string[]): string {
  const unique = [...new Set(errors)];
  return unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]`;
}

const q = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(v));
const invalid = (field: string, value: unknown, detail: string) => `${field}: Invalid value: ${q(value)}: ${detail}`;
const required = (field: string, detail: string) => `${field}: Required value: ${detail}`;

function versionInfo(ctx: Ctx) {
  const v = ctx.kubeVersion();
  const [major, minor] = v.slice(1).split('.');
  return {
    major: major ?? '1',
    minor: minor ?? '0',
    gitVersion: v,
    gitCommit: 'kiln-test-standin',
    gitTreeState: 'clean',
    buildDate: '2024-12-10T11:43:21Z',
    goVersion: 'go1.22.9',
    compiler: 'gc',
    platform: `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

// --- entry --------------------------------------------------------------------------------------

export async function kubeadm(args: string[], ctx: Ctx): Promise<number> {
  try {
    const { command, rest } = findCommand(args, GLOBAL);
    switch (command) {
      case undefined: {
        parseFlags(rest, GLOBAL, { normalizeUnderscores: true });
        ctx.out(`${STANDIN} kubeadm: easily bootstrap a secure Kubernetes cluster (TEST STAND-IN)\n\nUsage:\n  kubeadm [command]\n\nAvailable Commands:\n  init, join, reset, version\n`);
        return 0;
      }
      case 'version':
        return version(rest, ctx);
      case 'init':
        return await init(rest, ctx);
      case 'join':
        return await join(rest, ctx);
      case 'reset':
        return reset(rest, ctx);
      case 'certs':
      case 'completion':
      case 'config':
      case 'help':
      case 'kubeconfig':
      case 'token':
      case 'upgrade':
        throw new Refusal(`${STANDIN} "kubeadm ${command}" is not simulated by the test stand-in (only version, init, join and reset are)`);
      default:
        throw new Refusal(`unknown command "${command}" for "kubeadm"`);
    }
  } catch (error) {
    return report(ctx, error);
  }
}

function version(args: string[], ctx: Ctx): number {
  const p = parseFlags(args, { ...GLOBAL, output: { type: 'string', short: 'o' } }, { normalizeUnderscores: true });
  if (p.positional.length > 0) throw new Refusal(`unknown command "${p.positional[0]}" for "kubeadm version"`);
  const info = versionInfo(ctx);
  switch (str(p, 'output') ?? '') {
    case '':
      ctx.out(
        `kubeadm version: &version.Info{Major:"${info.major}", Minor:"${info.minor}", GitVersion:"${info.gitVersion}", GitCommit:"${info.gitCommit}", GitTreeState:"${info.gitTreeState}", BuildDate:"${info.buildDate}", GoVersion:"${info.goVersion}", Compiler:"${info.compiler}", Platform:"${info.platform}"}\n`,
      );
      return 0;
    case 'short':
      ctx.out(`${info.gitVersion}\n`);
      return 0;
    case 'json':
      ctx.out(`${JSON.stringify({ clientVersion: info }, null, 2)}\n`);
      return 0;
    case 'yaml':
      ctx.out(toYaml({ clientVersion: info }));
      return 0;
    default:
      throw new Refusal(`invalid output format: ${str(p, 'output')}`);
  }
}

// --- configuration ------------------------------------------------------------------------------

function checkMixedArguments(p: ParsedFlags): void {
  if (!p.values.has('config')) return;
  const mixed = p.changed.filter((f) => !ALLOWED_WITH_CONFIG.has(f) && !f.startsWith('skip-'));
  if (mixed.length > 0) throw new Refusal(`can not mix '--config' with arguments [${mixed.join(' ')}]`);
}

/** The documents of a --config file, split and typed the way kubeadm reads them. */
function loadConfigFile(ctx: Ctx, file: string): Doc[] {
  let text: string;
  try {
    text = ctx.read(file);
  } catch (error) {
    throw new Refusal(`unable to read config from "${file}" : ${(error as Error).message}`);
  }
  const parsed = parseYamlDocuments(text);
  if (parsed.error) throw new Refusal(parsed.error);
  const docs: Doc[] = [];
  const seen = new Set<string>();
  for (const d of parsed.docs) {
    if (d === null || d === undefined) continue;
    const doc = isMapping(d) ? d : {};
    const [group, ver] = typeof doc.apiVersion === 'string' && doc.apiVersion.includes('/') ? doc.apiVersion.split('/') : ['', String(doc.apiVersion ?? '')];
    if (!isMapping(d) || !doc.apiVersion || !doc.kind)
      throw new Refusal(`invalid configuration for GroupVersionKind ${group}/${ver}, Kind=${String(doc.kind ?? '')}: kind and apiVersion is mandatory information that must be specified`);
    const key = `${doc.apiVersion}/${doc.kind}`;
    if (seen.has(key)) throw new Refusal(`invalid configuration: kind "${String(doc.kind)}" is specified twice in YAML file`);
    seen.add(key);
    docs.push(doc);
  }
  return docs;
}

/** Decoding errors (real), then keys and values upstream does not define (kubeadm only warns). */
function checkDocuments(docs: Doc[]): void {
  const old = docs.find((d) => /^kubeadm\.k8s\.io\/v1(alpha[0-9]|beta[12])$/.test(String(d.apiVersion)));
  if (old)
    throw new Refusal(
      `your configuration file uses an old API spec: "${old.apiVersion}" (kind: "${old.kind}"). Please use kubeadm v1.22 instead and run 'kubeadm config migrate --old-config old.yaml --new-config new.yaml', which will write the new, similar spec using a newer API version.`,
    );
  const typeProblems = docs.flatMap((d) => kubeTypeProblems(d, LISTS));
  if (typeProblems.length > 0) throw new Refusal(aggregate(typeProblems));
  const problems = docs.flatMap((d) => {
    const found = kubeDocProblems(d, LISTS);
    if (d.apiVersion === 'kubeadm.k8s.io/v1beta3') return found.map((p) => `${p} (kubeadm.k8s.io/v1beta3 is deprecated; kiln renders ${KUBEADM})`);
    return found;
  });
  if (problems.length > 0)
    throw new Refusal(
      `${STANDIN} the config has documents, keys or values upstream does not define; kubeadm would only warn ("strict decoding error" / "Ignored YAML document") and drop them:\n${problems.map((p) => `\t- ${p}`).join('\n')}`,
      VALIDATION_EXIT,
    );
}

function byKind(docs: Doc[], apiVersion: string, kind: string): Doc[] {
  return docs.filter((d) => d.apiVersion === apiVersion && d.kind === kind);
}

function get(doc: Doc | undefined, dotted: string): any {
  let v: any = doc;
  for (const k of dotted.split('.')) v = v == null ? undefined : v[k];
  return v;
}

function set(doc: Doc, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let v: Doc = doc;
  for (const k of keys.slice(0, -1)) v = (v[k] ??= {}) as Doc;
  v[keys.at(-1)!] = value;
}

function defaultAddress(): string {
  for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) if (!a.internal && a.family === 'IPv4') return a.address;
  throw new Refusal('unable to select an IP from default routes.');
}

function nodeName(p: ParsedFlags, reg: Doc | undefined): string {
  return str(p, 'node-name') ?? (reg?.name as string | undefined) ?? hostname().trim().toLowerCase();
}

function randomToken(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const pick = (n: number) => [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('');
  return `${pick(6)}.${pick(16)}`;
}

function extraArgs(list: unknown): Array<{ name: string; value: string }> {
  return Array.isArray(list) ? (list as Array<{ name: string; value: string }>) : [];
}

function validateNodeRegistration(reg: Doc, field: string, errs: string[]): void {
  if (!reg.name) errs.push(required(field, '--node-name or .nodeRegistration.name in the config file is a required value. It seems like this value couldn\'t be automatically detected in your environment, please specify the desired value using the CLI or config file.'));
  else for (const e of isDns1123Subdomain(reg.name)) errs.push(invalid(`${field}.name`, reg.name, e));
  const socket = String(reg.criSocket ?? '');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(socket)?.[1];
  if (!socket) errs.push(invalid(`${field}.criSocket`, socket, 'empty CRI socket'));
  else if (scheme !== 'unix') errs.push(invalid(`${field}.criSocket`, socket, `only URL scheme "unix" is supported, got "${scheme ?? ''}"`));
  extraArgs(reg.kubeletExtraArgs).forEach((a, i) => {
    if (!a?.name) errs.push(invalid(`${field}.kubeletExtraArgs`, `index ${i}`, 'argument has no name'));
  });
}

function validateCertificateKey(key: unknown, field: string, errs: string[]): void {
  if (typeof key !== 'string' || key === '') return;
  if (!/^([0-9a-fA-F]{2})*$/.test(key)) {
    const bad = key.search(/[^0-9a-fA-F]/);
    errs.push(invalid(field, key, bad === -1 ? 'certificate key decoding error: encoding/hex: odd length hex string' : `certificate key decoding error: encoding/hex: invalid byte: U+${key.charCodeAt(bad).toString(16).toUpperCase().padStart(4, '0')} ${JSON.stringify(key[bad]).replace(/"/g, "'")}`));
  } else if (key.length / 2 !== 32) errs.push(invalid(field, key, `invalid certificate key size ${key.length / 2}, the key must be an AES key of size 32`));
}

function validateApiEndpoint(ep: Doc, field: string, errs: string[]): void {
  if (isIP(String(ep.advertiseAddress ?? '')) === 0) errs.push(invalid(`${field}.advertiseAddress`, ep.advertiseAddress ?? '', 'ip address is not valid'));
  if (!isValidPort(Number(ep.bindPort))) errs.push(invalid(`${field}.bindPort`, ep.bindPort, 'port number is not valid'));
}

function validateIgnorePreflight(fromFlags: string[], fromConfig: unknown): Set<string> {
  const all = new Set([...(Array.isArray(fromConfig) ? fromConfig.map(String) : []), ...fromFlags].map((s) => s.toLowerCase()));
  if (all.has('all') && all.size > 1) throw new Refusal(invalid('ignore-preflight-errors', [...all].sort().join(','), "don't specify individual checks if 'all' is used"), VALIDATION_EXIT);
  return all;
}

function checkPhases(skip: string[], known: string[]): Set<string> {
  for (const s of skip) if (!known.includes(s)) throw new Refusal(`invalid phase name: ${s}`);
  return new Set(skip);
}

function isSkipped(skip: Set<string>, phase: string): boolean {
  for (const s of skip) if (phase === s || phase.startsWith(`${s}/`)) return true;
  return false;
}

const DEFAULT_CRI = 'unix:///var/run/containerd/containerd.sock';

function defaultNodeRegistration(ctx: Ctx, reg: Doc): void {
  if (!reg.criSocket) reg.criSocket = DEFAULT_CRI;
  else if (String(reg.criSocket).startsWith('/')) {
    ctx.err(`W0000 00:00:00.000000       1 initconfiguration.go:126] Usage of CRI endpoints without URL scheme is deprecated and can cause kubelet errors in the future. Automatically prepending scheme "unix" to the "criSocket" with value "${reg.criSocket}". Please update your configuration!\n`);
    reg.criSocket = `unix://${reg.criSocket}`;
  }
}

// --- patches ------------------------------------------------------------------------------------

const PATCH_TARGETS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubeletconfiguration', 'corednsdeployment'];
const PATCH_TYPES: Record<string, string> = { json: 'application/json-patch+json', merge: 'application/merge-patch+json', strategic: 'application/strategic-merge-patch+json', '': 'application/strategic-merge-patch+json' };

interface PatchSet {
  file: string;
  target: string;
  type: string;
  patches: unknown[];
}

/** kubeadm's GetPatchManagerForPath: every file under the directory (recursively), named `target[suffix][+type].{json,yaml}`. */
function loadPatches(ctx: Ctx, dir: string | undefined): PatchSet[] {
  if (!dir) return [];
  const fail = (why: string) => new Refusal(`could not list patch files for path ${JSON.stringify(dir)}: ${why}`);
  let st;
  try {
    st = statSync(ctx.host(dir));
  } catch {
    throw fail(`lstat ${dir}: no such file or directory`);
  }
  if (!st.isDirectory()) throw fail('not a directory');
  const files = (readdirSync(ctx.host(dir), { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
  const ignored: string[] = [];
  const sets: PatchSet[] = [];
  for (const file of files) {
    const base = path.basename(file);
    if (!/.+\.(json|yaml)$/.test(base)) {
      ignored.push(`${base}: the file extension must be one of [json yaml]`);
      continue;
    }
    const m = new RegExp(`^(${PATCH_TARGETS.join('|')})([^.+\\n]*)?(\\+)?(json|merge|strategic)?`).exec(base);
    if (!m) {
      ignored.push(`${base}: unknown target, must be one of [${PATCH_TARGETS.join(' ')}]`);
      continue;
    }
    if (m[3] && !m[4]) throw fail(`unknown or missing patch type after '+', must be one of [json merge strategic]`);
    const text = (() => {
      try {
        return ctx.read(path.join(dir, path.relative(ctx.host(dir), file)));
      } catch (error) {
        throw fail(`could not read the file ${JSON.stringify(path.join(dir, path.relative(ctx.host(dir), file)))}: ${(error as Error).message}`);
      }
    })();
    if (text.length === 0) {
      ctx.warn(`[patches] Ignoring empty file: ${JSON.stringify(base)}`);
      continue;
    }
    const parsed = parseYamlDocuments(text);
    if (parsed.error) throw fail(`could not convert patch to JSON:\n${text}\n: ${parsed.error}`);
    sets.push({ file: base, target: m[1]!, type: m[4] ?? '', patches: parsed.docs.filter((d) => d !== null && d !== undefined) });
  }
  if (ignored.length > 0)
    throw new Refusal(
      `${STANDIN} kubeadm would silently ignore files in the patches directory ${JSON.stringify(dir)} ("[patches] Ignoring file"):\n${ignored.map((i) => `\t- ${i}`).join('\n')}`,
    );
  return sets;
}

function applyPatches(ctx: Ctx, sets: PatchSet[], target: string, data: unknown): unknown {
  let out = data;
  for (const set of sets.filter((s) => s.target === target)) {
    for (const patch of set.patches) {
      try {
        out = set.type === 'json' ? jsonPatch(out, patch) : set.type === 'merge' ? mergePatch(out, patch) : strategicMergePatch(out, patch);
      } catch (error) {
        throw new Refusal(`error execution phase patches: could not apply the following patch of type "${PATCH_TYPES[set.type]}" to target "${target}":\n${JSON.stringify(patch)}\n: ${(error as Error).message}`);
      }
      ctx.out(`[patches] Applied patch of type "${PATCH_TYPES[set.type]}" to target "${target}"\n`);
    }
  }
  return out;
}

// --- preflight ----------------------------------------------------------------------------------

interface Check {
  name: string;
  errors: string[];
  warnings?: string[];
}

function fileAvailable(ctx: Ctx, file: string): Check {
  return { name: `FileAvailable-${file.replace(/\//g, '-')}`, errors: ctx.exists(file) ? [`${file} already exists`] : [] };
}

function dirAvailable(ctx: Ctx, dir: string): Check {
  let empty = true;
  try {
    empty = readdirSync(ctx.host(dir)).length === 0;
  } catch {
    empty = true;
  }
  return { name: `DirAvailable-${dir.replace(/\//g, '-')}`, errors: empty ? [] : [`${dir} is not empty`] };
}

function machineChecks(ctx: Ctx, controlPlane: boolean): Check[] {
  const checks: Check[] = [];
  if (ctx.root === '/') {
    const uid = process.getuid?.() ?? 0;
    checks.push({ name: 'IsPrivilegedUser', errors: uid === 0 ? [] : ['user is not running as root'] });
  }
  if (controlPlane) {
    const cpus = Number(ctx.env.KILN_STANDIN_NUM_CPU) || availableParallelism();
    checks.push({ name: 'NumCPU', errors: cpus < 2 ? [`the number of available CPUs ${cpus} is less than the required 2`] : [] });
    const mem = Number(ctx.env.KILN_STANDIN_MEM_MB) || Math.floor(totalmem() / 1024 / 1024);
    checks.push({ name: 'Mem', errors: mem < 1700 ? [`the system RAM (${mem} MB) is less than the minimum 1700 MB`] : [] });
  }
  return checks;
}

function ipForwardCheck(ctx: Ctx): Check[] {
  if (ctx.root !== '/') return [];
  let content = '';
  try {
    content = ctx.read('/proc/sys/net/ipv4/ip_forward').trim();
  } catch {
    return [{ name: 'FileContent--proc-sys-net-ipv4-ip_forward', errors: ['/proc/sys/net/ipv4/ip_forward does not exist'] }];
  }
  return [{ name: 'FileContent--proc-sys-net-ipv4-ip_forward', errors: content === '1' ? [] : ['/proc/sys/net/ipv4/ip_forward contents are not set to 1'] }];
}

function runChecks(ctx: Ctx, checks: Check[], ignore: Set<string>): void {
  const errors: string[] = [];
  for (const c of checks) {
    const ignored = ignore.has('all') || ignore.has(c.name.toLowerCase());
    const warnings = [...(c.warnings ?? []), ...(ignored ? c.errors : [])];
    for (const w of warnings) {
      ctx.err(`\t[WARNING ${c.name}]: ${w}\n`);
      ctx.warn(`[WARNING ${c.name}]: ${w}`);
    }
    if (!ignored) for (const e of c.errors) errors.push(`\t[ERROR ${c.name}]: ${e}\n`);
  }
  if (errors.length > 0)
    throw new Refusal(
      `error execution phase preflight: [preflight] Some fatal errors occurred:\n${errors.join('')}[preflight] If you know what you are doing, you can make a check non-fatal with \`--ignore-preflight-errors=...\``,
    );
}

// --- kubelet ------------------------------------------------------------------------------------

const KUBELET_LABELS = new Set([
  'kubernetes.io/hostname',
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
  'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/instance-type',
  'kubernetes.io/os',
  'kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
]);

/** The node labels the kubelet registers with (--node-labels), or the kubelet's own refusal. */
function kubeletNodeLabels(reg: Doc): { labels: Record<string, string>; kubeletError?: string } {
  const labels: Record<string, string> = {};
  for (const a of extraArgs(reg.kubeletExtraArgs).filter((x) => x.name === 'node-labels')) {
    for (const pair of String(a.value ?? '').split(',').filter(Boolean)) {
      const [k, v = ''] = pair.split('=');
      labels[k!] = v;
    }
  }
  const bad = Object.keys(labels).filter((k) => {
    if (KUBELET_LABELS.has(k)) return false;
    const ns = k.includes('/') ? k.split('/')[0]! : '';
    const restricted = ns === 'kubernetes.io' || ns === 'k8s.io' || ns.endsWith('.kubernetes.io') || ns.endsWith('.k8s.io');
    const allowedNs = ['kubelet.kubernetes.io', 'node.kubernetes.io'].some((a) => ns === a || ns.endsWith(`.${a}`));
    return restricted && !allowedNs;
  });
  if (bad.length === 0) return { labels };
  return {
    labels,
    kubeletError: `unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels: [${bad.join(' ')}]\n--node-labels in the 'kubernetes.io' namespace must begin with an allowed prefix (kubelet.kubernetes.io, node.kubernetes.io) or be in the specifically allowed set (${[...KUBELET_LABELS].sort().join(', ')})`,
  };
}

function kubeletFailure(phase: string, kubeletError: string): Refusal {
  return new Refusal(
    `${STANDIN} the kubelet would exit at start: ${kubeletError}\n` +
      `[kubelet-check] The kubelet is not healthy after 4m0s\n\nUnfortunately, an error has occurred, likely caused by:\n\t- The kubelet is not running\n\t- The kubelet is unhealthy due to a misconfiguration of the node in some way (required cgroups disabled)\n\n` +
      `If you are on a systemd-powered system, you can try to troubleshoot the error with the following commands:\n\t- 'systemctl status kubelet'\n\t- 'journalctl -xeu kubelet'\n\nerror execution phase ${phase}: could not initialize a Kubernetes cluster`,
  );
}

/** What kubeadm writes to /var/lib/kubelet/config.yaml: its defaults under the given document, then patches. */
function kubeletConfig(ctx: Ctx, given: Doc | undefined, cluster: Doc, reg: Doc, patches: PatchSet[]): Doc {
  const subnet = String(get(cluster, 'networking.serviceSubnet') ?? '10.96.0.0/12').split(',')[0]!;
  const cidrs = validateSubnets(subnet, 0).cidrs;
  const defaults: Doc = {
    apiVersion: KUBELET,
    kind: 'KubeletConfiguration',
    authentication: { anonymous: { enabled: false }, webhook: { cacheTTL: '0s', enabled: true }, x509: { clientCAFile: `${get(cluster, 'certificatesDir') ?? '/etc/kubernetes/pki'}/ca.crt` } },
    authorization: { mode: 'Webhook', webhook: { cacheAuthorizedTTL: '0s', cacheUnauthorizedTTL: '0s' } },
    cgroupDriver: 'systemd',
    clusterDNS: cidrs[0] ? [nthAddress(cidrs[0], 10)] : [],
    clusterDomain: get(cluster, 'networking.dnsDomain') ?? 'cluster.local',
    containerRuntimeEndpoint: reg.criSocket ?? DEFAULT_CRI,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    rotateCertificates: true,
    staticPodPath: '/etc/kubernetes/manifests',
  };
  const merged = mergePatch(defaults, given ?? {}) as Doc;
  return applyPatches(ctx, patches, 'kubeletconfiguration', merged) as Doc;
}

function kubeadmFlagsEnv(reg: Doc): string {
  const args = extraArgs(reg.kubeletExtraArgs).map((a) => `--${a.name}=${a.value ?? ''}`);
  return `KUBELET_KUBEADM_ARGS="${[`--container-runtime-endpoint=${reg.criSocket ?? DEFAULT_CRI}`, ...args].join(' ')}"\n`;
}

function staticPod(name: string, image: string, command: string[]): Doc {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { annotations: { 'kiln-test-standin': 'stub static Pod written by the kubeadm stand-in' }, labels: { component: name, tier: 'control-plane' }, name, namespace: 'kube-system' },
    spec: { containers: [{ command, image, name }], hostNetwork: true, priorityClassName: 'system-node-critical' },
  };
}

function caHash(ctx: Ctx, file: string): string {
  let data: string;
  try {
    data = ctx.read(file);
  } catch {
    return 'sha256:' + '0'.repeat(64);
  }
  try {
    const der = new X509Certificate(data).publicKey.export({ type: 'spki', format: 'der' });
    return `sha256:${createHash('sha256').update(der).digest('hex')}`;
  } catch {
    return `sha256:${createHash('sha256').update(data).digest('hex')}`;
  }
}

const STUB_PEM = (what: string) => `-----BEGIN ${what}-----\nkiln-test-standin stub\n-----END ${what}-----\n`;

function writeCerts(ctx: Ctx, dir: string, shared: boolean): void {
  const files: Array<[string, string, number]> = [
    ['ca.crt', STUB_PEM('CERTIFICATE'), 0o644],
    ['ca.key', STUB_PEM('RSA PRIVATE KEY'), 0o600],
    ['sa.key', STUB_PEM('RSA PRIVATE KEY'), 0o600],
    ['sa.pub', STUB_PEM('PUBLIC KEY'), 0o644],
    ['front-proxy-ca.crt', STUB_PEM('CERTIFICATE'), 0o644],
    ['front-proxy-ca.key', STUB_PEM('RSA PRIVATE KEY'), 0o600],
    ['etcd/ca.crt', STUB_PEM('CERTIFICATE'), 0o644],
    ['etcd/ca.key', STUB_PEM('RSA PRIVATE KEY'), 0o600],
  ];
  for (const [f, data, mode] of files) if (!ctx.exists(`${dir}/${f}`)) ctx.write(`${dir}/${f}`, data, mode);
  if (!shared) for (const f of ['apiserver.crt', 'apiserver.key', 'apiserver-kubelet-client.crt', 'apiserver-kubelet-client.key']) if (!ctx.exists(`${dir}/${f}`)) ctx.write(`${dir}/${f}`, STUB_PEM(f.endsWith('.key') ? 'RSA PRIVATE KEY' : 'CERTIFICATE'), f.endsWith('.key') ? 0o600 : 0o644);
}

function writeControlPlane(ctx: Ctx, cfg: { cluster: Doc; endpoint: Doc; name: string }, patches: PatchSet[], skip: Set<string>, phases: { etcd: string; cp: string }): void {
  const manifests = '/etc/kubernetes/manifests';
  const v = String(cfg.cluster.kubernetesVersion);
  const repo = String(cfg.cluster.imageRepository ?? 'registry.k8s.io');
  const pods: Array<[string, string, Doc, string]> = [
    ['kube-apiserver', `${phases.cp}/apiserver`, staticPod('kube-apiserver', `${repo}/kube-apiserver:${v}`, ['kube-apiserver', `--advertise-address=${cfg.endpoint.advertiseAddress}`, `--secure-port=${cfg.endpoint.bindPort}`]), ''],
    ['kube-controller-manager', `${phases.cp}/controller-manager`, staticPod('kube-controller-manager', `${repo}/kube-controller-manager:${v}`, ['kube-controller-manager']), ''],
    ['kube-scheduler', `${phases.cp}/scheduler`, staticPod('kube-scheduler', `${repo}/kube-scheduler:${v}`, ['kube-scheduler']), ''],
  ];
  if (!cfg.cluster.etcd?.external) pods.push(['etcd', phases.etcd, staticPod('etcd', `${repo}/etcd:3.5.15-0`, ['etcd', `--data-dir=${cfg.cluster.etcd?.local?.dataDir ?? '/var/lib/etcd'}`]), '']);
  for (const [name, phase, pod] of pods) {
    if (isSkipped(skip, phase)) continue;
    const patched = applyPatches(ctx, patches, name, pod);
    ctx.write(`${manifests}/${name}.yaml`, toYaml(patched), 0o600);
    ctx.out(name === 'etcd' ? `[etcd] Creating static Pod manifest for local etcd in "${manifests}"\n` : `[control-plane] Creating static Pod manifest for "${name}"\n`);
    if (name === 'etcd') ctx.mkdir(`${cfg.cluster.etcd?.local?.dataDir ?? '/var/lib/etcd'}/member`, 0o700);
  }
}

function registerNode(state: ClusterState, name: string, labels: Record<string, string>, taints: Doc[] | undefined, controlPlane: boolean): void {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  state.nodes[name] = {
    labels: {
      'beta.kubernetes.io/arch': arch,
      'beta.kubernetes.io/os': 'linux',
      'kubernetes.io/arch': arch,
      'kubernetes.io/hostname': name,
      'kubernetes.io/os': 'linux',
      ...labels,
      ...(controlPlane ? { 'node-role.kubernetes.io/control-plane': '', 'node.kubernetes.io/exclude-from-external-load-balancers': '' } : {}),
    },
    taints: (taints ?? (controlPlane ? [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] : [])).map((t) => ({ key: String(t.key), ...(t.value !== undefined ? { value: String(t.value) } : {}), effect: String(t.effect) })),
    registered: new Date().toISOString(),
    controlPlane,
  };
}

function endpointWithPort(endpoint: string, port: number): string {
  const split = splitHostPort(endpoint);
  if ('host' in split) return endpoint;
  return isIP(endpoint) === 6 ? `[${endpoint}]:${port}` : `${endpoint}:${port}`;
}

function checkKubernetesVersion(ctx: Ctx, cluster: Doc): Check[] {
  const client = ctx.kubeVersion();
  let wanted = cluster.kubernetesVersion as string | undefined;
  if (!wanted || !/^v?[0-9]+\.[0-9]+\.[0-9]+/.test(wanted)) {
    const label = wanted ?? 'stable-1';
    ctx.err(
      `W0000 00:00:00.000000       1 version.go:104] could not fetch a Kubernetes version from the internet: unable to get URL "https://dl.k8s.io/release/${label}.txt": ${STANDIN} no network\nW0000 00:00:00.000000       1 version.go:105] falling back to the local client version: ${client}\n`,
    );
    ctx.warn(`kubernetesVersion ${JSON.stringify(label)} needs the internet; fell back to the client version ${client}`);
    wanted = client;
  }
  const m = /^v?([0-9]+)\.([0-9]+)\.([0-9]+)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.exec(wanted);
  if (!m) throw new Refusal(`couldn't parse Kubernetes version ${JSON.stringify(wanted)}: could not parse ${JSON.stringify(wanted)} as version`);
  cluster.kubernetesVersion = wanted.startsWith('v') ? wanted : `v${wanted}`;
  const [cMajor, cMinor] = client.slice(1).split('.').map(Number) as [number, number];
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major < cMajor || (major === cMajor && minor < cMinor - 1))
    throw new Refusal(`this version of kubeadm only supports deploying clusters with the control plane version >= ${cMajor}.${cMinor - 1}.0. Current version: ${wanted}`);
  if (major > cMajor || (major === cMajor && minor > cMinor))
    return [{ name: 'KubernetesVersion', errors: [], warnings: [`Kubernetes version is greater than kubeadm version. Please consider to upgrade kubeadm. Kubernetes version: ${wanted.replace(/^v/, '')}. Kubeadm version: ${cMajor}.${cMinor}.x`] }];
  return [];
}

// --- init ---------------------------------------------------------------------------------------

function docsFromInitFlags(p: ParsedFlags): Doc[] {
  const init: Doc = { apiVersion: KUBEADM, kind: 'InitConfiguration' };
  const cluster: Doc = { apiVersion: KUBEADM, kind: 'ClusterConfiguration' };
  const s = (flag: string, doc: Doc, key: string) => {
    const v = str(p, flag);
    if (v !== undefined) set(doc, key, v);
  };
  s('apiserver-advertise-address', init, 'localAPIEndpoint.advertiseAddress');
  if (p.values.has('apiserver-bind-port')) set(init, 'localAPIEndpoint.bindPort', p.values.get('apiserver-bind-port'));
  s('certificate-key', init, 'certificateKey');
  s('cri-socket', init, 'nodeRegistration.criSocket');
  s('node-name', init, 'nodeRegistration.name');
  s('patches', init, 'patches.directory');
  if (p.values.has('token') || p.values.has('token-ttl')) init.bootstrapTokens = [{ ...(str(p, 'token') ? { token: str(p, 'token') } : {}), ...(str(p, 'token-ttl') ? { ttl: str(p, 'token-ttl') } : {}) }];
  s('control-plane-endpoint', cluster, 'controlPlaneEndpoint');
  s('kubernetes-version', cluster, 'kubernetesVersion');
  s('image-repository', cluster, 'imageRepository');
  s('cert-dir', cluster, 'certificatesDir');
  s('pod-network-cidr', cluster, 'networking.podSubnet');
  s('service-cidr', cluster, 'networking.serviceSubnet');
  s('service-dns-domain', cluster, 'networking.dnsDomain');
  if (list(p, 'apiserver-cert-extra-sans').length > 0) set(cluster, 'apiServer.certSANs', list(p, 'apiserver-cert-extra-sans'));
  const gates = str(p, 'feature-gates');
  if (gates) cluster.featureGates = Object.fromEntries(gates.split(',').map((kv) => kv.split('=')).map(([k, v]) => [k, v === 'true']));
  return [init, cluster];
}

function validateCluster(cluster: Doc, errs: string[]): void {
  const net = cluster.networking ?? {};
  for (const e of isDns1123Subdomain(String(net.dnsDomain))) errs.push(invalid('networking.dnsDomain', net.dnsDomain, e));
  if (net.serviceSubnet) {
    const { cidrs, errors } = validateSubnets(String(net.serviceSubnet), 10);
    for (const e of errors) errs.push(invalid('networking.serviceSubnet', net.serviceSubnet, e));
    for (const c of cidrs) if (c.bits - c.prefix > 20) errs.push(invalid('networking.serviceSubnet', c.text, `specified service subnet is too large; for ${c.bits}-bit addresses, the mask must be >= ${c.bits - 20}`));
  }
  if (net.podSubnet) {
    const { cidrs, errors } = validateSubnets(String(net.podSubnet), 14);
    for (const e of errors) errs.push(invalid('networking.podSubnet', net.podSubnet, e));
    const cmArgs = extraArgs(cluster.controllerManager?.extraArgs);
    if (cmArgs.find((a) => a.name === 'allocate-node-cidrs')?.value !== 'false')
      for (const c of cidrs) {
        const arg = cmArgs.find((a) => a.name === (c.bits === 128 ? 'node-cidr-mask-size-ipv6' : 'node-cidr-mask-size-ipv4'))?.value;
        const nodeMask = arg !== undefined ? Number(arg) : c.bits === 128 ? 64 : 24;
        if (c.prefix > nodeMask) errs.push(invalid('networking.podSubnet', c.text, `the size of pod subnet with mask ${c.prefix} is smaller than the size of node subnet with mask ${nodeMask}`));
        else if (nodeMask - c.prefix > 16) errs.push(invalid('networking.podSubnet', c.text, `pod subnet mask (${c.prefix}) and node-mask (${nodeMask}) difference is greater than 16`));
      }
  }
  if (!String(cluster.certificatesDir ?? '').startsWith('/')) errs.push(invalid('certificatesDir', cluster.certificatesDir ?? '', 'path is not absolute'));
  if (cluster.controlPlaneEndpoint && !parseHostPort(String(cluster.controlPlaneEndpoint))) errs.push(invalid('controlPlaneEndpoint', cluster.controlPlaneEndpoint, 'endpoint is not valid'));
  for (const san of (cluster.apiServer?.certSANs ?? []) as string[])
    if (isIP(san) === 0 && isDns1123Subdomain(san.replace(/^\*\./, '')).length > 0) errs.push(invalid('apiServer.certSANs', san, 'altname is not a valid IP address, DNS label or a DNS label with subdomain wildcards'));
  for (const [comp, field] of [
    [cluster.apiServer, 'apiServer.extraArgs'],
    [cluster.controllerManager, 'controllerManager.extraArgs'],
    [cluster.scheduler, 'scheduler.extraArgs'],
    [cluster.etcd?.local, 'etcd.local.extraArgs'],
  ] as const)
    extraArgs(comp?.extraArgs).forEach((a, i) => {
      if (!a?.name) errs.push(invalid(field, `index ${i}`, 'argument has no name'));
    });
  const etcd = cluster.etcd ?? {};
  if (etcd.local && etcd.external) errs.push(invalid('etcd', '', '.Etcd.Local and .Etcd.External are mutually exclusive'));
  if (etcd.local && !String(etcd.local.dataDir ?? '').startsWith('/')) errs.push(invalid('etcd.local.dataDir', etcd.local.dataDir ?? '', 'path is not absolute'));
}

async function init(args: string[], ctx: Ctx): Promise<number> {
  const p = parseFlags(args, { ...GLOBAL, ...INIT_FLAGS }, { normalizeUnderscores: true });
  if (bool(p, 'help')) {
    ctx.out(`${STANDIN} Run this command in order to set up the Kubernetes control plane\n\nUsage:\n  kubeadm init [flags]\n`);
    return 0;
  }
  if (p.positional[0] === 'phase') throw new Refusal(`${STANDIN} "kubeadm init phase" is not simulated by the test stand-in`);
  if (p.positional.length > 0) throw new Refusal(`unknown command "${p.positional[0]}" for "kubeadm init"`);
  checkMixedArguments(p);

  const docs = p.values.has('config') ? loadConfigFile(ctx, str(p, 'config')!) : docsFromInitFlags(p);
  ctx.record.config = structuredClone(docs);
  checkDocuments(docs);
  const inits = byKind(docs, KUBEADM, 'InitConfiguration');
  const clusters = byKind(docs, KUBEADM, 'ClusterConfiguration');
  if (inits.length !== 1) throw new Refusal(`${STANDIN} kubeadm init: the config needs exactly one ${KUBEADM} InitConfiguration (kiln always renders one); found ${inits.length}`, VALIDATION_EXIT);
  for (const d of docs.filter((d) => d.apiVersion === KUBEADM && !['InitConfiguration', 'ClusterConfiguration'].includes(d.kind)))
    ctx.warn(`[config] WARNING: Ignored configuration document with GroupVersionKind ${KUBEADM}, Kind=${d.kind}`);
  const initCfg = structuredClone(inits[0]!);
  const cluster: Doc = structuredClone(clusters[0] ?? { apiVersion: KUBEADM, kind: 'ClusterConfiguration' });
  const kubeletDoc = byKind(docs, KUBELET, 'KubeletConfiguration')[0];

  // defaulting
  const reg: Doc = (initCfg.nodeRegistration ??= {});
  reg.name = nodeName(p, reg);
  defaultNodeRegistration(ctx, reg);
  const endpoint: Doc = (initCfg.localAPIEndpoint ??= {});
  endpoint.advertiseAddress ??= defaultAddress();
  if (!endpoint.bindPort) endpoint.bindPort = 6443;
  cluster.clusterName ??= 'kubernetes';
  cluster.certificatesDir ??= '/etc/kubernetes/pki';
  const net: Doc = (cluster.networking ??= {});
  net.serviceSubnet ??= '10.96.0.0/12';
  net.dnsDomain ??= 'cluster.local';
  cluster.etcd ??= {};
  if (!cluster.etcd.external) cluster.etcd.local = { dataDir: '/var/lib/etcd', ...(cluster.etcd.local ?? {}) };
  if (!Array.isArray(initCfg.bootstrapTokens) || initCfg.bootstrapTokens.length === 0) initCfg.bootstrapTokens = [{}];
  for (const t of initCfg.bootstrapTokens as Doc[]) t.token ??= randomToken();

  // validation (kubeadm's ValidateInitConfiguration)
  const errs: string[] = [];
  validateNodeRegistration(reg, 'nodeRegistration', errs);
  (initCfg.bootstrapTokens as Doc[]).forEach((t, i) => {
    if (!TOKEN.test(String(t.token))) errs.push(invalid(`bootstrapTokens[${i}].token`, t.token, 'the bootstrap token is invalid'));
    if (t.expires !== undefined && t.ttl !== undefined) errs.push(invalid(`bootstrapTokens[${i}]`, '', 'the BootstrapToken .TTL and .Expires fields are mutually exclusive'));
    for (const g of (t.groups ?? []) as string[])
      if (!/^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/.test(g)) errs.push(invalid(`bootstrapTokens[${i}].groups`, g, `bootstrap group ${JSON.stringify(g)} is invalid (must match ^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$)`));
  });
  validateCluster(cluster, errs);
  validateApiEndpoint(endpoint, 'localAPIEndpoint', errs);
  validateCertificateKey(initCfg.certificateKey, 'certificateKey', errs);
  if (errs.length > 0) throw new Refusal(aggregate(errs), VALIDATION_EXIT);
  const ignore = validateIgnorePreflight(list(p, 'ignore-preflight-errors'), reg.ignorePreflightErrors);
  const skip = checkPhases(p.values.has('skip-phases') ? list(p, 'skip-phases') : ((initCfg.skipPhases ?? []) as string[]), INIT_PHASES);
  const versionChecks = checkKubernetesVersion(ctx, cluster);
  const dryRun = bool(p, 'dry-run') || initCfg.dryRun === true;

  ctx.out(`[init] Using Kubernetes version: ${cluster.kubernetesVersion}\n`);
  if (!isSkipped(skip, 'preflight')) {
    ctx.out('[preflight] Running pre-flight checks\n');
    const manifests = '/etc/kubernetes/manifests';
    runChecks(
      ctx,
      [
        ...machineChecks(ctx, true),
        ...versionChecks,
        ...['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'].map((c) => fileAvailable(ctx, `${manifests}/${c}.yaml`)),
        ...ipForwardCheck(ctx),
        ...(cluster.etcd.local ? [dirAvailable(ctx, String(cluster.etcd.local.dataDir))] : []),
      ],
      ignore,
    );
    ctx.out("[preflight] Pulling images required for setting up a Kubernetes cluster\n[preflight] This might take a minute or two, depending on the speed of your internet connection\n[preflight] You can also perform this action beforehand using 'kubeadm config images pull'\n");
  }
  const patches = loadPatches(ctx, initCfg.patches?.directory);

  const uploadCerts = bool(p, 'upload-certs') && !isSkipped(skip, 'upload-certs');
  if (bool(p, 'upload-certs') && !initCfg.certificateKey) initCfg.certificateKey = randomBytes(32).toString('hex');
  const { labels, kubeletError } = kubeletNodeLabels(reg);
  const certDir = String(cluster.certificatesDir);
  const token = String((initCfg.bootstrapTokens as Doc[])[0]!.token);
  const cpEndpoint = cluster.controlPlaneEndpoint ? endpointWithPort(String(cluster.controlPlaneEndpoint), Number(endpoint.bindPort)) : endpointWithPort(String(endpoint.advertiseAddress), Number(endpoint.bindPort));
  const server = `https://${cpEndpoint}`;

  if (dryRun) {
    ctx.out(`[dryrun] ${STANDIN} would write certificates, kubeconfigs, static Pod manifests and the kubelet configuration; nothing was written\n`);
  } else {
    if (!isSkipped(skip, 'certs')) {
      ctx.out(`[certs] Using certificateDir folder "${certDir}"\n`);
      if (ctx.exists(`${certDir}/ca.crt`)) ctx.out('[certs] Using existing ca certificate authority\n');
      writeCerts(ctx, certDir, false);
    }
    if (!isSkipped(skip, 'kubeconfig')) {
      ctx.out('[kubeconfig] Using kubeconfig folder "/etc/kubernetes"\n');
      const ca = (() => {
        try {
          return Buffer.from(ctx.read(`${certDir}/ca.crt`)).toString('base64');
        } catch {
          return undefined;
        }
      })();
      const clusterName = String(cluster.clusterName);
      const files: Array<[string, string, string]> = [
        ['admin', 'admin.conf', 'kubernetes-admin'],
        ['super-admin', 'super-admin.conf', 'kubernetes-super-admin'],
        ['kubelet', 'kubelet.conf', `system:node:${reg.name}`],
        ['controller-manager', 'controller-manager.conf', 'system:kube-controller-manager'],
        ['scheduler', 'scheduler.conf', 'system:kube-scheduler'],
      ];
      for (const [phase, file, user] of files) {
        if (isSkipped(skip, `kubeconfig/${phase}`)) continue;
        ctx.out(`[kubeconfig] Writing "${file}" kubeconfig file\n`);
        const local = phase === 'controller-manager' || phase === 'scheduler' ? `https://${endpointWithPort(String(endpoint.advertiseAddress), Number(endpoint.bindPort))}` : server;
        ctx.write(`/etc/kubernetes/${file}`, makeKubeconfig({ server: local, clusterName, user, ...(ca ? { caData: ca } : {}) }), 0o600);
      }
    }
    ctx.out('[control-plane] Using manifest folder "/etc/kubernetes/manifests"\n');
    writeControlPlane(ctx, { cluster, endpoint, name: reg.name }, patches, skip, { etcd: 'etcd/local', cp: 'control-plane' });
    if (!isSkipped(skip, 'kubelet-start')) {
      ctx.out('[kubelet-start] Writing kubelet environment file with flags to file "/var/lib/kubelet/kubeadm-flags.env"\n');
      ctx.write('/var/lib/kubelet/kubeadm-flags.env', kubeadmFlagsEnv(reg));
      ctx.out('[kubelet-start] Writing kubelet configuration to file "/var/lib/kubelet/config.yaml"\n');
      ctx.write('/var/lib/kubelet/config.yaml', toYaml(kubeletConfig(ctx, kubeletDoc, cluster, reg, patches)));
      ctx.out('[kubelet-start] Starting the kubelet\n');
    }
    if (kubeletError) throw kubeletFailure('wait-control-plane', kubeletError);
    ctx.out('[wait-control-plane] Waiting for the kubelet to boot up the control plane as static Pods from directory "/etc/kubernetes/manifests"\n[api-check] The API server is healthy after 1.0s\n');
  }
  if (!isSkipped(skip, 'upload-config')) ctx.out('[upload-config] Storing the configuration used in ConfigMap "kubeadm-config" in the "kube-system" Namespace\n');
  if (uploadCerts) {
    ctx.out('[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace\n');
    ctx.out(`[upload-certs] Using certificate key:\n${bool(p, 'skip-certificate-key-print') ? '' : `${initCfg.certificateKey}\n`}`);
  } else if (!isSkipped(skip, 'upload-certs')) ctx.out('[upload-certs] Skipping phase. Please see --upload-certs\n');
  const taints = Array.isArray(reg.taints) ? (reg.taints as Doc[]) : undefined;
  if (!isSkipped(skip, 'mark-control-plane'))
    ctx.out(
      `[mark-control-plane] Marking the node ${reg.name} as control-plane by adding the labels: [node-role.kubernetes.io/control-plane node.kubernetes.io/exclude-from-external-load-balancers]\n` +
        `[mark-control-plane] Marking the node ${reg.name} as control-plane by adding the taints [${(taints ?? [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`).join(' ')}]\n`,
    );
  if (!isSkipped(skip, 'bootstrap-token')) {
    if (!bool(p, 'skip-token-print')) ctx.out(`[bootstrap-token] Using token: ${token}\n`);
    ctx.out('[bootstrap-token] Configuring bootstrap tokens, cluster-info ConfigMap, RBAC Roles\n');
  }
  if (!isSkipped(skip, 'addon/coredns')) ctx.out('[addons] Applied essential addon: CoreDNS\n');
  if (!isSkipped(skip, 'addon/kube-proxy')) ctx.out('[addons] Applied essential addon: kube-proxy\n');

  if (!dryRun) {
    const state = ctx.loadState();
    registerNode(state, reg.name, labels, isSkipped(skip, 'mark-control-plane') ? [] : taints, !isSkipped(skip, 'mark-control-plane'));
    ctx.saveState(state);
  }

  if (!isSkipped(skip, 'show-join-command')) {
    const shownToken = bool(p, 'skip-token-print') ? '<value withheld>' : token;
    const shownKey = bool(p, 'skip-certificate-key-print') ? '<value withheld>' : String(initCfg.certificateKey);
    const join = `kubeadm join ${cpEndpoint} --token ${shownToken} \\\n\t--discovery-token-ca-cert-hash ${caHash(ctx, `${certDir}/ca.crt`)}`;
    ctx.out(
      `\nYour Kubernetes control-plane has initialized successfully!\n\nTo start using your cluster, you need to run the following as a regular user:\n\n  mkdir -p $HOME/.kube\n  sudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config\n  sudo chown $(id -u):$(id -g) $HOME/.kube/config\n\nAlternatively, if you are the root user, you can run:\n\n  export KUBECONFIG=/etc/kubernetes/admin.conf\n\nYou should now deploy a pod network to the cluster.\nRun "kubectl apply -f [podnetwork].yaml" with one of the options listed at:\n  https://kubernetes.io/docs/concepts/cluster-administration/addons/\n\n`,
    );
    if (cluster.controlPlaneEndpoint)
      ctx.out(
        uploadCerts
          ? `You can now join any number of control-plane nodes running the following command on each as root:\n\n  ${join} \\\n\t--control-plane --certificate-key ${shownKey}\n\nPlease note that the certificate-key gives access to cluster sensitive data, keep it secret!\nAs a safeguard, uploaded-certs will be deleted in two hours; If necessary, you can use\n"kubeadm init phase upload-certs --upload-certs" to reload certs afterward.\n\n`
          : `You can now join any number of control-plane nodes by copying certificate authorities\nand service account keys on each node and then running the following as root:\n\n  ${join} \\\n\t--control-plane\n\n`,
      );
    ctx.out(`Then you can join any number of worker nodes by running the following on each as root:\n\n${join}\n`);
  }
  return 0;
}

// --- join ---------------------------------------------------------------------------------------

function docsFromJoinFlags(p: ParsedFlags): Doc[] {
  const j: Doc = { apiVersion: KUBEADM, kind: 'JoinConfiguration' };
  const token = str(p, 'token');
  const endpoint = p.positional[0];
  if (str(p, 'discovery-file')) j.discovery = { file: { kubeConfigPath: str(p, 'discovery-file') } };
  else if (str(p, 'discovery-token') ?? token ?? endpoint) {
    j.discovery = {
      bootstrapToken: {
        ...(endpoint ? { apiServerEndpoint: endpoint } : {}),
        token: str(p, 'discovery-token') ?? token ?? '',
        ...(list(p, 'discovery-token-ca-cert-hash').length ? { caCertHashes: list(p, 'discovery-token-ca-cert-hash') } : {}),
        ...(bool(p, 'discovery-token-unsafe-skip-ca-verification') ? { unsafeSkipCAVerification: true } : {}),
      },
    };
  }
  const tls = str(p, 'tls-bootstrap-token') ?? token;
  if (tls) (j.discovery ??= {}).tlsBootstrapToken = tls;
  if (str(p, 'node-name')) set(j, 'nodeRegistration.name', str(p, 'node-name'));
  if (str(p, 'cri-socket')) set(j, 'nodeRegistration.criSocket', str(p, 'cri-socket'));
  if (str(p, 'patches')) set(j, 'patches.directory', str(p, 'patches'));
  if (bool(p, 'control-plane')) {
    j.controlPlane = {};
    if (str(p, 'certificate-key')) j.controlPlane.certificateKey = str(p, 'certificate-key');
    if (str(p, 'apiserver-advertise-address')) set(j, 'controlPlane.localAPIEndpoint.advertiseAddress', str(p, 'apiserver-advertise-address'));
    if (p.values.has('apiserver-bind-port')) set(j, 'controlPlane.localAPIEndpoint.bindPort', p.values.get('apiserver-bind-port'));
  }
  return [j];
}

function validateJoin(ctx: Ctx, j: Doc): string[] {
  const errs: string[] = [];
  const d: Doc = j.discovery ?? {};
  if (!d.bootstrapToken && !d.file) errs.push(invalid('discovery', '', 'bootstrapToken or file must be set'));
  if (d.bootstrapToken && d.file) errs.push(invalid('discovery', '', 'bootstrapToken and file cannot both be set'));
  if (d.bootstrapToken) {
    const b: Doc = d.bootstrapToken;
    if (!b.apiServerEndpoint) errs.push(required('discovery.bootstrapToken', 'APIServerEndpoint is not set'));
    if ((!Array.isArray(b.caCertHashes) || b.caCertHashes.length === 0) && b.unsafeSkipCAVerification !== true)
      errs.push(
        invalid('discovery.bootstrapToken.caCertHashes', '', 'using token-based discovery without caCertHashes can be unsafe. Set unsafeSkipCAVerification as true in your kubeadm config file or pass --discovery-token-unsafe-skip-ca-verification flag to continue'),
      );
    if (!TOKEN.test(String(b.token ?? ''))) errs.push(invalid('discovery.bootstrapToken.token', b.token ?? '', 'the bootstrap token is invalid'));
    const hp = splitHostPort(String(b.apiServerEndpoint ?? ''));
    if ('error' in hp) errs.push(invalid('discovery.bootstrapToken.apiServerEndpoint', b.apiServerEndpoint ?? '', hp.error));
    if (!TOKEN.test(String(d.tlsBootstrapToken ?? ''))) errs.push(invalid('discovery.tlsBootstrapToken', d.tlsBootstrapToken ?? '', 'the bootstrap token is invalid'));
  }
  if (d.file) {
    const file = String(d.file.kubeConfigPath ?? '');
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(file)?.[1];
    if (!scheme && !ctx.exists(file)) errs.push(invalid('discovery.file.kubeConfigPath', file, 'not a valid HTTPS URL or a file on disk'));
    else if (scheme && scheme !== 'https') errs.push(invalid('discovery.file.kubeConfigPath', file, 'if a URL is used, the scheme must be https'));
    if (d.tlsBootstrapToken && !TOKEN.test(String(d.tlsBootstrapToken))) errs.push(invalid('discovery.tlsBootstrapToken', d.tlsBootstrapToken, 'the bootstrap token is invalid'));
  }
  validateNodeRegistration(j.nodeRegistration, 'nodeRegistration', errs);
  if (j.controlPlane) {
    validateApiEndpoint(j.controlPlane.localAPIEndpoint ?? {}, 'controlPlane.localAPIEndpoint', errs);
    validateCertificateKey(j.controlPlane.certificateKey, 'controlPlane.certificateKey', errs);
  }
  if (!String(j.caCertPath).startsWith('/') || !String(j.caCertPath).endsWith('.crt')) errs.push(invalid('caCertPath', j.caCertPath, 'the ca certificate path must be an absolute path'));
  return errs;
}

/** pubkeypin's checks of --discovery-token-ca-cert-hash values. */
function checkPins(hashes: string[]): void {
  for (const h of hashes) {
    const parts = h.split(':');
    if (parts.length !== 2) throw new Refusal(`error execution phase preflight: couldn't validate the identity of the API Server: invalid hash, expected "format:hex-value"`);
    const [format, value] = parts as [string, string];
    if (format.toLowerCase() !== 'sha256') throw new Refusal(`error execution phase preflight: couldn't validate the identity of the API Server: unknown hash format "${format}". Known format(s) are: sha256`);
    if (value.length !== 64) throw new Refusal(`error execution phase preflight: couldn't validate the identity of the API Server: expected a 32 byte SHA-256 hash, found ${Math.floor(value.length / 2)} bytes`);
    if (!/^[0-9a-fA-F]+$/.test(value)) throw new Refusal(`error execution phase preflight: couldn't validate the identity of the API Server: encoding/hex: invalid byte in ${JSON.stringify(value)}`);
  }
}

async function join(args: string[], ctx: Ctx): Promise<number> {
  const p = parseFlags(args, { ...GLOBAL, ...JOIN_FLAGS }, { normalizeUnderscores: true });
  if (bool(p, 'help')) {
    ctx.out(`${STANDIN} Run this on any machine you wish to join an existing cluster\n\nUsage:\n  kubeadm join [api-server-endpoint] [flags]\n`);
    return 0;
  }
  if (p.positional[0] === 'phase') throw new Refusal(`${STANDIN} "kubeadm join phase" is not simulated by the test stand-in`);
  checkMixedArguments(p);
  if (p.values.has('config') && p.positional.length > 0)
    throw new Refusal(`${STANDIN} kubeadm join --config with an [api-server-endpoint] argument: kubeadm ignores the argument when a config is given; put it in discovery.bootstrapToken.apiServerEndpoint`);

  const docs = p.values.has('config') ? loadConfigFile(ctx, str(p, 'config')!) : docsFromJoinFlags(p);
  ctx.record.config = structuredClone(docs);
  checkDocuments(docs);
  const joins = byKind(docs, KUBEADM, 'JoinConfiguration');
  if (joins.length !== 1) throw new Refusal(`${STANDIN} kubeadm join: the config needs exactly one ${KUBEADM} JoinConfiguration; found ${joins.length}`, VALIDATION_EXIT);
  const ignoredByJoin = docs.filter((d) => (d.apiVersion === KUBEADM && d.kind === 'ClusterConfiguration') || d.apiVersion === KUBELET || d.apiVersion === KUBEPROXY);
  if (ignoredByJoin.length > 0)
    throw new Refusal(
      `${STANDIN} kubeadm join ignores ${ignoredByJoin.map((d) => d.kind).join(', ')}: a joining node takes them from the cluster (the kubeadm-config and kubelet-config ConfigMaps). Per-node kubelet settings go in a patch (patches.directory, target "kubeletconfiguration").`,
      VALIDATION_EXIT,
    );
  for (const d of docs.filter((d) => d.apiVersion === KUBEADM && d.kind !== 'JoinConfiguration')) ctx.warn(`[config] WARNING: Ignored configuration document with GroupVersionKind ${KUBEADM}, Kind=${d.kind}`);

  const j = structuredClone(joins[0]!);
  const reg: Doc = (j.nodeRegistration ??= {});
  reg.name = nodeName(p, reg);
  defaultNodeRegistration(ctx, reg);
  j.caCertPath ??= '/etc/kubernetes/pki/ca.crt';
  if (j.discovery?.bootstrapToken && !j.discovery.tlsBootstrapToken) j.discovery.tlsBootstrapToken = j.discovery.bootstrapToken.token;
  if (j.controlPlane) {
    const ep: Doc = (j.controlPlane.localAPIEndpoint ??= {});
    ep.advertiseAddress ??= defaultAddress();
    if (!ep.bindPort) ep.bindPort = 6443;
  }
  const errs = validateJoin(ctx, j);
  if (errs.length > 0) throw new Refusal(aggregate(errs), VALIDATION_EXIT);
  const ignore = validateIgnorePreflight(list(p, 'ignore-preflight-errors'), reg.ignorePreflightErrors);
  const skip = checkPhases(p.values.has('skip-phases') ? list(p, 'skip-phases') : ((j.skipPhases ?? []) as string[]), JOIN_PHASES);
  const dryRun = bool(p, 'dry-run') || j.dryRun === true;
  const controlPlane = Boolean(j.controlPlane);
  const b: Doc | undefined = j.discovery?.bootstrapToken;

  if (!isSkipped(skip, 'preflight')) {
    ctx.out('[preflight] Running pre-flight checks\n');
    const checks = [...machineChecks(ctx, false), fileAvailable(ctx, '/etc/kubernetes/kubelet.conf'), fileAvailable(ctx, '/etc/kubernetes/bootstrap-kubelet.conf'), ...(controlPlane ? [] : [fileAvailable(ctx, String(j.caCertPath))]), ...ipForwardCheck(ctx)];
    runChecks(ctx, checks, ignore);
    // discovery: reach the API server, fetch and pin the cluster CA
    const server = b ? String(b.apiServerEndpoint) : 'the discovery file';
    if (ctx.takeFailure('join-failures')) {
      throw new Refusal(
        `error execution phase preflight: couldn't validate the identity of the API Server: failed to request the cluster-info ConfigMap: Get "https://${server}/api/v1/namespaces/kube-public/configmaps/cluster-info?timeout=10s": dial tcp ${server}: connect: connection refused`,
      );
    }
    if (b) {
      checkPins((b.caCertHashes ?? []) as string[]);
      const clusterCa = ctx.knob('cluster-ca.crt') === undefined ? undefined : caHash(ctx, ctx.knobPath('cluster-ca.crt'));
      if (clusterCa && b.unsafeSkipCAVerification !== true && !(b.caCertHashes as string[]).map((h) => h.toLowerCase()).includes(clusterCa))
        throw new Refusal(`error execution phase preflight: couldn't validate the identity of the API Server: cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "${clusterCa}" are pinned`);
    }
    ctx.out("[preflight] Reading configuration from the cluster...\n[preflight] FYI: You can look at this config file with 'kubectl -n kube-system get cm kubeadm-config -o yaml'\n");
    if (controlPlane) {
      ctx.out('[preflight] Running pre-flight checks before initializing the new control plane instance\n');
      const manifests = '/etc/kubernetes/manifests';
      runChecks(ctx, [...machineChecks(ctx, true).filter((c) => c.name !== 'IsPrivilegedUser'), ...['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'].map((c) => fileAvailable(ctx, `${manifests}/${c}.yaml`)), dirAvailable(ctx, '/var/lib/etcd')], ignore);
      if (!j.controlPlane.certificateKey) {
        const missing = ['ca.crt', 'ca.key', 'sa.key', 'sa.pub', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'etcd/ca.crt', 'etcd/ca.key'].filter((f) => !ctx.exists(`/etc/kubernetes/pki/${f}`));
        if (missing.length > 0)
          throw new Refusal(
            `error execution phase preflight: \nOne or more conditions for hosting a new control plane instance is not satisfied.\n\n[${missing.map((f) => `failure loading ${f}: open /etc/kubernetes/pki/${f}: no such file or directory`).join(', ')}]\n\nPlease ensure that:\n* The cluster has a stable controlPlaneEndpoint address.\n* The certificates that must be shared among control plane instances are provided.\n`,
          );
      }
    }
  }

  const patches = loadPatches(ctx, j.patches?.directory);
  const { labels, kubeletError } = kubeletNodeLabels(reg);
  const server = `https://${b ? b.apiServerEndpoint : 'kubernetes'}`;
  const cluster: Doc = { kubernetesVersion: ctx.kubeVersion(), etcd: { local: { dataDir: '/var/lib/etcd' } }, networking: { serviceSubnet: '10.96.0.0/12', dnsDomain: 'cluster.local' }, certificatesDir: '/etc/kubernetes/pki' };
  if (dryRun) {
    ctx.out(`[dryrun] ${STANDIN} would write the kubelet's configuration and kubeconfig; nothing was written\n`);
    return 0;
  }
  if (controlPlane) {
    if (!isSkipped(skip, 'control-plane-prepare/download-certs') && j.controlPlane.certificateKey) {
      ctx.out('[download-certs] Downloading the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace\n');
      writeCerts(ctx, '/etc/kubernetes/pki', true);
    }
    if (!isSkipped(skip, 'control-plane-prepare/certs')) writeCerts(ctx, '/etc/kubernetes/pki', false);
    if (!isSkipped(skip, 'control-plane-prepare/kubeconfig')) {
      ctx.out('[kubeconfig] Using kubeconfig folder "/etc/kubernetes"\n');
      for (const [file, user] of [
        ['admin.conf', 'kubernetes-admin'],
        ['controller-manager.conf', 'system:kube-controller-manager'],
        ['scheduler.conf', 'system:kube-scheduler'],
      ] as const) {
        ctx.out(`[kubeconfig] Writing "${file}" kubeconfig file\n`);
        ctx.write(`/etc/kubernetes/${file}`, makeKubeconfig({ server, clusterName: 'kubernetes', user }), 0o600);
      }
    }
    ctx.out('[control-plane] Using manifest folder "/etc/kubernetes/manifests"\n');
    writeControlPlane(ctx, { cluster, endpoint: j.controlPlane.localAPIEndpoint, name: reg.name }, patches, skip, { etcd: 'etcd-join', cp: 'control-plane-prepare/control-plane' });
  }
  if (!isSkipped(skip, 'kubelet-start')) {
    if (!controlPlane && !ctx.exists(String(j.caCertPath))) {
      const ca = ctx.knob('cluster-ca.crt');
      ctx.write(String(j.caCertPath), ca !== undefined ? `${ca}\n` : STUB_PEM('CERTIFICATE'));
    }
    ctx.write('/etc/kubernetes/bootstrap-kubelet.conf', makeKubeconfig({ server, clusterName: 'kubernetes', user: 'tls-bootstrap-token-user' }), 0o600);
    ctx.out('[kubelet-start] Writing kubelet configuration to file "/var/lib/kubelet/config.yaml"\n');
    const fromCluster = ctx.knob('cluster-kubelet-config.yaml');
    const base = fromCluster !== undefined ? (parseYamlDocuments(fromCluster).docs[0] as Doc | undefined) : undefined;
    ctx.write('/var/lib/kubelet/config.yaml', toYaml(kubeletConfig(ctx, base, cluster, reg, patches)));
    ctx.out('[kubelet-start] Writing kubelet environment file with flags to file "/var/lib/kubelet/kubeadm-flags.env"\n');
    ctx.write('/var/lib/kubelet/kubeadm-flags.env', kubeadmFlagsEnv(reg));
    ctx.out('[kubelet-start] Starting the kubelet\n[kubelet-check] Waiting for a healthy kubelet at http://127.0.0.1:10248/healthz. This can take up to 4m0s\n');
    if (kubeletError) throw kubeletFailure('kubelet-start', kubeletError);
    ctx.out('[kubelet-check] The kubelet is healthy after 1.0s\n[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap\n');
    rmSync(ctx.host('/etc/kubernetes/bootstrap-kubelet.conf'), { force: true });
    ctx.write('/etc/kubernetes/kubelet.conf', makeKubeconfig({ server, clusterName: 'kubernetes', user: `system:node:${reg.name}` }), 0o600);
  }
  const state = ctx.loadState();
  const taints = Array.isArray(reg.taints) ? (reg.taints as Doc[]) : undefined;
  registerNode(state, reg.name, labels, taints, controlPlane && !isSkipped(skip, 'control-plane-join/mark-control-plane'));
  ctx.saveState(state);
  ctx.out(
    controlPlane
      ? `\nThis node has joined the cluster and a new control plane instance was created:\n\n* Certificate signing request was sent to apiserver and approval was received.\n* The Kubelet was informed of the new secure connection details.\n* Control plane label and taint were applied to the new node.\n* The Kubernetes control plane instances scaled up.\n* A new etcd member was added to the local/stacked etcd cluster.\n\nTo start administering your cluster from this node, you need to run the following as a regular user:\n\n\tmkdir -p $HOME/.kube\n\tsudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config\n\tsudo chown $(id -u):$(id -g) $HOME/.kube/config\n\nRun 'kubectl get nodes' to see this node join the cluster.\n\n`
      : `\nThis node has joined the cluster:\n* Certificate signing request was sent to apiserver and a response was received.\n* The Kubelet was informed of the new secure connection details.\n\nRun 'kubectl get nodes' on the control-plane to see this node join the cluster.\n\n`,
  );
  return 0;
}

// --- reset --------------------------------------------------------------------------------------

function reset(args: string[], ctx: Ctx): number {
  const p = parseFlags(args, { ...GLOBAL, ...RESET_FLAGS }, { normalizeUnderscores: true });
  if (p.positional.length > 0) throw new Refusal(`unknown command "${p.positional[0]}" for "kubeadm reset"`);
  checkMixedArguments(p);
  if (!bool(p, 'force')) throw new Refusal(`${STANDIN} kubeadm reset asks for confirmation on the terminal; pass --force (-f)`);
  if (bool(p, 'dry-run')) {
    ctx.out('[dryrun] Would remove the files kubeadm wrote\n');
    return 0;
  }
  const certDir = str(p, 'cert-dir') ?? '/etc/kubernetes/pki';
  ctx.out('[reset] Deleted contents of the etcd data directory: /var/lib/etcd\n[reset] Stopping the kubelet service\n[reset] Unmounting mounted directories in "/var/lib/kubelet"\n');
  for (const dir of ['/etc/kubernetes/manifests', '/var/lib/etcd', '/var/lib/kubelet', certDir])
    for (const e of (() => {
      try {
        return readdirSync(ctx.host(dir));
      } catch {
        return [];
      }
    })())
      rmSync(ctx.host(`${dir}/${e}`), { recursive: true, force: true });
  for (const f of ['admin.conf', 'super-admin.conf', 'kubelet.conf', 'bootstrap-kubelet.conf', 'controller-manager.conf', 'scheduler.conf']) rmSync(ctx.host(`/etc/kubernetes/${f}`), { force: true });
  ctx.out(`[reset] Deleting contents of directories: [/etc/kubernetes/manifests /var/lib/kubelet ${certDir}]\n[reset] Deleting files: [/etc/kubernetes/admin.conf /etc/kubernetes/super-admin.conf /etc/kubernetes/kubelet.conf /etc/kubernetes/bootstrap-kubelet.conf /etc/kubernetes/controller-manager.conf /etc/kubernetes/scheduler.conf]\n`);
  const state = ctx.loadState();
  // the node this root stands for: the one registered here (or named like the host)
  const name = hostname().trim().toLowerCase();
  const here = Object.keys(state.nodes);
  for (const n of here) if (n === name || here.length === 1) delete state.nodes[n];
  ctx.saveState(state);
  return 0;
}
