// TEST ONLY. kubeadm across a real network ("network mode", see the README): init leaves the
// stand-in API server what joiners need and starts it; join runs token discovery against it, reads
// the cluster's ClusterConfiguration, downloads the control-plane certificates and registers its
// Node. It applies at root / (or with KILN_STANDIN_NETWORK=1) unless the `cluster-ca.crt` knob
// simulates the cluster instead.
import { spawnSync } from 'node:child_process';
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { detachedJwsValid, open, splitToken } from '../apiserver/crypto.ts';
import { apiserverAltNames, loadSigningCa, signServingCert, type SigningCa } from '../apiserver/serving-cert.ts';
import { PKI, listenAddress } from '../apiserver/server.ts';
import { saveApiState, type ApiState } from '../apiserver/state.ts';
import { Refusal, STANDIN, isMapping, parseYamlDocuments, type Ctx } from '../lib/context.ts';
import { APISERVER_UNIT } from '../lib/program.ts';
import { httpsRequest, statusMessage, type HttpOptions, type HttpReply } from '../lib/https.ts';
import { nthAddress, parseHostPort, validateSubnets } from '../lib/validate.ts';
import type { BootstrapTokenDiscovery, ClusterConfiguration, Doc, Networking } from './config.ts';
import { SHARED_CERTS, caPin } from './effects.ts';

const API_CHECK_MS = 4 * 60_000;

export function networkMode(ctx: Ctx): boolean {
  const env = ctx.env.KILN_STANDIN_NETWORK;
  return (env === '1' || (env !== '0' && ctx.root === '/')) && ctx.knob('cluster-ca.crt') === undefined;
}

/** The cluster CA when it can sign (kiln placed a real one), else undefined with a warning: the API server then cannot serve. */
export function signingCa(ctx: Ctx, certDir = PKI): SigningCa | undefined {
  const [crt, key] = [`${certDir}/ca.crt`, `${certDir}/ca.key`];
  const ca = certDir === PKI && ctx.exists(crt) && ctx.exists(key) ? loadSigningCa(ctx.read(crt), ctx.read(key)) : undefined;
  if (!ca)
    ctx.warn(
      `${STANDIN} network mode: ${crt} and ${key} are not a CA and its key (the stand-in's stubs?), so no API server serves this node; joiners cannot discover it`,
    );
  return ca;
}

/** apiserver.crt and apiserver.key, signed by the cluster CA for kubeadm's SANs. */
export async function writeServingCert(
  ctx: Ctx,
  ca: SigningCa,
  cluster: ClusterConfiguration,
  nodeName: string,
  advertiseAddress: string,
): Promise<void> {
  const net: Networking = cluster.networking ?? {};
  const subnet = validateSubnets(String(net.serviceSubnet ?? '10.96.0.0/12').split(',')[0]!, 0).cidrs[0];
  const alt = apiserverAltNames({
    nodeName,
    dnsDomain: String(net.dnsDomain ?? 'cluster.local'),
    serviceIp: subnet && nthAddress(subnet, 1),
    advertiseAddress,
    endpointHost: cluster.controlPlaneEndpoint ? parseHostPort(String(cluster.controlPlaneEndpoint))?.host : undefined,
    certSANs: (cluster.apiServer?.certSANs ?? []) as string[],
  });
  const { cert, key } = await signServingCert(ca, alt);
  ctx.out(
    `[certs] Generating "apiserver" certificate and key\n[certs] apiserver serving cert is signed for DNS names [${alt.dns.join(' ')}] and IPs [${alt.ips.join(' ')}]\n`,
  );
  ctx.write(`${PKI}/apiserver.crt`, cert);
  ctx.write(`${PKI}/apiserver.key`, key, 0o600);
}

/** The shared certificates by their kubeadm-certs Secret key (etcd/ca.crt is etcd-ca.crt), those present. */
export function sharedCerts(ctx: Ctx): Record<string, string> {
  return Object.fromEntries(
    SHARED_CERTS.filter((f) => ctx.exists(`${PKI}/${f}`)).map((f) => [f.replace('/', '-'), ctx.read(`${PKI}/${f}`)]),
  );
}

/** Saves what the API server serves; on a node (root /) starts kiln-test-apiserver.service and waits, as kubeadm's api-check does (4m0s), until it is ready. */
export async function serveCluster(ctx: Ctx, state: ApiState, phase: string): Promise<void> {
  saveApiState(ctx.root, state);
  if (ctx.root !== '/') {
    ctx.warn(
      `${STANDIN} network mode under ${ctx.root}: no systemd here, start the API server yourself (KILN_STANDIN_ROOT=${ctx.root} kiln-test-standins apiserver)`,
    );
    return;
  }
  const fail = (why: string) =>
    new Refusal(
      `error execution phase ${phase}: ${STANDIN} the stand-in API server (${APISERVER_UNIT}) ${why}; see journalctl -u ${APISERVER_UNIT}`,
    );
  const started = spawnSync('systemctl', ['start', '--no-block', APISERVER_UNIT], { encoding: 'utf8', timeout: 30_000 });
  if (started.status !== 0)
    throw fail(`could not be started: ${(started.stderr || started.error?.message || `exit ${started.status}`).trim()}`);
  const { host, port } = listenAddress(ctx);
  const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `https://${isIP(local) === 6 ? `[${local}]` : local}:${port}/readyz`;
  let last = '';
  const deadline = Date.now() + API_CHECK_MS;
  while (Date.now() < deadline) {
    try {
      const reply = await httpsRequest(url, { timeoutMs: 2000 });
      if (reply.status === 200) return;
      last = `status ${reply.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(250);
  }
  throw fail(`did not answer ${url} within 4m0s: ${last}`);
}

// --- join ---------------------------------------------------------------------------------------

/** What token discovery found: the cluster CA (PEM) and the API server of cluster-info. */
export interface Discovered {
  ca: string;
  server: string;
}

const CLUSTER_INFO = '/api/v1/namespaces/kube-public/configmaps/cluster-info?timeout=10s';

/**
 * kubeadm's discovery/token: cluster-info fetched without verifying the server, its JWS for the
 * token id checked with the token secret, the CA it holds checked against the pins, then fetched
 * again over TLS verified with that CA. kubeadm polls for up to discovery.timeout; the stand-in
 * fails at once (kiln's firstboot retries the join).
 */
export async function discoverOverNetwork(b: BootstrapTokenDiscovery, pins: string[], fail: (why: string) => Refusal): Promise<Discovered> {
  const token = splitToken(String(b.token));
  const url = `https://${b.apiServerEndpoint}${CLUSTER_INFO}`;
  const clusterInfo = async (ca?: string): Promise<Record<string, string>> => {
    let reply: HttpReply;
    try {
      reply = await httpsRequest(url, ca ? { ca } : {});
    } catch (error) {
      throw fail(`failed to request the cluster-info ConfigMap: ${(error as Error).message}`);
    }
    if (reply.status !== 200) throw fail(`failed to request the cluster-info ConfigMap: ${statusMessage(reply)}`);
    const data = dataOf(reply);
    if (!data) throw fail('failed to request the cluster-info ConfigMap: the server answered with something other than a ConfigMap');
    if (!data[`jws-kubeconfig-${token.id}`])
      throw fail(`could not find a JWS signature in the cluster-info ConfigMap for token ID "${token.id}"`);
    return data;
  };
  const insecure = await clusterInfo();
  const kubeconfig = insecure.kubeconfig;
  if (!kubeconfig)
    throw fail(
      "there is no kubeconfig key in the cluster-info ConfigMap. This API Server isn't set up for token bootstrapping, can't connect",
    );
  if (!detachedJwsValid(insecure[`jws-kubeconfig-${token.id}`]!, kubeconfig, token.id, token.secret))
    throw fail("failed to verify JWS signature of received cluster info object, can't trust this API Server");
  const doc = parseYamlDocuments(kubeconfig).docs[0];
  const clusters = isMapping(doc) && Array.isArray(doc.clusters) ? (doc.clusters as Doc[]) : [];
  if (clusters.length !== 1)
    throw fail(`expected the kubeconfig file in the cluster-info ConfigMap to have a single cluster, but it had ${clusters.length}`);
  const entry = clusters[0]!.cluster;
  const cluster: Doc = isMapping(entry) ? entry : {};
  const ca = Buffer.from(String(cluster['certificate-authority-data'] ?? ''), 'base64').toString('utf8');
  const found = { ca, server: String(cluster.server ?? '') };
  if (pins.length === 0) return found; // unsafeSkipCAVerification
  const pin = caPin(ca);
  if (!pin)
    throw fail('failed to parse cluster CA from the cluster-info ConfigMap: data does not contain any valid RSA or ECDSA certificates');
  if (!pins.includes(pin.slice('sha256:'.length)))
    throw fail(`cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "${pin}" are pinned`);
  const secure = await clusterInfo(ca);
  if (secure.kubeconfig !== kubeconfig)
    throw fail('the second kubeconfig from the cluster-info ConfigMap (using validated TLS) was different from the first');
  return found;
}

/** The `data` of a ConfigMap or Secret reply; undefined when the body is not one. */
function dataOf(reply: HttpReply): Record<string, string> | undefined {
  try {
    const obj = JSON.parse(reply.body) as { data?: unknown };
    return isMapping(obj) ? ((obj.data ?? {}) as Record<string, string>) : undefined;
  } catch {
    return undefined;
  }
}

/** A request of the TLS bootstrap client: the discovered server, verified with the discovered CA, the bootstrap token. */
function bootstrapRequest(found: Discovered, token: string, path: string, opts: HttpOptions = {}): Promise<HttpReply> {
  return httpsRequest(`${found.server}${path}`, { ...opts, ca: found.ca, token });
}

/** The kubeadm-config ConfigMap's ClusterConfiguration (kubeadm's "Reading configuration from the cluster"). */
export async function fetchClusterConfiguration(found: Discovered, token: string, phase: string): Promise<ClusterConfiguration> {
  const fail = (why: string) =>
    new Refusal(`error execution phase ${phase}: unable to fetch the kubeadm-config ConfigMap: failed to get config map: ${why}`);
  let reply: HttpReply;
  try {
    reply = await bootstrapRequest(found, token, '/api/v1/namespaces/kube-system/configmaps/kubeadm-config?timeout=10s');
  } catch (error) {
    throw fail((error as Error).message);
  }
  if (reply.status !== 200) throw fail(statusMessage(reply));
  const text = dataOf(reply)?.ClusterConfiguration ?? '';
  const doc = parseYamlDocuments(text).docs[0];
  if (!isMapping(doc))
    throw new Refusal(
      `error execution phase ${phase}: unable to fetch the kubeadm-config ConfigMap: ClusterConfiguration key value pair missing`,
    );
  return doc;
}

/** copycerts.DownloadCerts: the kubeadm-certs Secret, each value decrypted with the certificate key, written under the PKI directory. */
export async function downloadCerts(ctx: Ctx, found: Discovered, token: string, certificateKey: string): Promise<Record<string, string>> {
  const fail = (why: string) => new Refusal(`error execution phase control-plane-prepare/download-certs: error downloading certs: ${why}`);
  let reply: HttpReply;
  try {
    reply = await bootstrapRequest(found, token, '/api/v1/namespaces/kube-system/secrets/kubeadm-certs?timeout=10s');
  } catch (error) {
    throw fail(`error downloading the secret: ${(error as Error).message}`);
  }
  if (reply.status === 404)
    throw fail(
      'error downloading the secret: Secret "kubeadm-certs" was not found in the "kube-system" Namespace. This Secret might have expired. Please, run `kubeadm init phase upload-certs --upload-certs` on a control plane to generate a new one',
    );
  if (reply.status !== 200) throw fail(`error downloading the secret: ${statusMessage(reply)}`);
  const key = Buffer.from(certificateKey, 'hex');
  const certs: Record<string, string> = {};
  // all or nothing, as kubeadm: no file is written unless every value decrypts
  for (const [name, value] of Object.entries(dataOf(reply) ?? {})) {
    const sealed = Buffer.from(value, 'base64');
    try {
      certs[name] = sealed.length > 0 ? open(sealed, key).toString('utf8') : '';
    } catch (error) {
      throw fail(`error decoding secret data with provided key: ${(error as Error).message}`);
    }
  }
  for (const file of SHARED_CERTS) {
    const pem = certs[file.replace('/', '-')];
    if (pem) ctx.write(`${PKI}/${file}`, pem, file.endsWith('.key') ? 0o600 : 0o644);
  }
  return certs;
}

/** The Node the kubelet registers, POSTed to the cluster's API server. */
export async function postNode(
  found: Discovered,
  token: string,
  name: string,
  node: { labels: Record<string, string>; taints: unknown[] },
): Promise<void> {
  const fail = (why: string) =>
    new Refusal(
      `error execution phase kubelet-start: ${STANDIN} the kubelet could not register node "${name}" with the API server: ${why}`,
    );
  const body = JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: node.labels }, spec: { taints: node.taints } });
  let reply: HttpReply;
  try {
    reply = await bootstrapRequest(found, token, '/api/v1/nodes', { method: 'POST', body });
  } catch (error) {
    throw fail((error as Error).message);
  }
  if (reply.status !== 201) throw fail(statusMessage(reply));
}
