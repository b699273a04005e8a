// TEST ONLY. The stand-in kube-apiserver: HTTPS with the node's apiserver.crt, answering what
// kubeadm join needs from the init node (cluster-info signed per bootstrap token, kubeadm-config,
// the kubeadm-certs Secret) and recording the Nodes joiners register. State: apiserver.json.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Refusal, STANDIN, isMapping, toYaml, type Ctx } from '../lib/context.ts';
import { isDns1123Subdomain, splitHostPort } from '../lib/validate.ts';
import { versionInfo } from '../lib/version.ts';
import { detachedJws, seal, splitToken } from './crypto.ts';
import { loadApiState, saveApiState, type ApiNode, type ApiState } from './state.ts';

export const PKI = '/etc/kubernetes/pki';
export const APISERVER_MANIFEST = '/etc/kubernetes/manifests/kube-apiserver.yaml';

/** Where it listens: KILN_STANDIN_APISERVER_LISTEN (host:port), else 0.0.0.0 and the manifest's --secure-port (6443). */
export function listenAddress(ctx: Ctx): { host: string; port: number } {
  const override = ctx.env.KILN_STANDIN_APISERVER_LISTEN;
  if (override) {
    const hp = splitHostPort(override);
    if ('error' in hp) throw new Refusal(`${STANDIN} KILN_STANDIN_APISERVER_LISTEN: ${hp.error}`);
    return { host: hp.host, port: Number(hp.port) };
  }
  const manifest = ctx.exists(APISERVER_MANIFEST) ? ctx.read(APISERVER_MANIFEST) : '';
  return { host: '0.0.0.0', port: Number(/--secure-port=(\d+)/.exec(manifest)?.[1] ?? 6443) };
}

interface Reply {
  status: number;
  body: unknown;
}

const ok = (body: unknown): Reply => ({ status: 200, body });
/** A metav1.Status failure, as the API server sends it. */
function failure(code: number, reason: string, message: string, details?: { name: string; kind: string }): Reply {
  return {
    status: code,
    body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code },
  };
}
const forbidden = (user: string, verb: string, resource: string, name: string, ns?: string) =>
  failure(
    403,
    'Forbidden',
    `${resource} ${name ? `"${name}" ` : ''}is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group ""${ns ? ` in the namespace "${ns}"` : ' at the cluster scope'}`,
    { name, kind: resource },
  );

/** The cluster-info kubeconfig as kubeadm's clusterinfo phase writes it (one unnamed cluster, flattened). */
export function clusterInfoKubeconfig(caPem: string, endpoint: string): string {
  return toYaml({
    apiVersion: 'v1',
    clusters: [
      { cluster: { 'certificate-authority-data': Buffer.from(caPem).toString('base64'), server: `https://${endpoint}` }, name: '' },
    ],
    contexts: null,
    'current-context': '',
    kind: 'Config',
    preferences: {},
    users: null,
  });
}

/** The bootstrap-token authenticator: anonymous without a bearer token, undefined (401) for an unknown one. */
function authenticate(state: ApiState, header: string | undefined): string | undefined {
  if (!header) return 'system:anonymous';
  const token = /^Bearer (\S+)$/.exec(header)?.[1];
  return token && state.tokens.includes(token) ? `system:bootstrap:${splitToken(token).id}` : undefined;
}

const SECRET_KEYS = ['ca.crt', 'ca.key', 'sa.key', 'sa.pub', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'etcd-ca.crt', 'etcd-ca.key'];

function route(ctx: Ctx, req: IncomingMessage, path: string, body: string, state: ApiState, user: string): Reply {
  const anonymous = user === 'system:anonymous';
  const key = `${req.method} ${path}`;
  switch (key) {
    case 'GET /api/v1/namespaces/kube-public/configmaps/cluster-info': {
      const kubeconfig = clusterInfoKubeconfig(ctx.read(`${PKI}/ca.crt`), state.controlPlaneEndpoint);
      const signatures = Object.fromEntries(
        state.tokens.map(splitToken).map((t) => [`jws-kubeconfig-${t.id}`, detachedJws(kubeconfig, t.id, t.secret)]),
      );
      return ok({
        kind: 'ConfigMap',
        apiVersion: 'v1',
        metadata: { name: 'cluster-info', namespace: 'kube-public' },
        data: { kubeconfig, ...signatures },
      });
    }
    case 'GET /api/v1/namespaces/kube-system/configmaps/kubeadm-config':
      if (anonymous) return forbidden(user, 'get', 'configmaps', 'kubeadm-config', 'kube-system');
      if (!state.clusterConfiguration)
        return failure(404, 'NotFound', 'configmaps "kubeadm-config" not found', { name: 'kubeadm-config', kind: 'configmaps' });
      return ok({
        kind: 'ConfigMap',
        apiVersion: 'v1',
        metadata: { name: 'kubeadm-config', namespace: 'kube-system' },
        data: { ClusterConfiguration: toYaml(state.clusterConfiguration) },
      });
    case 'GET /api/v1/namespaces/kube-system/secrets/kubeadm-certs': {
      if (anonymous) return forbidden(user, 'get', 'secrets', 'kubeadm-certs', 'kube-system');
      if (!state.certificateKey || !state.uploadedCerts)
        return failure(404, 'NotFound', 'secrets "kubeadm-certs" not found', { name: 'kubeadm-certs', kind: 'secrets' });
      const aesKey = Buffer.from(state.certificateKey, 'hex');
      const data = Object.fromEntries(
        SECRET_KEYS.filter((k) => state.uploadedCerts![k] !== undefined).map((k) => [
          k,
          seal(Buffer.from(state.uploadedCerts![k]!), aesKey).toString('base64'),
        ]),
      );
      return ok({ kind: 'Secret', apiVersion: 'v1', metadata: { name: 'kubeadm-certs', namespace: 'kube-system' }, type: 'Opaque', data });
    }
    case 'POST /api/v1/nodes':
      if (anonymous) return forbidden(user, 'create', 'nodes', '');
      return createNode(ctx, state, body, user);
    case 'GET /api/v1/nodes': {
      // the node itself stands for admin.conf's client certificate (the stand-in's are stubs)
      const loopback = /^(127\.|::1$|::ffff:127\.)/.test(req.socket.remoteAddress ?? '');
      if (anonymous && !loopback) return forbidden(user, 'list', 'nodes', '');
      const items = Object.values(state.nodes).map((n) => ({
        metadata: {
          name: n.name,
          labels: n.labels,
          creationTimestamp: n.registered,
          annotations: { 'kiln-test-standin/registered-by': n.by },
        },
        spec: { taints: n.taints },
      }));
      return ok({ kind: 'NodeList', apiVersion: 'v1', metadata: { resourceVersion: String(items.length) }, items });
    }
  }
  if (['/readyz', '/livez', '/healthz', '/version', '/api/v1/nodes'].includes(path) || path.startsWith('/api/v1/namespaces/'))
    return failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  return failure(404, 'NotFound', 'the server could not find the requested resource');
}

/** A Node a joiner registers (kubelet registration), checked like the API server's validation, recorded in the state. */
function createNode(ctx: Ctx, state: ApiState, body: string, user: string): Reply {
  let node: unknown;
  try {
    node = JSON.parse(body);
  } catch (error) {
    return failure(400, 'BadRequest', `the body of the request was in an unknown format: ${(error as Error).message}`);
  }
  if (!isMapping(node) || node.apiVersion !== 'v1' || node.kind !== 'Node')
    return failure(
      400,
      'BadRequest',
      `the API version in the data (${isMapping(node) ? node.apiVersion : undefined}) does not match the expected API version (v1)`,
    );
  const metadata = isMapping(node.metadata) ? node.metadata : {};
  const spec = isMapping(node.spec) ? node.spec : {};
  const name = String(metadata.name ?? '');
  if (!name) return failure(422, 'Invalid', 'Node "" is invalid: metadata.name: Required value: name or generateName is required');
  const bad = isDns1123Subdomain(name);
  if (bad.length > 0)
    return failure(422, 'Invalid', `Node "${name}" is invalid: metadata.name: Invalid value: "${name}": ${bad.join(', ')}`);
  const registered = new Date().toISOString();
  // labels and taints are kept as the kubelet sent them
  const labels = (metadata.labels ?? {}) as ApiNode['labels'];
  const taints = (spec.taints ?? []) as ApiNode['taints'];
  state.nodes[name] = { name, labels, taints, registered, by: user };
  saveApiState(ctx.root, state);
  return { status: 201, body: { ...node, metadata: { ...metadata, creationTimestamp: registered } } };
}

function handle(ctx: Ctx, req: IncomingMessage, res: ServerResponse, body: string, log: (line: string) => void): void {
  const path = new URL(req.url ?? '/', 'https://apiserver').pathname;
  let reply: Reply;
  let user = '-';
  if (req.method === 'GET' && ['/readyz', '/livez', '/healthz'].includes(path)) reply = { status: 200, body: 'ok' };
  else if (req.method === 'GET' && path === '/version') reply = ok(versionInfo(ctx.kubeVersion()));
  else {
    const state = loadApiState(ctx.root);
    const who = state && authenticate(state, req.headers.authorization);
    user = who ?? '-';
    if (!state)
      reply = failure(
        503,
        'ServiceUnavailable',
        `${STANDIN} the stand-in API server has no state (${ctx.root === '/' ? '' : ctx.root}/var/lib/kiln-test/apiserver.json): kubeadm init did not run in network mode here`,
      );
    else if (!who) reply = failure(401, 'Unauthorized', 'Unauthorized');
    else reply = route(ctx, req, path, body, state, who);
  }
  const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  res
    .writeHead(reply.status, { 'content-type': typeof reply.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json' })
    .end(text);
  // never the Authorization header or a body: they hold the token and the keys
  log(`${new Date().toISOString()} ${req.method} ${path} ${reply.status} user=${user} from=${req.socket.remoteAddress ?? '?'}`);
}

export interface RunningApiserver {
  host: string;
  port: number;
  close(): Promise<void>;
}

/** Serves on listenAddress() with /etc/kubernetes/pki/apiserver.{crt,key}; `log` gets one line per request, secrets left out. */
export async function startApiserver(ctx: Ctx, log: (line: string) => void): Promise<RunningApiserver> {
  const { host, port } = listenAddress(ctx);
  const server: Server = createServer({ cert: ctx.read(`${PKI}/apiserver.crt`), key: ctx.read(`${PKI}/apiserver.key`) }, (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 1 << 20) chunks.push(c);
    });
    req.on('end', () => {
      try {
        if (size > 1 << 20) res.writeHead(413).end();
        else handle(ctx, req, res, Buffer.concat(chunks).toString('utf8'), log);
      } catch (error) {
        log(`${new Date().toISOString()} ${req.method} ${req.url?.split('?')[0]} 500 ${(error as Error).message}`);
        if (!res.headersSent) res.writeHead(500).end();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new Refusal(
          `failed to create listener: failed to listen on ${host}:${port}: listen tcp ${host}:${port}: bind: ${e.code === 'EADDRINUSE' ? 'address already in use' : e.message}`,
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  const actual = typeof bound === 'object' && bound ? bound.port : port;
  log(`Serving securely on ${host}:${actual} (${STANDIN} TEST ONLY stand-in kube-apiserver)`);
  return {
    host,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
