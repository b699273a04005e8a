// kubeadm across a real network (network mode): init on one node root signs the API server's
// certificate with the cluster CA kiln placed and leaves the stand-in API server its state; that
// server answers on 127.0.0.1; joiners on other roots discover it (token, CA pin, certificate key)
// over HTTPS and register their Nodes. Failures come with kubeadm's words and exit codes.
import { X509Certificate } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { discoveryHash, generateCa, type CaPair } from '../../../builder/cluster/pki.ts';
import type { RunningApiserver } from '../../standins/apiserver/server.ts';
import { loadSigningCa, signServingCert } from '../../standins/apiserver/serving-cert.ts';
import { httpsRequest } from '../../standins/lib/https.ts';
import {
  CA_HASH,
  CERT_KEY,
  NETWORK,
  NodeRoot,
  TOKEN,
  freePort,
  initConfig,
  joinConfig,
  serveNode,
  type JoinDoc,
  type Ran,
} from '../../standins/testing.ts';

const CFG = '/etc/kiln/kubeadm.yaml';
const TOKEN_SECRET = TOKEN.split('.')[1]!;
const IDENTITY = "couldn't validate the identity of the API Server";

let ca: CaPair;
let otherCa: CaPair;
beforeAll(async () => {
  [ca, otherCa] = await Promise.all([generateCa('kubernetes', 'ecdsa-p256'), generateCa('kubernetes', 'ecdsa-p256')]);
});

const roots: NodeRoot[] = [];
const servers: RunningApiserver[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const r of roots.splice(0)) r.cleanup();
});

function root(): NodeRoot {
  const r = new NodeRoot();
  roots.push(r);
  return r;
}

/** Everything the stand-ins printed, to check no secret is among it. */
const printed: string[] = [];
function remember(r: Ran): Ran {
  printed.push(r.stdout, r.stderr);
  return r;
}

/** The init node: kiln's CA in place, kubeadm init --upload-certs in network mode, its API server started. */
async function initCluster(opts: { start?: boolean } = {}) {
  const port = await freePort();
  const init = root();
  init.write('/etc/kubernetes/pki/ca.crt', ca.cert);
  init.write('/etc/kubernetes/pki/ca.key', ca.key, 0o600);
  init.yaml(
    CFG,
    ...initConfig(({ init: i, cluster }) => {
      i.localAPIEndpoint = { advertiseAddress: '127.0.0.1', bindPort: port };
      i.certificateKey = CERT_KEY;
      cluster.controlPlaneEndpoint = `127.0.0.1:${port}`;
    }),
  );
  // firstboot's flags: neither the token nor the certificate key is printed
  const r = remember(
    await init.run('kubeadm', ['init', '--config', CFG, '--upload-certs', '--skip-token-print', '--skip-certificate-key-print'], NETWORK),
  );
  expect(r.code, r.stderr).toBe(0);
  const logs: string[] = [];
  if (opts.start !== false) servers.push(await serveNode(init, port, logs));
  return { init, port, endpoint: `127.0.0.1:${port}`, logs, ran: r };
}

const JOIN = '/etc/kiln/join.yaml';
async function join(endpoint: string, edit: (j: JoinDoc) => void = () => {}) {
  const node = root();
  node.yaml(
    JOIN,
    joinConfig((j) => {
      j.discovery.bootstrapToken.apiServerEndpoint = endpoint;
      j.discovery.bootstrapToken.caCertHashes = [CA_HASH, discoveryHash(ca.cert)];
      edit(j);
    }),
  );
  return { node, r: remember(await node.run('kubeadm', ['join', '--config', JOIN], NETWORK)) };
}

const asControlPlane =
  (port: number, key = CERT_KEY) =>
  (j: JoinDoc) => {
    j.nodeRegistration.name = 'cp-2';
    j.controlPlane = { certificateKey: key, localAPIEndpoint: { advertiseAddress: '127.0.0.2', bindPort: port } };
  };

/** The stand-in API server's NodeList, as far as these tests read it. */
interface NodeList {
  items: Array<{ metadata: { name: string; labels: Record<string, string> }; spec: { taints: unknown[] } }>;
}

/** The node names the init node's API server lists (asked with the bootstrap token). */
async function nodesOf(endpoint: string): Promise<string[]> {
  const reply = await httpsRequest(`https://${endpoint}/api/v1/nodes`, { ca: ca.cert, token: TOKEN });
  expect(reply.status).toBe(200);
  return (JSON.parse(reply.body).items as Array<{ metadata: { name: string } }>).map((n) => n.metadata.name).sort();
}

function expectNoSecrets(logs: string[]) {
  for (const text of [...printed.splice(0), ...logs]) {
    expect(text).not.toContain(TOKEN_SECRET);
    expect(text).not.toContain(CERT_KEY);
  }
}

describe('kubeadm init in network mode', () => {
  it(
    'signs apiserver.crt with the cluster CA for kubeadm SANs and saves what the API server serves (0600)',
    { timeout: 15_000 },
    async () => {
      const { init, ran } = await initCluster({ start: false });
      const cert = new X509Certificate(init.read('/etc/kubernetes/pki/apiserver.crt'));
      const caCert = new X509Certificate(ca.cert);
      expect(cert.checkIssued(caCert) && cert.verify(caCert.publicKey)).toBe(true);
      expect(cert.subject).toBe('CN=kube-apiserver');
      expect(cert.ca).toBe(false);
      expect(cert.subjectAltName?.split(', ').sort()).toEqual(
        [
          'DNS:cp-1',
          'DNS:kubernetes',
          'DNS:kubernetes.default',
          'DNS:kubernetes.default.svc',
          'DNS:kubernetes.default.svc.cluster.local',
          'IP Address:10.96.0.1',
          'IP Address:127.0.0.1',
        ].sort(),
      );
      expect(init.mode('/etc/kubernetes/pki/apiserver.key')).toBe(0o600);
      // the CA kiln placed is kept, and the join command shows its pin
      expect(init.read('/etc/kubernetes/pki/ca.crt')).toBe(ca.cert);
      expect(ran.stdout).toContain(`--discovery-token-ca-cert-hash ${discoveryHash(ca.cert)}`);
      expect(init.mode('/var/lib/kiln-test/apiserver.json')).toBe(0o600);
      const state = JSON.parse(init.read('/var/lib/kiln-test/apiserver.json'));
      expect(state).toMatchObject({
        controlPlaneEndpoint: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
        tokens: [TOKEN],
        certificateKey: CERT_KEY,
        clusterConfiguration: { clusterName: 'lab' },
      });
      expect(Object.keys(state.uploadedCerts).sort()).toEqual([
        'ca.crt',
        'ca.key',
        'etcd-ca.crt',
        'etcd-ca.key',
        'front-proxy-ca.crt',
        'front-proxy-ca.key',
        'sa.key',
        'sa.pub',
      ]);
      expect(state.uploadedCerts['ca.key']).toBe(ca.key);
      expect(Object.keys(state.nodes)).toEqual(['cp-1']);
      // no systemd under a test root: the test starts the server
      expect(ran.record.warnings).toEqual(expect.arrayContaining([expect.stringContaining('start the API server yourself')]));
      expectNoSecrets([]);
    },
  );

  it('keeps the simulated cluster when the CA is the stand-in stub (no serving cert, no state)', async () => {
    const init = root();
    init.yaml(CFG, ...initConfig());
    const r = await init.run('kubeadm', ['init', '--config', CFG], NETWORK);
    expect(r.code, r.stderr).toBe(0);
    expect(init.read('/etc/kubernetes/pki/apiserver.crt')).toContain('kiln-test-standin stub');
    expect(init.exists('/var/lib/kiln-test/apiserver.json')).toBe(false);
    expect(r.record.warnings).toEqual(expect.arrayContaining([expect.stringContaining('are not a CA and its key')]));
  });
});

describe('kubeadm join in network mode', () => {
  it('joins a worker and a control plane through the init node API server, which lists both', { timeout: 20_000 }, async () => {
    const { endpoint, port, logs } = await initCluster();

    const { node: worker, r: w } = await join(endpoint);
    expect(w.code, w.stderr).toBe(0);
    expect(worker.read('/etc/kubernetes/pki/ca.crt')).toBe(ca.cert); // the CA discovery found
    const kubeletConf = YAML.parse(worker.read('/etc/kubernetes/kubelet.conf'));
    expect(kubeletConf.clusters[0].cluster).toEqual({
      server: `https://${endpoint}`,
      'certificate-authority-data': Buffer.from(ca.cert).toString('base64'),
    });

    const { node: cp, r: c } = await join(endpoint, asControlPlane(port));
    expect(c.code, c.stderr).toBe(0);
    // the shared certificates, downloaded and decrypted; keys 0600
    expect(cp.read('/etc/kubernetes/pki/ca.key')).toBe(ca.key);
    expect(cp.mode('/etc/kubernetes/pki/ca.key')).toBe(0o600);
    expect(cp.mode('/etc/kubernetes/pki/etcd/ca.key')).toBe(0o600);
    expect(cp.mode('/etc/kubernetes/pki/ca.crt')).toBe(0o644);
    // its own serving certificate, from the cluster's configuration (kubeadm-config)
    const serving = new X509Certificate(cp.read('/etc/kubernetes/pki/apiserver.crt'));
    expect(serving.verify(new X509Certificate(ca.cert).publicKey)).toBe(true);
    expect(serving.subjectAltName).toContain('DNS:cp-2');
    expect(serving.subjectAltName).toContain('IP Address:127.0.0.2');
    expect(serving.subjectAltName).toContain('IP Address:127.0.0.1'); // the control-plane endpoint
    // and its own API server's state: the token it joined with, the certificates
    const cpState = JSON.parse(cp.read('/var/lib/kiln-test/apiserver.json'));
    expect(cpState).toMatchObject({
      controlPlaneEndpoint: endpoint,
      tokens: [TOKEN],
      certificateKey: CERT_KEY,
      clusterConfiguration: { clusterName: 'lab' },
    });
    expect(cp.mode('/var/lib/kiln-test/apiserver.json')).toBe(0o600);

    expect(await nodesOf(endpoint)).toEqual(['cp-1', 'cp-2', 'worker-1']);
    const list = JSON.parse((await httpsRequest(`https://${endpoint}/api/v1/nodes`, { ca: ca.cert, token: TOKEN })).body) as NodeList;
    const cp2 = list.items.find((n) => n.metadata.name === 'cp-2')!;
    expect(cp2.metadata.labels).toMatchObject({ 'node-role.kubernetes.io/control-plane': '' });
    expect(cp2.spec.taints).toEqual([{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]);
    expect(logs.join('\n')).toMatch(/GET \/api\/v1\/namespaces\/kube-system\/secrets\/kubeadm-certs 200 user=system:bootstrap:abcdef/);
    expect(logs.join('\n')).toMatch(/POST \/api\/v1\/nodes 201/);
    expectNoSecrets(logs);
  });

  it('fails like kubeadm for an unknown token id and for a wrong token secret (exit 1, nothing written)', { timeout: 15_000 }, async () => {
    const { endpoint, logs } = await initCluster();
    const { r: unknown } = await join(endpoint, (j) => (j.discovery.bootstrapToken.token = 'zzzzzz.0123456789abcdef'));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(
      `error execution phase preflight: ${IDENTITY}: could not find a JWS signature in the cluster-info ConfigMap for token ID "zzzzzz"`,
    );
    expect(unknown.record.wrote).toBeUndefined();
    const { r: forged } = await join(endpoint, (j) => (j.discovery.bootstrapToken.token = 'abcdef.ffffffffffffffff'));
    expect(forged.code).toBe(1);
    expect(forged.stderr).toContain(
      `${IDENTITY}: failed to verify JWS signature of received cluster info object, can't trust this API Server`,
    );
    expectNoSecrets(logs);
  });

  it('fails like kubeadm when no pin matches the cluster CA', { timeout: 15_000 }, async () => {
    const { endpoint, logs } = await initCluster();
    const { r } = await join(endpoint, (j) => (j.discovery.bootstrapToken.caCertHashes = [CA_HASH]));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${IDENTITY}: cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "${discoveryHash(ca.cert)}" are pinned`,
    );
    expect(r.record.wrote).toBeUndefined();
    expectNoSecrets(logs);
  });

  it('fails like kubeadm with a wrong certificate key, and writes no certificate', { timeout: 15_000 }, async () => {
    const { endpoint, port, logs } = await initCluster();
    const { node, r } = await join(endpoint, asControlPlane(port, 'b'.repeat(64)));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'error execution phase control-plane-prepare/download-certs: error downloading certs: error decoding secret data with provided key: cipher: message authentication failed',
    );
    expect(node.exists('/etc/kubernetes/pki/ca.key')).toBe(false);
    expect(await nodesOf(endpoint)).toEqual(['cp-1']);
    expectNoSecrets(logs);
  });

  it('fails with "connection refused" when nothing listens at the endpoint (exit 1, to retry)', { timeout: 15_000 }, async () => {
    const port = await freePort();
    const { r } = await join(`127.0.0.1:${port}`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `error execution phase preflight: ${IDENTITY}: failed to request the cluster-info ConfigMap: Get "https://127.0.0.1:${port}/api/v1/namespaces/kube-public/configmaps/cluster-info?timeout=10s": dial tcp 127.0.0.1:${port}: connect: connection refused`,
    );
    expect(r.record.wrote).toBeUndefined();
    expectNoSecrets([]);
  });

  it(
    'refuses a server whose certificate the pinned CA did not sign, or that is not valid for the endpoint',
    { timeout: 20_000 },
    async () => {
      const { init, port, endpoint } = await initCluster({ start: false });
      const serve = async (signer: CaPair, ips: string[]) => {
        const cert = await signServingCert(loadSigningCa(signer.cert, signer.key)!, { dns: ['kubernetes'], ips });
        init.write('/etc/kubernetes/pki/apiserver.crt', cert.cert);
        init.write('/etc/kubernetes/pki/apiserver.key', cert.key, 0o600);
        const server = await serveNode(init, port, []);
        servers.push(server);
        return server;
      };
      const impostor = await serve(otherCa, ['127.0.0.1']);
      const signedElsewhere = (await join(endpoint)).r;
      expect(signedElsewhere.code).toBe(1);
      expect(signedElsewhere.stderr).toContain(
        `${IDENTITY}: failed to request the cluster-info ConfigMap: Get "https://${endpoint}/api/v1/namespaces/kube-public/configmaps/cluster-info?timeout=10s": tls: failed to verify certificate: x509: certificate signed by unknown authority`,
      );
      await impostor.close();
      await serve(ca, ['10.96.0.1']);
      const wrongName = (await join(endpoint)).r;
      expect(wrongName.code).toBe(1);
      expect(wrongName.stderr).toContain('tls: failed to verify certificate: x509: certificate is valid for 10.96.0.1, not 127.0.0.1');
    },
  );

  it('keeps the knob mode: with the cluster-ca.crt knob nothing crosses the network', async () => {
    const { node, r } = await join('127.0.0.1:1', (j) => (j.discovery.bootstrapToken.caCertHashes = [discoveryHash(ca.cert)]));
    expect(r.code).toBe(1); // no knob: network mode, nothing listens on port 1
    node.knob('cluster-ca.crt', ca.cert);
    const again = await node.run('kubeadm', ['join', '--config', JOIN], NETWORK);
    expect(again.code, again.stderr).toBe(0);
    expect(node.read('/etc/kubernetes/pki/ca.crt')).toBe(ca.cert);
  });
});
