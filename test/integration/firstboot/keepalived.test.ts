// The rendered keepalived configs through the real `keepalived --config-test`, and the rendered
// apiserver check run for real against a local HTTPS stand-in for kube-apiserver.
//
// keepalived checks more than syntax: the interface must exist and the track script must exist,
// be executable and (enable_script_security) sit in a path only root can write. So each case is
// rendered with an interface this machine has (when its own is missing here), the check script is
// written to a private temp dir, and the config's one reference to it is pointed there; nothing
// else in the rendered text changes. The failing cases below show each of those checks biting.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeConfig } from '../../../node/config/schema.ts';
import { CHECK_APISERVER, KEEPALIVED_CONF, renderKeepalived } from '../../../firstboot/role/keepalived.ts';
import { repoRoot, tempDir } from '../../helpers/build.ts';

const casesDir = path.join(repoRoot, 'test/fixtures/firstboot/role/keepalived');
const cases = readdirSync(casesDir).sort();
const interfaces = readdirSync('/sys/class/net').sort();
const fallbackInterface = interfaces.includes('eth0') ? 'eth0' : (interfaces.find((i) => i !== 'lo') ?? 'lo');

const work = tempDir('kiln-keepalived-');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const load = (name: string) => YAML.parse(readFileSync(path.join(casesDir, name, 'node.yaml'), 'utf8')) as NodeConfig;

/** A case's files under a fresh private dir: the config (check script path pointed there) and the script. */
function materialize(config: NodeConfig, opts: { keepScriptPath?: boolean; keepInterface?: boolean } = {}) {
  if (!opts.keepInterface && config.keepalived && !interfaces.includes(config.keepalived.interface))
    config.keepalived.interface = fallbackInterface;
  const files = renderKeepalived(config);
  const dir = mkdtempSync(path.join(work, 'case-'));
  const conf = path.join(dir, 'keepalived.conf');
  const script = path.join(dir, 'check-apiserver');
  let text = files.find((f) => f.path === KEEPALIVED_CONF)?.contents ?? '';
  const checker = files.find((f) => f.path === CHECK_APISERVER);
  if (checker) {
    writeFileSync(script, checker.contents, { mode: checker.mode });
    const reference = `script "${CHECK_APISERVER}"`;
    expect(text.split(reference)).toHaveLength(2);
    if (!opts.keepScriptPath) text = text.replace(reference, `script "${script}"`);
  }
  writeFileSync(conf, text, { mode: 0o600 });
  return { files, dir, conf, script: checker ? script : undefined };
}

const configTest = (conf: string) => execa('keepalived', ['--config-test', '-f', conf], { reject: false, all: true });

describe('keepalived --config-test on the rendered configs', () => {
  it('is installed', async () => {
    const { exitCode, all } = await execa('keepalived', ['--version'], { reject: false, all: true });
    expect(exitCode, all).toBe(0);
    expect(all).toMatch(/Keepalived v2\./);
  });

  it.each(cases)('%s passes without a word', async (name) => {
    const { files, conf } = materialize(load(name));
    if (files.length === 0) return; // nothing to test: the unit goldens pin that this case renders no files
    const { exitCode, stdout, stderr } = await configTest(conf);
    expect({ exitCode, stdout, stderr }).toEqual({ exitCode: 0, stdout: '', stderr: '' });
  });

  it('tests at least the five cases with files', () => {
    expect(cases.filter((c) => renderKeepalived(load(c)).length > 0).length).toBeGreaterThanOrEqual(5);
  });

  it('rejects a config without the interface', async () => {
    const { conf } = materialize(load('init-vip-authpass'));
    writeFileSync(conf, readFileSync(conf, 'utf8').replace(/^ {2}interface .*\n/m, ''));
    const { exitCode, all } = await configTest(conf);
    expect(exitCode).not.toBe(0);
    expect(all).toMatch(/Unknown interface/);
  });

  it('rejects an interface this machine does not have', async () => {
    const config = load('worker-pool');
    config.keepalived!.interface = 'kiln-nosuch0';
    const { conf } = materialize(config, { keepInterface: true });
    const { exitCode, all } = await configTest(conf);
    expect(exitCode).not.toBe(0);
    expect(all).toMatch(/interface kiln-nosuch0 .*doesn't exist/);
  });

  it('rejects a check script that is missing or that others could rewrite', async () => {
    if (!existsSync(CHECK_APISERVER)) {
      const { conf } = materialize(load('control-plane'), { keepScriptPath: true });
      const missing = await configTest(conf);
      expect(missing.exitCode).not.toBe(0);
      expect(missing.all).toMatch(/Disabling track script kiln_apiserver since not found/);
    }
    const { conf, script } = materialize(load('control-plane'));
    chmodSync(script!, 0o777);
    const insecure = await configTest(conf);
    expect(insecure.exitCode).not.toBe(0);
    expect(insecure.all).toMatch(/Disabling track script kiln_apiserver due to insecure/);
  });
});

describe('the apiserver check script', () => {
  // A stand-in for kube-apiserver: self-signed HTTPS, /healthz answering `status`.
  let server: Server;
  let server6: Server | undefined; // the same on [::1], where the machine has IPv6
  let port = 0;
  let port6 = 0;
  let status = 200;
  const requests: string[] = [];

  beforeAll(async () => {
    const key = path.join(work, 'key.pem');
    const cert = path.join(work, 'cert.pem');
    await execa('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=kube-apiserver',
    ]);
    const standIn = () =>
      createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
        requests.push(req.url ?? '');
        res.writeHead(req.url === '/healthz' ? status : 404).end(status === 200 ? 'ok' : 'not ok');
      });
    server = standIn();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    const candidate = standIn();
    server6 = await new Promise<Server | undefined>((resolve) => {
      candidate.once('error', () => resolve(undefined)).listen(0, '::1', () => resolve(candidate));
    });
    if (server6) port6 = (server6.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const s of [server, server6]) if (s?.listening) await new Promise<void>((resolve) => s.close(() => resolve()));
  });

  /** A port nothing listens on: bound and released. */
  async function closedPort(): Promise<number> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const free = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    return free;
  }

  /** The case's check script rendered for `onPort`, and a runner with a fresh state dir. */
  function checker(name: string, onPort: number) {
    const config = load(name);
    config.cluster.controlPlaneEndpoint = config.cluster.controlPlaneEndpoint.replace(/:\d+$/, `:${onPort}`);
    const { script, dir } = materialize(config);
    const state = path.join(dir, 'state');
    return {
      state,
      marker: path.join(state, 'apiserver-healthy'),
      // executed as keepalived does: the file itself, through its #! line
      run: async () => (await execa(script!, [], { reject: false, env: { KILN_KEEPALIVED_STATE: state }, timeout: 15_000 })).exitCode,
    };
  }

  it('parses (sh -n) in every case', async () => {
    for (const name of cases) {
      const { script } = materialize(load(name));
      if (!script) continue;
      const { exitCode, all } = await execa('sh', ['-n', script], { reject: false, all: true });
      expect(exitCode, `${name}: ${all}`).toBe(0);
    }
  });

  it('on the init node passes before its apiserver ever answered, and fails once it has', async () => {
    const dead = await closedPort();
    const init = checker('init-vip-authpass', dead);
    expect(await init.run()).toBe(0); // bootstrapping: nothing listens, yet the VIP stays
    expect(existsSync(init.marker)).toBe(false);
    mkdirSync(init.state, { recursive: true });
    writeFileSync(init.marker, '');
    expect(await init.run()).toBe(1); // bootstrapped once: a dead apiserver now fails the check
  });

  it('on a joining control plane fails until its apiserver answers', async () => {
    const cp = checker('control-plane', await closedPort());
    expect(await cp.run()).toBe(1);
    expect(existsSync(cp.marker)).toBe(false);
  });

  it('passes when the local apiserver is healthy, records it, and fails when it is not', async () => {
    for (const name of ['init-vip-authpass', 'control-plane']) {
      status = 200;
      requests.length = 0;
      const check = checker(name, port);
      expect(await check.run(), name).toBe(0);
      expect(requests).toEqual(['/healthz']);
      expect(existsSync(check.marker), name).toBe(true);
      status = 500; // an apiserver that answers but is unhealthy (curl -f)
      expect(await check.run(), name).toBe(1);
    }
  });

  it('asks [::1] for an IPv6 VIP', async (ctx) => {
    if (!server6) ctx.skip();
    status = 200;
    requests.length = 0;
    expect(await checker('ipv6-vip', port6).run()).toBe(0);
    expect(requests).toEqual(['/healthz']);
    expect(await checker('ipv6-vip', port).run()).toBe(0); // 127.0.0.1 only: not asked, still in the init grace
    expect(requests).toEqual(['/healthz']);
  });
});
