// TEST ONLY. Kubeconfig files: the ones kubeadm writes, and finding and checking the one helm and
// kubectl use (client-go's loading rules: --kubeconfig, else $KUBECONFIG, else ~/.kube/config).
import type { Ctx } from './context.ts';
import { isMapping, parseYamlDocuments, toYaml } from './context.ts';

const stub = (what: string) => Buffer.from(`kiln-test-standin ${what}\n`).toString('base64');

export function makeKubeconfig(opts: { server: string; clusterName: string; user: string; caData?: string }): string {
  const context = `${opts.user}@${opts.clusterName}`;
  return toYaml({
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': opts.caData ?? stub('ca'), server: opts.server }, name: opts.clusterName }],
    contexts: [{ context: { cluster: opts.clusterName, user: opts.user }, name: context }],
    'current-context': context,
    kind: 'Config',
    preferences: {},
    users: [
      {
        name: opts.user,
        user: { 'client-certificate-data': stub(`${opts.user} certificate`), 'client-key-data': stub(`${opts.user} key`) },
      },
    ],
  });
}

type Kubeconfig = { ok: true; path: string; server: string; hostport: string; namespace?: string } | { ok: false; message?: string };

/**
 * The API server a helm or kubectl call reaches, found the way client-go finds it, and whether it
 * answers: `none` (no kubeconfig anywhere: client-go falls back to http://localhost:8080),
 * `invalid` (a kubeconfig that is missing or unusable), `down` (the `api-failures` knob), or `ok`.
 * The kubeconfig used is recorded. `server` overrides the kubeconfig's (kubectl --server).
 */
export function reachApi(
  ctx: Ctx,
  opts: { kubeconfig?: string | undefined; context?: string | undefined; server?: string | undefined },
):
  | { state: 'ok' | 'down'; server: string; hostport: string; namespace?: string }
  | { state: 'none' }
  | { state: 'invalid'; message: string } {
  const kc = loadKubeconfig(ctx, opts.kubeconfig, opts.context);
  if (!kc.ok) return kc.message === undefined ? { state: 'none' } : { state: 'invalid', message: kc.message };
  ctx.record.kubeconfig = kc.path;
  const server = opts.server || kc.server;
  const hostport = opts.server ? opts.server.replace(/^https?:\/\//, '') : kc.hostport;
  return {
    state: ctx.takeFailure('api-failures') ? 'down' : 'ok',
    server,
    hostport,
    ...(kc.namespace !== undefined ? { namespace: kc.namespace } : {}),
  };
}

function loadKubeconfig(ctx: Ctx, explicit: string | undefined, contextName: string | undefined): Kubeconfig {
  let file: string | undefined;
  if (explicit !== undefined && explicit !== '') {
    if (!ctx.exists(explicit)) return { ok: false, message: `stat ${explicit}: no such file or directory` };
    file = explicit;
  } else {
    const candidates = ctx.env.KUBECONFIG
      ? ctx.env.KUBECONFIG.split(':').filter(Boolean)
      : [`${ctx.env.HOME ?? ''}/.kube/config`.replace(/^\/\//, '/')];
    file = candidates.find((c) => ctx.exists(c) && !ctx.isDir(c));
    if (!file) return { ok: false };
  }
  let text: string;
  try {
    text = ctx.read(file);
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
  const parsed = parseYamlDocuments(text);
  if (parsed.error) return { ok: false, message: `error loading config file "${file}": ${parsed.error}` };
  const doc = parsed.docs[0];
  if (!isMapping(doc))
    return {
      ok: false,
      message: `error loading config file "${file}": couldn't get version/kind; json parse error: the kubeconfig is not a mapping`,
    };
  if (doc.kind !== undefined && doc.kind !== 'Config')
    return {
      ok: false,
      message: `error loading config file "${file}": no kind "${String(doc.kind)}" is registered for version "${String(doc.apiVersion)}"`,
    };
  const named = (key: string, inner: string) =>
    new Map(
      (Array.isArray(doc[key]) ? (doc[key] as unknown[]) : [])
        .filter(isMapping)
        .map((e) => [String(e.name), isMapping(e[inner]) ? (e[inner] as Record<string, unknown>) : {}] as const),
    );
  const contexts = named('contexts', 'context');
  const clusters = named('clusters', 'cluster');
  const current = contextName || (typeof doc['current-context'] === 'string' ? doc['current-context'] : '');
  if (!current)
    return {
      ok: false,
      message: 'invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable',
    };
  const context = contexts.get(current);
  if (!context) return { ok: false, message: `context was not found for specified context: ${current}` };
  const cluster = clusters.get(String(context.cluster));
  if (!cluster)
    return {
      ok: false,
      message: `invalid configuration: [context was not found for specified context: ${current}, cluster has no server defined]`,
    };
  const server = typeof cluster.server === 'string' ? cluster.server : '';
  if (!server) return { ok: false, message: 'invalid configuration: cluster has no server defined' };
  let hostport: string;
  try {
    const u = new URL(server);
    hostport = u.port ? u.host : `${u.host}:${u.protocol === 'http:' ? 80 : 443}`;
  } catch {
    return { ok: false, message: `invalid configuration: host must be a URL or a host:port pair: ${JSON.stringify(server)}` };
  }
  return { ok: true, path: file, server, hostport, ...(typeof context.namespace === 'string' ? { namespace: context.namespace } : {}) };
}
