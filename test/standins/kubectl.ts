// TEST ONLY. A stand-in for kubectl: `version`, `get --raw` (readiness endpoints) and `get nodes`,
// `apply -f`, `label node`, `taint node` and `wait --for=condition=Ready node/…`, against the
// simulated cluster state, with kubectl's flags, argument rules and messages. Every command but
// `version --client` needs a kubeconfig, found the way client-go finds it.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { bool, findCommand, list, parseFlags, str, type FlagSpecs, type ParsedFlags } from './flags.ts';
import { Refusal, STANDIN, isMapping, parseYamlDocuments, report, toYaml, type ClusterState, type Ctx } from './lib/context.ts';
import { reachApi } from './lib/kubeconfig.ts';
import { versionInfo } from './lib/version.ts';
import { isQualifiedName, isValidLabelValue } from './lib/validate.ts';
import type { AppliedObject } from './record.ts';

export const KUBECTL_GLOBAL_FLAGS: FlagSpecs = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  cluster: { type: 'string' },
  user: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  server: { type: 'string', short: 's' },
  'request-timeout': { type: 'string' },
  'insecure-skip-tls-verify': { type: 'bool' },
  token: { type: 'string' },
  'warnings-as-errors': { type: 'bool' },
  v: { type: 'int32', short: 'v' },
  help: { type: 'bool', short: 'h' },
};
const GLOBAL = KUBECTL_GLOBAL_FLAGS;

const DRY_RUN = { type: 'string', noOptDefVal: 'unchanged' } as const;

export const KUBECTL_COMMAND_FLAGS: Record<string, FlagSpecs> = {
  version: { client: { type: 'bool' }, output: { type: 'string', short: 'o' } },
  get: {
    raw: { type: 'string' },
    output: { type: 'string', short: 'o' },
    selector: { type: 'string', short: 'l' },
    'all-namespaces': { type: 'bool', short: 'A' },
    'show-labels': { type: 'bool' },
    'no-headers': { type: 'bool' },
    watch: { type: 'bool', short: 'w' },
  },
  apply: {
    filename: { type: 'stringSlice', short: 'f' },
    kustomize: { type: 'string', short: 'k' },
    recursive: { type: 'bool', short: 'R' },
    'server-side': { type: 'bool' },
    'force-conflicts': { type: 'bool' },
    'field-manager': { type: 'string' },
    'dry-run': DRY_RUN,
    validate: { type: 'string', noOptDefVal: 'strict' },
    output: { type: 'string', short: 'o' },
    prune: { type: 'bool' },
    selector: { type: 'string', short: 'l' },
    wait: { type: 'bool' },
    timeout: { type: 'duration' },
    overwrite: { type: 'bool' },
    force: { type: 'bool' },
  },
  label: {
    overwrite: { type: 'bool' },
    all: { type: 'bool' },
    selector: { type: 'string', short: 'l' },
    list: { type: 'bool' },
    local: { type: 'bool' },
    'dry-run': DRY_RUN,
    output: { type: 'string', short: 'o' },
    'resource-version': { type: 'string' },
    'field-manager': { type: 'string' },
    filename: { type: 'stringSlice', short: 'f' },
  },
  taint: {
    overwrite: { type: 'bool' },
    all: { type: 'bool' },
    selector: { type: 'string', short: 'l' },
    'dry-run': DRY_RUN,
    output: { type: 'string', short: 'o' },
    validate: { type: 'string', noOptDefVal: 'strict' },
    'field-manager': { type: 'string' },
  },
  patch: {
    filename: { type: 'stringSlice', short: 'f' },
    kustomize: { type: 'string', short: 'k' },
    local: { type: 'bool' },
    output: { type: 'string', short: 'o' },
    patch: { type: 'string', short: 'p' },
    'patch-file': { type: 'string' },
    recursive: { type: 'bool', short: 'R' },
    subresource: { type: 'string' },
    type: { type: 'string' },
    'dry-run': DRY_RUN,
    'field-manager': { type: 'string' },
  },
  wait: {
    for: { type: 'string' },
    timeout: { type: 'duration' },
    all: { type: 'bool' },
    selector: { type: 'string', short: 'l' },
    filename: { type: 'stringSlice', short: 'f' },
    'all-namespaces': { type: 'bool', short: 'A' },
  },
};

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'Node',
  'PersistentVolume',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'StorageClass',
  'PriorityClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'APIService',
  'CSIDriver',
  'CSINode',
  'IngressClass',
  'RuntimeClass',
  'VolumeAttachment',
  'CertificateSigningRequest',
  'FlowSchema',
  'PriorityLevelConfiguration',
  'ClusterIssuer',
  'CiliumClusterwideNetworkPolicy',
  'CiliumLoadBalancerIPPool',
  'CiliumBGPClusterConfig',
  'CiliumBGPPeerConfig',
  'CiliumBGPAdvertisement',
  'CiliumBGPNodeConfig',
  'CiliumBGPNodeConfigOverride',
  'CiliumBGPPeeringPolicy',
  'CiliumL2AnnouncementPolicy',
  'CiliumPodIPPool',
  'CiliumNode',
  'CiliumIdentity',
  'CiliumCIDRGroup',
  'CiliumExternalWorkload',
]);

export async function kubectl(args: string[], ctx: Ctx): Promise<number> {
  let command: string | undefined;
  try {
    const found = findCommand(args, GLOBAL);
    command = found.command;
    const rest = found.rest;
    if (command === undefined) {
      parseFlags(rest, GLOBAL);
      ctx.out(`${STANDIN} kubectl controls the Kubernetes cluster manager (TEST STAND-IN).\n`);
      return 0;
    }
    const specs = KUBECTL_COMMAND_FLAGS[command];
    if (!specs) {
      const real = [
        'create',
        'expose',
        'run',
        'set',
        'explain',
        'edit',
        'delete',
        'rollout',
        'scale',
        'autoscale',
        'certificate',
        'cluster-info',
        'top',
        'cordon',
        'uncordon',
        'drain',
        'describe',
        'logs',
        'attach',
        'exec',
        'port-forward',
        'proxy',
        'cp',
        'auth',
        'debug',
        'events',
        'diff',
        'replace',
        'kustomize',
        'annotate',
        'completion',
        'api-resources',
        'api-versions',
        'config',
        'plugin',
        'options',
      ];
      if (real.includes(command))
        throw new Refusal(
          `${STANDIN} "kubectl ${command}" is not simulated by the test stand-in (version, get, apply, label, taint, patch and wait are)`,
        );
      throw new Refusal(`unknown command "${command}" for "kubectl"`);
    }
    const p = parseFlags(rest, { ...GLOBAL, ...specs });
    if (bool(p, 'help')) {
      ctx.out(`${STANDIN} kubectl ${command} (TEST STAND-IN)\n`);
      return 0;
    }
    switch (command) {
      case 'version':
        return version(p, ctx);
      case 'get':
        return get(p, ctx);
      case 'apply':
        return apply(p, ctx);
      case 'label':
        return label(p, ctx);
      case 'taint':
        return taint(p, ctx);
      case 'patch':
        return patch(p, ctx);
      default:
        return wait(p, ctx);
    }
  } catch (error) {
    return report(ctx, error, command ? `kubectl ${command}` : 'kubectl');
  }
}

/** The API server from the kubeconfig; refuses the way kubectl does when there is none or it is down. */
function connect(ctx: Ctx, p: ParsedFlags): { hostport: string } {
  const kc = reachApi(ctx, { kubeconfig: str(p, 'kubeconfig'), context: str(p, 'context'), server: str(p, 'server') });
  if (kc.state === 'none')
    throw new Refusal('The connection to the server localhost:8080 was refused - did you specify the right host or port?', 1, {
      plain: true,
    });
  if (kc.state === 'invalid') throw new Refusal(kc.message);
  if (kc.state === 'down')
    throw new Refusal(`The connection to the server ${kc.hostport} was refused - did you specify the right host or port?`, 1, {
      plain: true,
    });
  return { hostport: kc.hostport };
}

function version(p: ParsedFlags, ctx: Ctx): number {
  if (p.positional.length > 0) throw new Refusal(`unknown command "${p.positional[0]}" for "kubectl version"`);
  const output = str(p, 'output') ?? '';
  if (!['', 'json', 'yaml'].includes(output)) throw new Refusal("--output must be 'yaml' or 'json'");
  const info: Record<string, unknown> = { clientVersion: versionInfo(ctx.kubeVersion()), kustomizeVersion: 'v5.4.2' };
  if (!bool(p, 'client')) {
    connect(ctx, p);
    info.serverVersion = versionInfo(ctx.kubeVersion());
  }
  if (output === 'json') ctx.out(`${JSON.stringify(info, null, 2)}\n`);
  else if (output === 'yaml') ctx.out(toYaml(info));
  else
    ctx.out(
      `Client Version: ${ctx.kubeVersion()}\nKustomize Version: v5.4.2\n${info.serverVersion ? `Server Version: ${ctx.kubeVersion()}\n` : ''}`,
    );
  return 0;
}

// --- get ----------------------------------------------------------------------------------------

const NODE_TYPES = new Set(['node', 'nodes', 'no']);

function get(p: ParsedFlags, ctx: Ctx): number {
  const raw = str(p, 'raw');
  if (raw !== undefined) {
    if (p.positional.length > 0) throw new Refusal('arguments may not be passed when --raw is specified');
    connect(ctx, p);
    const [route, query = ''] = raw.split('?') as [string, string?];
    if (['/readyz', '/livez', '/healthz'].includes(route)) {
      if (/(^|&)verbose/.test(query))
        ctx.out(`[+]ping ok\n[+]log ok\n[+]etcd ok\n[+]poststarthook/start-apiextensions-controllers ok\n${route.slice(1)} check passed\n`);
      else ctx.out('ok');
      return 0;
    }
    if (route === '/version') {
      ctx.out(`${JSON.stringify(versionInfo(ctx.kubeVersion()), null, 2)}\n`);
      return 0;
    }
    throw new Refusal('Error from server (NotFound): the server could not find the requested resource', 1, { plain: true });
  }
  const [type, ...names] = p.positional;
  if (!type)
    throw new Refusal(
      'You must specify the type of resource to get. Use "kubectl api-resources" for a complete list of supported resources.\n\nerror: Required resource not specified.\nUse "kubectl explain <resource>" for a detailed description of that resource (e.g. kubectl explain pods).\nSee \'kubectl get -h\' for help and examples',
      1,
      { plain: true },
    );
  const [t, n] = type.split('/') as [string, string?];
  if (!NODE_TYPES.has(t)) throw new Refusal(`${STANDIN} "kubectl get ${t}" is not simulated (only nodes, and --raw)`);
  connect(ctx, p);
  const state = ctx.loadState();
  const wanted = n ? [n, ...names] : names;
  for (const name of wanted)
    if (!state.nodes[name]) throw new Refusal(`Error from server (NotFound): nodes "${name}" not found`, 1, { plain: true });
  const nodes = (wanted.length ? wanted : Object.keys(state.nodes).sort()).map((name) => [name, state.nodes[name]!] as const);
  const output = str(p, 'output') ?? '';
  if (output === 'name') for (const [name] of nodes) ctx.out(`node/${name}\n`);
  else if (output === 'json' || output === 'yaml') {
    const items = nodes.map(([name, node]) => ({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: node.labels },
      spec: node.taints.length ? { taints: node.taints } : {},
      status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: ctx.kubeVersion() } },
    }));
    const obj = wanted.length === 1 ? items[0] : { apiVersion: 'v1', kind: 'List', items };
    ctx.out(output === 'json' ? `${JSON.stringify(obj, null, 4)}\n` : toYaml(obj));
  } else if (output === '' || output === 'wide') {
    if (nodes.length === 0) {
      ctx.err('No resources found\n');
      return 0;
    }
    const rows = nodes.map(([name, node]) => {
      const roles =
        Object.keys(node.labels)
          .filter((l) => l.startsWith('node-role.kubernetes.io/'))
          .map((l) => l.slice('node-role.kubernetes.io/'.length))
          .join(',') || '<none>';
      const age = `${Math.max(0, Math.round((Date.now() - Date.parse(node.registered)) / 60000))}m`;
      return [name, 'Ready', roles, age, ctx.kubeVersion()];
    });
    const all = bool(p, 'no-headers') ? rows : [['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'], ...rows];
    const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
    for (const r of all) ctx.out(`${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('')}\n`);
  } else throw new Refusal(`${STANDIN} -o ${output} is not simulated (name, json, yaml, wide)`);
  return 0;
}

// --- apply --------------------------------------------------------------------------------------

/** An object's metadata ({} when it has none, or none that is a mapping). */
function metadataOf(obj: Record<string, unknown>): Record<string, unknown> {
  return isMapping(obj.metadata) ? obj.metadata : {};
}

function resourceName(obj: Record<string, unknown>): string {
  const api = String(obj.apiVersion);
  const group = api.includes('/') ? api.split('/')[0] : '';
  return `${String(obj.kind).toLowerCase()}${group ? `.${group}` : ''}`;
}

function manifestFiles(ctx: Ctx, target: string, recursive: boolean): string[] {
  if (!ctx.exists(target)) throw new Refusal(`the path "${target}" does not exist`);
  if (!ctx.isDir(target)) return [target];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(ctx.host(dir), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = path.posix.join(dir, e.name);
      if (e.isDirectory()) {
        if (recursive) walk(p);
      } else if (/\.(json|ya?ml)$/.test(e.name)) out.push(p);
    }
  };
  walk(target);
  return out;
}

function apply(p: ParsedFlags, ctx: Ctx): number {
  if (str(p, 'kustomize') !== undefined) throw new Refusal(`${STANDIN} "kubectl apply -k" is not simulated`);
  const targets = list(p, 'filename');
  if (targets.length === 0) throw new Refusal('must specify one of -f and -k');
  if (p.positional.length > 0)
    throw new Refusal(`Unexpected args: [${p.positional.join(' ')}]\nSee 'kubectl apply -h' for help and examples`);
  const dryRun = dryRunStrategy(p, ctx);
  const validate = str(p, 'validate') ?? 'strict';
  if (!['strict', 'warn', 'ignore', 'true', 'false'].includes(validate))
    throw new Refusal(`invalid - validate option "${validate}"; must be one of: strict (or true), warn, ignore (or false)`);
  connect(ctx, p);
  const defaultNs = str(p, 'namespace');

  // read everything first, as kubectl's resource builder does
  const files: Array<{ path: string; objects: Array<Record<string, unknown>> }> = [];
  for (const target of targets) {
    if (/^https?:\/\//.test(target)) throw new Refusal(`${STANDIN} apply -f URL is not simulated`);
    const paths = target === '-' ? ['-'] : manifestFiles(ctx, target, bool(p, 'recursive'));
    for (const file of paths) {
      const text = file === '-' ? (ctx.io.stdin?.() ?? '') : ctx.read(file);
      const parsed = parseYamlDocuments(text);
      if (parsed.error) throw new Refusal(`error parsing ${file}: ${parsed.error}`);
      const objects: Array<Record<string, unknown>> = [];
      for (const doc of parsed.docs) {
        if (doc === null || doc === undefined) continue;
        if (!isMapping(doc))
          throw new Refusal(
            `error validating "${file}": error validating data: invalid object to validate; if you choose to ignore these errors, turn validation off with --validate=false`,
          );
        const missing = [...(doc.apiVersion ? [] : ['apiVersion not set']), ...(doc.kind ? [] : ['kind not set'])];
        if (missing.length > 0)
          throw new Refusal(
            `error validating "${file}": error validating data: ${missing.length === 1 ? missing[0] : `[${missing.join(', ')}]`}; if you choose to ignore these errors, turn validation off with --validate=false`,
          );
        if (doc.kind === 'List' && Array.isArray(doc.items)) objects.push(...doc.items.filter(isMapping));
        else objects.push(doc);
      }
      files.push({ path: file, objects });
    }
  }
  ctx.record.files = files.map((f) => ({
    path: f.path,
    objects: f.objects.map((o): AppliedObject => {
      const meta = metadataOf(o);
      return {
        apiVersion: String(o.apiVersion),
        kind: String(o.kind),
        name: String(meta.name ?? ''),
        ...(meta.namespace ? { namespace: String(meta.namespace) } : {}),
      };
    }),
  }));
  if (files.every((f) => f.objects.length === 0)) throw new Refusal('no objects passed to apply');

  const state = ctx.loadState();
  const errors: string[] = [];
  const suffix = dryRun === 'client' ? ' (dry run)' : dryRun === 'server' ? ' (server dry run)' : '';
  for (const f of files) {
    for (const obj of f.objects) {
      const kind = String(obj.kind);
      const meta = metadataOf(obj);
      const name = meta.name;
      const clusterScoped = CLUSTER_SCOPED.has(kind);
      const ns = clusterScoped ? '' : String(meta.namespace ?? defaultNs ?? 'default');
      if (!name) {
        const [group, ver] = String(obj.apiVersion).includes('/') ? String(obj.apiVersion).split('/') : ['', String(obj.apiVersion)];
        throw new Refusal(
          `error when retrieving current configuration of:\nResource: "${group}/${ver}, Resource=${kind.toLowerCase()}s", GroupVersionKind: "${group}/${ver}, Kind=${kind}"\nName: "", Namespace: "${ns}"\nfrom server for: "${f.path}": resource name may not be empty`,
        );
      }
      if (!clusterScoped && meta.namespace && defaultNs && meta.namespace !== defaultNs)
        throw new Refusal(
          `the namespace from the provided object "${meta.namespace}" does not match the namespace "${defaultNs}". You must pass '--namespace=${meta.namespace}' to perform this operation.`,
        );
      if (!clusterScoped && !state.namespaces.includes(ns)) {
        errors.push(`Error from server (NotFound): error when creating "${f.path}": namespaces "${ns}" not found`);
        continue;
      }
      const key = `${String(obj.apiVersion).split('/').slice(0, -1).join('/')}/${kind}/${ns}/${name}`;
      const digest = createHash('sha256').update(JSON.stringify(obj)).digest('hex');
      const verb = bool(p, 'server-side')
        ? 'serverside-applied'
        : !state.objects[key]
          ? 'created'
          : state.objects[key] === digest
            ? 'unchanged'
            : 'configured';
      ctx.out(`${resourceName(obj)}/${name} ${verb}${suffix}\n`);
      if (dryRun === 'none') {
        state.objects[key] = digest;
        if (kind === 'Namespace' && !state.namespaces.includes(String(name))) state.namespaces.push(String(name));
      }
    }
  }
  ctx.saveState(state);
  if (errors.length > 0) throw new Refusal(errors.join('\n'), 1, { plain: true });
  return 0;
}

/** cmdutil.GetDryRunStrategy: none, client or server; a bare --dry-run is a deprecated "client". */
function dryRunStrategy(p: ParsedFlags, ctx: Ctx): 'none' | 'client' | 'server' {
  const v = str(p, 'dry-run') ?? 'none';
  if (v === 'unchanged') {
    ctx.err('W0000 00:00:00.000000       1 helpers.go:703] --dry-run is deprecated and can be replaced with --dry-run=client.\n');
    return 'client';
  }
  if (v === 'none' || v === 'client' || v === 'server') return v;
  throw new Refusal(`Invalid dry-run value (${v}). Must be "none", "server", or "client".`);
}

// --- label and taint ----------------------------------------------------------------------------

/** The nodes named by `node NAME...`, `nodes/NAME...` (kubectl's resource arguments). */
function nodeTargets(resources: string[], command: string): string[] {
  if (resources.length === 0)
    throw new Refusal(
      `You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'`,
    );
  if (resources[0]!.includes('/')) {
    return resources.map((r) => {
      const [t, n] = r.split('/') as [string, string];
      if (!NODE_TYPES.has(t))
        throw new Refusal(
          command === 'taint'
            ? `invalid resource type ${t}, only node types are supported`
            : `${STANDIN} "kubectl ${command} ${t}" is not simulated (only nodes)`,
        );
      return n;
    });
  }
  const [t, ...names] = resources as [string, ...string[]];
  if (!NODE_TYPES.has(t))
    throw new Refusal(
      command === 'taint'
        ? `invalid resource type ${t}, only node types are supported`
        : `${STANDIN} "kubectl ${command} ${t}" is not simulated (only nodes)`,
    );
  if (names.length === 0) throw new Refusal(`resource(s) were provided, but no name was specified`);
  return names;
}

function notSimulated(p: ParsedFlags, command: string, flags: string[]): void {
  for (const f of flags) if (p.values.has(f)) throw new Refusal(`${STANDIN} "kubectl ${command} --${f}" is not simulated`);
}

function node(state: ClusterState, name: string) {
  const n = state.nodes[name];
  if (!n) throw new Refusal(`Error from server (NotFound): nodes "${name}" not found`, 1, { plain: true });
  return n;
}

function label(p: ParsedFlags, ctx: Ctx): number {
  notSimulated(p, 'label', ['all', 'selector', 'list', 'local', 'filename', 'resource-version']);
  const resources: string[] = [];
  const specs: string[] = [];
  for (const a of p.positional) {
    if (a.includes('=') || a.endsWith('-')) specs.push(a);
    else if (specs.length > 0) throw new Refusal(`all resources must be specified before label changes: ${a}`);
    else resources.push(a);
  }
  if (specs.length === 0) throw new Refusal('at least one label update is required');
  const add: Record<string, string> = {};
  const remove: string[] = [];
  for (const s of specs) {
    if (s.includes('=')) {
      const parts = s.split('=');
      if (parts.length !== 2) throw new Refusal(`invalid label spec: ${s}`);
      const errs = isValidLabelValue(parts[1]!);
      if (errs.length > 0) throw new Refusal(`invalid label value: ${JSON.stringify(s)}: ${errs.join(';')}`);
      add[parts[0]!] = parts[1]!;
    } else remove.push(s.slice(0, -1));
  }
  if (remove.some((r) => r in add)) throw new Refusal('can not both modify and remove a label in the same command');
  const names = nodeTargets(resources, 'label');
  const dryRun = dryRunStrategy(p, ctx);
  const suffix = dryRun === 'client' ? ' (dry run)' : dryRun === 'server' ? ' (server dry run)' : '';
  connect(ctx, p);
  const state = ctx.loadState();
  for (const name of names) {
    const n = node(state, name);
    if (!bool(p, 'overwrite'))
      for (const k of Object.keys(add))
        if (k in n.labels) throw new Refusal(`'${k}' already has a value (${n.labels[k]}), and --overwrite is false`);
    for (const k of Object.keys(add)) {
      const errs = isQualifiedName(k);
      if (errs.length > 0)
        throw new Refusal(`The Node "${name}" is invalid: metadata.labels: Invalid value: ${JSON.stringify(k)}: ${errs.join('; ')}`, 1, {
          plain: true,
        });
    }
    const before = JSON.stringify(n.labels);
    for (const r of remove) {
      if (!(r in n.labels)) ctx.out(`label ${JSON.stringify(r)} not found.\n`);
      delete n.labels[r];
    }
    Object.assign(n.labels, add);
    const changed = JSON.stringify(n.labels) !== before;
    ctx.out(`node/${name} ${!changed ? 'not labeled' : Object.keys(add).length === 0 ? 'unlabeled' : 'labeled'}${suffix}\n`);
  }
  if (dryRun === 'none') ctx.saveState(state);
  return 0;
}

// --- patch --------------------------------------------------------------------------------------

interface PatchType {
  group: string;
  kind: string;
  /** As kubectl names the object in its output (deployment.apps/coredns). */
  shown: string;
  /** As the API server names the resource in errors. */
  plural: string;
}
/** Resource types patch resolves here, by every name kubectl accepts for them. */
const PATCH_TYPE_LIST: Array<[string[], PatchType]> = [
  [
    ['deployment', 'deployments', 'deploy', 'deployment.apps', 'deployments.apps'],
    { group: 'apps', kind: 'Deployment', shown: 'deployment.apps', plural: 'deployments.apps' },
  ],
  [
    ['daemonset', 'daemonsets', 'ds', 'daemonset.apps', 'daemonsets.apps'],
    { group: 'apps', kind: 'DaemonSet', shown: 'daemonset.apps', plural: 'daemonsets.apps' },
  ],
  [['configmap', 'configmaps', 'cm'], { group: '', kind: 'ConfigMap', shown: 'configmap', plural: 'configmaps' }],
];
const PATCH_TYPES = new Map(PATCH_TYPE_LIST.flatMap(([names, t]) => names.map((n): [string, PatchType] => [n, t])));

function patch(p: ParsedFlags, ctx: Ctx): number {
  notSimulated(p, 'patch', ['filename', 'kustomize', 'local', 'patch-file', 'recursive', 'subresource']);
  const type = str(p, 'type') ?? 'strategic';
  if (!['json', 'merge', 'strategic'].includes(type)) throw new Refusal(`--type must be one of [json merge strategic], not "${type}"`);
  const text = str(p, 'patch');
  if (text === undefined || text === '') throw new Refusal('must specify --patch or --patch-file containing the contents of the patch');
  const doc = parseYamlDocuments(text);
  const body = doc.docs[0];
  if (doc.error || body === undefined) throw new Refusal(`unable to parse "${text}": ${doc.error ?? 'empty patch'}`);
  if (type === 'json' ? !Array.isArray(body) : !isMapping(body))
    throw new Refusal(
      type === 'json' ? 'json: cannot unmarshal object into Go value of type jsonpatch.Patch' : 'the patch is not a JSON object',
    );
  const args = p.positional.length === 1 && p.positional[0]!.includes('/') ? p.positional[0]!.split('/') : p.positional;
  if (args.length !== 2) throw new Refusal(`${STANDIN} kubectl patch takes TYPE NAME or TYPE/NAME here`);
  const [typeName, name] = args as [string, string];
  const target = PATCH_TYPES.get(typeName);
  if (!target) throw new Refusal(`${STANDIN} "kubectl patch ${typeName}" is not simulated (deployments, daemonsets, configmaps)`);
  const dryRun = dryRunStrategy(p, ctx);
  connect(ctx, p);
  const namespace = str(p, 'namespace') ?? 'default';
  const state = ctx.loadState();
  const key = `${target.group}/${target.kind}/${namespace}/${name}`;
  const before = state.objects[key];
  if (before === undefined) throw new Refusal(`Error from server (NotFound): ${target.plural} "${name}" not found`, 1, { plain: true });
  ctx.record.patch = { type, target: key, body: body as Record<string, unknown> | unknown[] };
  // the same patch twice changes nothing the second time
  const applied = new Set((state.objects[`${key}#patches`] ?? '').split(',').filter(Boolean));
  const digest = createHash('sha256')
    .update(`${type}\n${JSON.stringify(body)}`)
    .digest('hex')
    .slice(0, 16);
  const unchanged = applied.has(digest);
  if (dryRun === 'none' && !unchanged) {
    state.objects[key] = createHash('sha256').update(`${before}\n${digest}`).digest('hex');
    state.objects[`${key}#patches`] = [...applied, digest].join(',');
    ctx.saveState(state);
  }
  const suffix = dryRun === 'client' ? ' (dry run)' : dryRun === 'server' ? ' (server dry run)' : '';
  ctx.out(`${target.shown}/${name} ${unchanged ? 'patched (no change)' : 'patched'}${suffix}\n`);
  return 0;
}

interface Taint {
  key: string;
  value?: string;
  effect: string;
}

const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** kubectl's parseTaint: `key=value:Effect`, `key:Effect` or `key`. */
function parseTaint(spec: string): Taint {
  const parts = spec.split(':');
  let key: string;
  let value: string | undefined;
  let effect = '';
  if (parts.length === 1) key = parts[0]!;
  else if (parts.length === 2) {
    effect = parts[1]!;
    if (!EFFECTS.includes(effect)) throw new Refusal(`invalid taint effect: ${effect}, unsupported taint effect`);
    const kv = parts[0]!.split('=');
    if (kv.length > 2) throw new Refusal(`invalid taint spec: ${spec}`);
    key = kv[0]!;
    if (kv.length === 2) {
      value = kv[1]!;
      const errs = isValidLabelValue(value);
      if (errs.length > 0) throw new Refusal(`invalid taint spec: ${spec}, ${errs.join('; ')}`);
    }
  } else throw new Refusal(`invalid taint spec: ${spec}`);
  const errs = isQualifiedName(key);
  if (errs.length > 0) throw new Refusal(`invalid taint spec: ${spec}, ${errs.join('; ')}`);
  return { key, ...(value !== undefined ? { value } : {}), effect };
}

function taint(p: ParsedFlags, ctx: Ctx): number {
  notSimulated(p, 'taint', ['all', 'selector']);
  const resources: string[] = [];
  const specs: string[] = [];
  for (const a of p.positional) {
    if (a.includes('=') || a.includes(':') || a.endsWith('-')) specs.push(a);
    else if (specs.length > 0) throw new Refusal(`all resources must be specified before taint changes: ${a}`);
    else resources.push(a);
  }
  if (specs.length === 0) throw new Refusal('at least one taint update is required');
  const add: Taint[] = [];
  const remove: Taint[] = [];
  for (const s of specs) {
    if (s.endsWith('-')) remove.push(parseTaint(s.slice(0, -1)));
    else {
      const t = parseTaint(s);
      if (!t.effect) throw new Refusal(`invalid taint spec: ${s}`);
      if (add.some((a) => a.key === t.key && a.effect === t.effect))
        throw new Refusal(`duplicated taints with the same key and effect: ${JSON.stringify(t)}`);
      add.push(t);
    }
  }
  const names = nodeTargets(resources, 'taint');
  const dryRun = dryRunStrategy(p, ctx);
  const suffix = dryRun === 'client' ? ' (dry run)' : dryRun === 'server' ? ' (server dry run)' : '';
  connect(ctx, p);
  const state = ctx.loadState();
  for (const name of names) {
    const n = node(state, name);
    if (!bool(p, 'overwrite'))
      for (const t of add)
        if (n.taints.some((x) => x.key === t.key && x.effect === t.effect))
          throw new Refusal(`node ${name} already has ${t.key} taint(s) with same effect(s) and --overwrite is false`);
    const missing: string[] = [];
    for (const r of remove) {
      const before = n.taints.length;
      n.taints = n.taints.filter((x) => !(x.key === r.key && (!r.effect || x.effect === r.effect)));
      if (n.taints.length === before) missing.push(`taint ${JSON.stringify(r.effect ? `${r.key}:${r.effect}` : r.key)} not found`);
    }
    if (missing.length > 0) throw new Refusal(missing.length === 1 ? missing[0]! : `[${missing.join(', ')}]`);
    for (const t of add) {
      n.taints = n.taints.filter((x) => !(x.key === t.key && x.effect === t.effect));
      n.taints.push(t);
    }
    ctx.out(`node/${name} ${remove.length === 0 ? 'tainted' : add.length === 0 ? 'untainted' : 'modified'}${suffix}\n`);
  }
  if (dryRun === 'none') ctx.saveState(state);
  return 0;
}

// --- wait ---------------------------------------------------------------------------------------

function wait(p: ParsedFlags, ctx: Ctx): number {
  notSimulated(p, 'wait', ['selector', 'filename', 'all-namespaces']);
  const cond = str(p, 'for');
  if (!cond) throw new Refusal('--for must be specified');
  if (!/^condition=/i.test(cond) && !cond.startsWith('delete') && !cond.startsWith('jsonpath=') && !cond.startsWith('create'))
    throw new Refusal(`unrecognized condition: ${JSON.stringify(cond)}`);
  if (!/^condition=Ready(=true)?$/i.test(cond))
    throw new Refusal(`${STANDIN} "kubectl wait --for=${cond}" is not simulated (only --for=condition=Ready on nodes)`);
  let names: string[];
  if (bool(p, 'all')) {
    if (p.positional.length !== 1 || !NODE_TYPES.has(p.positional[0]!))
      throw new Refusal(`${STANDIN} "kubectl wait --all" is simulated for nodes only`);
    connect(ctx, p);
    names = Object.keys(ctx.loadState().nodes).sort();
    if (names.length === 0) throw new Refusal('no matching resources found');
  } else {
    names = nodeTargets(p.positional, 'wait');
    connect(ctx, p);
  }
  const state = ctx.loadState();
  for (const name of names) {
    node(state, name);
    ctx.out(`node/${name} condition met\n`);
  }
  return 0;
}
