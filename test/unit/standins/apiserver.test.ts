// The stand-in kube-apiserver (`kiln-test-standins apiserver`): what it answers whom, checked
// against Kubernetes' own test vectors and an independent decryption; the process entry and its
// unit in the test-image overlay.
import { spawn } from 'node:child_process';
import { createDecipheriv, createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { generateCa, type CaPair } from '../../../builder/cluster/pki.ts';
import { detachedJws, detachedJwsValid, open, seal } from '../../standins/apiserver/crypto.ts';
import { listenAddress, type RunningApiserver } from '../../standins/apiserver/server.ts';
import { APISERVER_UNIT_TEXT, writeApiserverUnit } from '../../standins/build.ts';
import { Ctx } from '../../standins/lib/context.ts';
import { httpsRequest } from '../../standins/lib/https.ts';
import { CERT_KEY, MAIN, NETWORK, NodeRoot, TOKEN, freePort, initConfig, serveNode } from '../../standins/testing.ts';

describe('the secrets of discovery', () => {
  it('signs cluster-info like k8s.io/cluster-bootstrap (its test vector)', () => {
    const content = 'Hello from the other side. I must have called a thousand times.';
    expect(detachedJws(content, 'joshua', 'my voice is my passcode')).toBe(
      'eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8',
    );
    expect(detachedJws('', 'joshua', 'my voice is my passcode')).toBe(
      'eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..7Ui1ALizW4jXphVUB7xUqC9vLYLL9RZeOFfVLoB7Tgk',
    );
    expect(
      detachedJwsValid(
        'eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8',
        content,
        'joshua',
        'my voice is my passcode',
      ),
    ).toBe(true);
    expect(
      detachedJwsValid(
        'eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8',
        `${content}!`,
        'joshua',
        'my voice is my passcode',
      ),
    ).toBe(false);
  });

  it('seals as nonce, ciphertext, tag (AES-256-GCM) and fails with Go words on a wrong key', () => {
    const key = Buffer.from(CERT_KEY, 'hex');
    const sealed = seal(Buffer.from('secret pem'), key);
    expect(sealed.length).toBe(12 + 10 + 16);
    expect(open(sealed, key).toString()).toBe('secret pem');
    expect(() => open(sealed, Buffer.alloc(32, 1))).toThrow('cipher: message authentication failed');
    expect(() => open(sealed.subarray(0, 5), key)).toThrow('size of data is less than the nonce');
  });
});

describe('kiln-test-standins apiserver', () => {
  let ca: CaPair;
  beforeAll(async () => {
    ca = await generateCa('kubernetes', 'ecdsa-p256');
  });
  let node: NodeRoot;
  let server: RunningApiserver | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    node.cleanup();
  });

  /** An init node in network mode (CA in place, certificates uploaded); returns its API server's base URL. */
  async function initNode(): Promise<{ base: string; port: number; logs: string[] }> {
    node = new NodeRoot();
    const port = await freePort();
    node.write('/etc/kubernetes/pki/ca.crt', ca.cert);
    node.write('/etc/kubernetes/pki/ca.key', ca.key, 0o600);
    node.yaml(
      '/etc/kiln/kubeadm.yaml',
      ...initConfig(
        ({ init, cluster }) => (
          (init.localAPIEndpoint = { advertiseAddress: '127.0.0.1', bindPort: port }),
          (init.certificateKey = CERT_KEY),
          (cluster.controlPlaneEndpoint = `127.0.0.1:${port}`)
        ),
      ),
    );
    const r = await node.run(
      'kubeadm',
      ['init', '--config', '/etc/kiln/kubeadm.yaml', '--upload-certs', '--skip-certificate-key-print', '--skip-token-print'],
      NETWORK,
    );
    expect(r.code, r.stderr).toBe(0);
    return { base: `https://127.0.0.1:${port}`, port, logs: [] };
  }

  it('answers health, version and cluster-info anonymously; cluster-info is signed per bootstrap token', { timeout: 15_000 }, async () => {
    const { base, port, logs } = await initNode();
    server = await serveNode(node, port, logs);
    for (const p of ['/readyz', '/livez', '/healthz'])
      expect(await httpsRequest(`${base}${p}`, { ca: ca.cert })).toEqual({ status: 200, body: 'ok' });
    expect(JSON.parse((await httpsRequest(`${base}/version`, { ca: ca.cert })).body)).toMatchObject({
      major: '1',
      minor: '31',
      gitVersion: 'v1.31.4',
    });
    const info = JSON.parse((await httpsRequest(`${base}/api/v1/namespaces/kube-public/configmaps/cluster-info`, { ca: ca.cert })).body);
    expect(info.metadata).toEqual({ name: 'cluster-info', namespace: 'kube-public' });
    const kubeconfig = YAML.parse(info.data.kubeconfig);
    expect(kubeconfig.clusters).toEqual([
      { name: '', cluster: { 'certificate-authority-data': Buffer.from(ca.cert).toString('base64'), server: base } },
    ]);
    // the detached JWS, recomputed here: header..HMAC-SHA256(token secret, header.payload)
    const [header, payload, signature] = info.data['jws-kubeconfig-abcdef'].split('.');
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'HS256', kid: 'abcdef' });
    expect(payload).toBe('');
    expect(signature).toBe(
      createHmac('sha256', TOKEN.split('.')[1]!)
        .update(`${header}.${Buffer.from(info.data.kubeconfig).toString('base64url')}`)
        .digest('base64url'),
    );
  });

  it('gives kubeadm-certs to a known bootstrap token only, encrypted with the certificate key', { timeout: 15_000 }, async () => {
    const { base, port, logs } = await initNode();
    server = await serveNode(node, port, logs);
    const url = `${base}/api/v1/namespaces/kube-system/secrets/kubeadm-certs`;
    const anonymous = await httpsRequest(url, { ca: ca.cert });
    expect(anonymous.status).toBe(403);
    expect(JSON.parse(anonymous.body).message).toBe(
      'secrets "kubeadm-certs" is forbidden: User "system:anonymous" cannot get resource "secrets" in API group "" in the namespace "kube-system"',
    );
    for (const token of ['abcdef.ffffffffffffffff', 'zzzzzz.0123456789abcdef'])
      expect((await httpsRequest(url, { ca: ca.cert, token })).status).toBe(401);
    const secret = JSON.parse((await httpsRequest(url, { ca: ca.cert, token: TOKEN })).body);
    expect(secret).toMatchObject({ kind: 'Secret', metadata: { name: 'kubeadm-certs', namespace: 'kube-system' }, type: 'Opaque' });
    // decrypted here, as Go's gcm.Open would: nonce (12) ‖ ciphertext ‖ tag (16)
    const sealed = Buffer.from(secret.data['ca.key'], 'base64');
    const decipher = createDecipheriv('aes-256-gcm', Buffer.from(CERT_KEY, 'hex'), sealed.subarray(0, 12));
    decipher.setAuthTag(sealed.subarray(-16));
    expect(Buffer.concat([decipher.update(sealed.subarray(12, -16)), decipher.final()]).toString()).toBe(ca.key);
    expect(Object.keys(secret.data)).toContain('etcd-ca.key');
    for (const line of logs) expect(line).not.toMatch(new RegExp(`${TOKEN.split('.')[1]}|${CERT_KEY}|ffffffffffffffff`));
  });

  it('records Nodes a token registers, checks them like the API server, and lists them', { timeout: 15_000 }, async () => {
    const { base, port, logs } = await initNode();
    server = await serveNode(node, port, logs);
    const post = (body: unknown, token?: string) =>
      httpsRequest(`${base}/api/v1/nodes`, { method: 'POST', ca: ca.cert, body: JSON.stringify(body), ...(token ? { token } : {}) });
    const worker = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'worker-1', labels: { 'example.com/rack': 'r1' } },
      spec: { taints: [] },
    };
    expect((await post(worker)).status).toBe(403);
    expect((await post({ ...worker, metadata: { name: 'Worker_1' } }, TOKEN)).status).toBe(422);
    expect((await post({ ...worker, apiVersion: 'v2' }, TOKEN)).status).toBe(400);
    expect((await post(worker, TOKEN)).status).toBe(201);
    const state = JSON.parse(node.read('/var/lib/kiln-test/apiserver.json'));
    expect(state.nodes['worker-1']).toMatchObject({
      name: 'worker-1',
      labels: { 'example.com/rack': 'r1' },
      taints: [],
      by: 'system:bootstrap:abcdef',
      registered: expect.any(String),
    });
    // the node itself (loopback) may list them without a token, as with admin.conf
    const list = JSON.parse((await httpsRequest(`${base}/api/v1/nodes`, { ca: ca.cert })).body);
    expect(list.kind).toBe('NodeList');
    expect(list.items.map((n: { metadata: { name: string } }) => n.metadata.name).sort()).toEqual(['cp-1', 'worker-1']);
    expect((await httpsRequest(`${base}/api/v1/nodes/worker-1`, { ca: ca.cert })).status).toBe(404);
    expect(logs.some((l) => / POST \/api\/v1\/nodes 201 user=system:bootstrap:abcdef from=127\.0\.0\.1$/.test(l))).toBe(true);
  });

  it(
    'runs as a process until SIGTERM, on the --secure-port of the static Pod unless told otherwise, and records the run',
    { timeout: 20_000 },
    async () => {
      const { base, port } = await initNode();
      const ctx = (env: Record<string, string>) =>
        new Ctx(
          { env: node.env(env), cwd: node.dir, stdout: () => {}, stderr: () => {} },
          { time: '', tool: 'apiserver', args: [], exitCode: 0 },
        );
      expect(listenAddress(ctx({}))).toEqual({ host: '0.0.0.0', port });
      expect(listenAddress(ctx({ KILN_STANDIN_APISERVER_LISTEN: '[::1]:7443' }))).toEqual({ host: '::1', port: 7443 });
      const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'apiserver'], {
        env: { ...node.env(), KILN_STANDIN_APISERVER_LISTEN: `127.0.0.1:${port}` } as NodeJS.ProcessEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (out += c));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      for (let i = 0; i < 150 && !out.includes('Serving securely'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain(`Serving securely on 127.0.0.1:${port}`);
      expect((await httpsRequest(`${base}/readyz`, { ca: ca.cert })).body).toBe('ok');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toMatch(/GET \/readyz 200/);
      expect(node.records().at(-1)).toMatchObject({ tool: 'apiserver', args: [], exitCode: 0 });
      const refused = node.tsx(MAIN, ['apiserver', '--secure-port=1']);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain('the stand-in apiserver takes no arguments');
    },
  );

  it(
    'answers 503 without the state kubeadm init saves, which kubeadm reset removes (it stands for etcd)',
    { timeout: 15_000 },
    async () => {
      const { base, port, logs } = await initNode();
      server = await serveNode(node, port, logs);
      expect((await node.run('kubeadm', ['reset', '-f'])).code).toBe(0);
      expect(node.exists('/var/lib/kiln-test/apiserver.json')).toBe(false);
      expect((await httpsRequest(`${base}/readyz`, { ca: ca.cert })).status).toBe(200);
      const info = await httpsRequest(`${base}/api/v1/namespaces/kube-public/configmaps/cluster-info`, { ca: ca.cert });
      expect(info.status).toBe(503);
      expect(JSON.parse(info.body).message).toContain('the stand-in API server has no state');
    },
  );
});

describe('the overlay unit', () => {
  it('writes kiln-test-apiserver.service, enabled in multi-user.target', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-overlay-'));
    try {
      await writeApiserverUnit(dir);
      const unit = readFileSync(path.join(dir, 'etc/systemd/system/kiln-test-apiserver.service'), 'utf8');
      expect(unit).toMatch(/^Description=.*TEST ONLY stand-in apiserver/m);
      expect(unit).toContain('ExecStart=/usr/local/bin/kiln-test-standins apiserver\n');
      expect(unit).toContain('Restart=on-failure\n');
      expect(unit).toContain('ConditionPathExists=/etc/kubernetes/pki/apiserver.crt\n');
      expect(unit).toContain('WantedBy=multi-user.target\n');
      expect(readlinkSync(path.join(dir, 'etc/systemd/system/multi-user.target.wants/kiln-test-apiserver.service'))).toBe(
        '/etc/systemd/system/kiln-test-apiserver.service',
      );
      await writeApiserverUnit(dir); // again: replaces, does not fail
      expect(readFileSync(path.join(import.meta.dirname, '../../standins/README.md'), 'utf8')).toContain(APISERVER_UNIT_TEXT); // documented as shipped
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
