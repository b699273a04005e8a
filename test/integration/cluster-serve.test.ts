// `kiln cluster serve` through the real CLI, on loopback: the chain script, each NIC's node script
// (the image's kernel line plus its own seed, hash pinned), the refusal of a MAC not in the cluster,
// the seed served until the node proves it holds it and reports done (then 410, also after a
// restart), --until-done, the access log without secrets, the DHCP snippets read by the real dnsmasq
// and ISC dhcpd, and every bad start refused with exit 2 before anything is written.
import { execa, type ResultPromise } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderBootIpxe } from '../../builder/outputs/pxe.ts';
import { cmdlineValue, parseCmdline } from '../../firstboot/metadata/cmdline.ts';
import { fetchBytes } from '../../firstboot/metadata/fetch.ts';
import { postReport, reportBody, reportTarget } from '../../firstboot/report.ts';
import { seedProof } from '../../node/serve.ts';
import { kiln, repoRoot, tempDir } from '../helpers/build.ts';
import { defaultSpecWith } from '../helpers/specs.ts';

const SPEC = 'images/examples/cluster-lab.yaml';
const MACS = { 'cp-1': '52:54:00:6b:69:11', 'cp-2': '52:54:00:6b:69:12', 'cp-3': '52:54:00:6b:69:13', 'worker-1': '52:54:00:6b:69:21' };
const STRANGER = '52:54:00:99:99:99';
const work = tempDir('kiln-cluster-serve-');
const rack = path.join(work, 'rack');
const image = path.join(work, 'image');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const hyp = (mac: string) => mac.replace(/:/g, '-');
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function fakeImage(dir: string): void {
  mkdirSync(path.join(dir, 'pxe'), { recursive: true });
  for (const f of ['vmlinuz', 'initrd.img', 'rootfs.squashfs']) writeFileSync(path.join(dir, 'pxe', f), `${f} bytes\n`);
  writeFileSync(path.join(dir, 'pxe/boot.ipxe'), renderBootIpxe(defaultSpecWith(['pxe'])));
}

interface Serving {
  url: string;
  proc: ResultPromise<{ all: true; reject: false }>;
  output: () => string;
}

/** Starts the real CLI and waits for its "on http://…" line. */
async function serve(extra: string[] = [], dir = rack): Promise<Serving> {
  const port = await freePort();
  const proc = execa(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(repoRoot, 'builder/cli.ts'),
      'cluster',
      'serve',
      dir,
      '--image',
      image,
      '--listen',
      `127.0.0.1:${port}`,
      ...extra,
    ],
    { cwd: repoRoot, env: { CI: 'true' }, all: true, reject: false },
  );
  let text = '';
  proc.all.on('data', (c: Buffer) => (text += c.toString()));
  const deadline = Date.now() + 30_000;
  while (!text.includes(`on http://127.0.0.1:${port}`)) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`kiln cluster serve did not start:\n${text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url: `http://127.0.0.1:${port}`, proc, output: () => text };
}

const get = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type') };
};

const seedOf = (node: string) => readFileSync(path.join(rack, 'nodes', node, 'ignition.json'));

beforeAll(async () => {
  await kiln(['cluster', 'gen', SPEC, '--out', rack]);
  fakeImage(image);
});

describe('kiln cluster serve', () => {
  let first: Serving;
  let chain: string;
  let script: string;
  let args: string;
  beforeAll(async () => {
    first = await serve();
    chain = (await get(`${first.url}/boot.ipxe`)).body.toString();
    script = (await get(`${first.url}/node/${hyp(MACS['cp-1'])}.ipxe`)).body.toString();
    args = /^kernel \$\{base\}\/vmlinuz (.*)$/m.exec(script)?.[1] ?? '';
  }, 60_000);
  afterAll(() => first.proc.kill('SIGTERM'));

  it('answers every machine with a chain script that asks for its booting NIC’s script', () => {
    expect(chain.split('\n')[0]).toBe('#!ipxe');
    expect(chain).toContain(`chain ${first.url}/node/\${netX/mac:hexhyp}.ipxe`);
  });

  it("gives a node's NIC the image's kernel line, its own seed URL with the seed's sha256 and the report URL", () => {
    const image = /^kernel \$\{base\}\/vmlinuz (.*)$/m.exec(readFileSync(path.join(rack, '../image/pxe/boot.ipxe'), 'utf8'))![1]!;
    expect(script).toContain(`set base ${first.url}/pxe`);
    expect(script).toMatch(/^initrd \$\{base\}\/initrd\.img$/m);
    expect(args.startsWith(`${image} `)).toBe(true);
    const cmdline = parseCmdline(args);
    expect(cmdline.get('kiln.config')).toBe(`${first.url}/seed/${hyp(MACS['cp-1'])}/ignition.json`);
    expect(cmdline.get('kiln.config.hash')).toBe(`sha256-${sha256(seedOf('cp-1'))}`);
    expect(reportTarget(cmdline)?.url).toBe(`${first.url}/report/${hyp(MACS['cp-1'])}`);
  });

  it('serves the three files of the PXE bundle and nothing else of the image or DIR', async () => {
    expect((await get(`${first.url}/pxe/vmlinuz`)).body.toString()).toBe('vmlinuz bytes\n');
    expect((await get(`${first.url}/pxe/rootfs.squashfs`)).status).toBe(200);
    for (const p of ['/pxe/boot.ipxe', '/pxe/..%2Fpxe%2Fboot.ipxe', '/pxe/..%2F..%2Frack%2Fsecrets.json', '/secrets.json', '/pxe/'])
      expect((await get(`${first.url}${p}`)).status, p).toBe(404);
  });

  it('refuses a MAC that is not in the cluster with a script that says so and stops', async () => {
    const refused = await get(`${first.url}/node/${hyp(STRANGER)}.ipxe`);
    const text = refused.body.toString();
    expect(refused.status).toBe(200);
    expect(text).toContain(`NIC ${STRANGER}) is not in this cluster`);
    expect(text).not.toMatch(/kernel|seed|chain/);
    expect(text).toMatch(/^sleep \d+$/m);
    expect((await get(`${first.url}/seed/${hyp(STRANGER)}/ignition.json`)).status).toBe(404);
    expect((await get(`${first.url}/node/not-a-mac.ipxe`)).status).toBe(404);
  });

  it('serves the seed to the node; a report without its proof, or malformed, changes nothing', async () => {
    const seedUrl = cmdlineValue(parseCmdline(args), 'kiln.config')!;
    const served = await get(seedUrl);
    expect(served.status).toBe(200);
    expect(sha256(served.body)).toBe(sha256(seedOf('cp-1')));
    const report = `${first.url}/report/${hyp(MACS['cp-1'])}`;
    const post = (body: string) => fetch(report, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    // the seed's public hash is no proof; another node's seed is not this node's
    expect((await post(JSON.stringify({ outcome: 'done', proof: sha256(seedOf('cp-1')) }))).status).toBe(403);
    expect((await post(JSON.stringify({ outcome: 'done', proof: seedProof(seedOf('cp-2')) }))).status).toBe(403);
    expect((await post(JSON.stringify({ outcome: 'done', proof: seedProof(seedOf('cp-1')), extra: 1 }))).status).toBe(400);
    expect((await post('{"outcome":')).status).toBe(400);
    expect((await post(JSON.stringify({ outcome: 'done', proof: seedProof(seedOf('cp-1')), reason: 'x'.repeat(20_000) }))).status).toBe(
      413,
    );
    expect((await get(seedUrl)).status).toBe(200);
  });

  it('after the node reports done, its seed answers 410 and its script hands over to the next boot device', async () => {
    const cmdline = parseCmdline(args);
    const seed = (await get(cmdlineValue(cmdline, 'kiln.config')!)).body;
    // what kiln-firstboot posts at the end of its late pass
    expect(await postReport(reportTarget(cmdline)!, reportBody('done', seed), { attempts: 1 })).toBeUndefined();
    expect((await get(cmdlineValue(cmdline, 'kiln.config')!)).status).toBe(410);
    const again = (await get(`${first.url}/node/${hyp(MACS['cp-1'])}.ipxe`)).body.toString();
    expect(again).toContain('node cp-1');
    expect(again).toMatch(/^exit 0$/m);
    expect(again).not.toContain('kiln.config');
    const state = JSON.parse(readFileSync(path.join(rack, 'serve/state.json'), 'utf8'));
    expect(state.nodes['cp-1']).toMatchObject({ outcome: 'done', seedHash: sha256(seedOf('cp-1')), refused: { count: 1 } });
    expect(first.output()).toContain('cp-1: first boot done; its seed is no longer served');
  });

  it('records a failed first boot with its reason (on one line) and keeps serving that seed', async () => {
    const mac = hyp(MACS['worker-1']);
    const seed = (await get(`${first.url}/seed/${mac}/ignition.json`)).body;
    const warning = await postReport(
      { url: `${first.url}/report/${mac}` },
      reportBody('failed', seed, 'step kubeadm-join failed\r\nafter 3 tries'),
      {
        attempts: 1,
      },
    );
    expect(warning).toBeUndefined();
    expect((await get(`${first.url}/seed/${mac}/ignition.json`)).status).toBe(200);
    const status = await kiln(['cluster', 'status', rack]);
    expect(status.stdout).toMatch(/worker-1\s+script 0×, seed 2×\s+first boot FAILED: step kubeadm-join failed after 3 tries$/m);
    expect(status.stdout).toMatch(/cp-1\s+script 2×, seed 3×, seed refused 1×\s+first boot done/);
  });

  it('logs every request as method, path, MAC, node and status, without a query string or a secret', () => {
    const log = readFileSync(path.join(rack, 'serve/access.log'), 'utf8');
    expect(log).toMatch(new RegExp(`GET /seed/${hyp(MACS['cp-1'])}/ignition.json 200 mac=${MACS['cp-1']} node=cp-1`));
    expect(log).toMatch(new RegExp(`GET /seed/${hyp(MACS['cp-1'])}/ignition.json 410 mac=${MACS['cp-1']} node=cp-1`));
    expect(log).toMatch(new RegExp(`GET /node/${hyp(STRANGER)}.ipxe 200 mac=${STRANGER}\\n`));
    expect(log).toMatch(/POST \/report\/52-54-00-6b-69-11 403 /);
    const secrets = JSON.parse(readFileSync(path.join(rack, 'secrets.json'), 'utf8'));
    const caKey = readFileSync(path.join(rack, 'pki/ca.key'), 'utf8').split('\n')[1]!;
    for (const text of [log, first.output(), readFileSync(path.join(rack, 'serve/state.json'), 'utf8')])
      for (const s of [secrets.token, secrets.token.split('.')[1], secrets.certificateKey, caKey]) expect(text).not.toContain(s);
  });

  it('writes DHCP snippets the real dnsmasq and ISC dhcpd accept, pinning each NIC to its node address', async () => {
    const dnsmasq = readFileSync(path.join(rack, 'serve/dnsmasq.conf'), 'utf8');
    expect(dnsmasq).toContain(`dhcp-boot=tag:ipxe,${first.url}/boot.ipxe`);
    expect(dnsmasq).toContain(`dhcp-host=${MACS['cp-2']},10.0.2.12,cp-2`);
    const checked = await execa('dnsmasq', ['--test', `--conf-file=${path.join(rack, 'serve/dnsmasq.conf')}`], {
      all: true,
      reject: false,
    });
    expect(checked.exitCode, checked.all).toBe(0);
    const dhcpd = await execa('dhcpd', ['-t', '-cf', path.join(rack, 'serve/dhcpd.conf')], { all: true, reject: false });
    expect(dhcpd.exitCode, dhcpd.all).toBe(0);
    expect(readFileSync(path.join(rack, 'serve/dhcpd.conf'), 'utf8')).toContain(
      `hardware ethernet ${MACS['cp-3']}; fixed-address 10.0.2.13;`,
    );
    const group = JSON.parse(readFileSync(path.join(rack, 'serve/matchbox/groups/kiln-lab-worker-1-0.json'), 'utf8'));
    expect(group.selector).toEqual({ mac: MACS['worker-1'] });
    const profile = JSON.parse(readFileSync(path.join(rack, `serve/matchbox/profiles/${group.profile}.json`), 'utf8'));
    expect(profile.boot.args).toContain(`kiln.config.hash=sha256-${sha256(seedOf('worker-1'))}`);
    expect(profile.boot.args.join(' ')).not.toContain('${base}');
  });

  it('a restarted server still refuses a done node’s seed; --until-done exits once every node has reported, 0 when all are done', async () => {
    first.proc.kill('SIGTERM');
    expect((await first.proc).exitCode).toBe(0);
    const second = await serve(['--until-done']);
    expect((await get(`${second.url}/seed/${hyp(MACS['cp-1'])}/ignition.json`)).status).toBe(410);
    // worker-1 failed before: it boots again and is done, then the others
    for (const node of ['worker-1', 'cp-2', 'cp-3'] as const) {
      const mac = hyp(MACS[node]);
      const seed = (await get(`${second.url}/seed/${mac}/ignition.json`)).body;
      expect(await postReport({ url: `${second.url}/report/${mac}` }, reportBody('done', seed), { attempts: 1 })).toBeUndefined();
    }
    const result = await second.proc;
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toMatch(/worker-1\s+script 0×, seed 3×\s+first boot done/);
  }, 60_000);
});

describe('kiln cluster serve --tls-listen: seeds and reports over HTTPS, pinned to the cluster CA', () => {
  const tlsRack = path.join(work, 'rack-tls');
  const mac = hyp(MACS['cp-2']);
  let served: Serving;
  let tlsPort: number;
  let caCertHash: string;
  let cmdline: ReturnType<typeof parseCmdline>;
  beforeAll(async () => {
    await kiln(['cluster', 'gen', SPEC, '--out', tlsRack]);
    caCertHash = JSON.parse(readFileSync(path.join(tlsRack, 'cluster.json'), 'utf8')).caCertHash;
    tlsPort = await freePort();
    served = await serve(['--tls-listen', `127.0.0.1:${tlsPort}`], tlsRack);
    const script = (await get(`${served.url}/node/${mac}.ipxe`)).body.toString();
    cmdline = parseCmdline(/^kernel \$\{base\}\/vmlinuz (.*)$/m.exec(script)![1]!);
  }, 60_000);
  afterAll(() => served.proc.kill('SIGTERM'));
  const seedUrl = () => `https://127.0.0.1:${tlsPort}/seed/${mac}/ignition.json`;
  const tlsSeed = () => readFileSync(path.join(tlsRack, 'nodes/cp-2/ignition.json'));

  it("puts the node's seed and report on HTTPS and pins the cluster CA's hash; iPXE's files stay on HTTP", () => {
    expect(cmdline.get('kiln.config')).toBe(seedUrl());
    expect(cmdline.get('kiln.tls.ca')).toBe(caCertHash);
    expect(reportTarget(cmdline)).toEqual({ url: `https://127.0.0.1:${tlsPort}/report/${mac}`, tlsPin: caCertHash.slice(7) });
    expect(served.output()).toContain(`over HTTPS only, on https://127.0.0.1:${tlsPort}`);
  });

  it('gives the seed only over TLS, and only to a client that pins the cluster CA and names the certified host', async () => {
    const refused = await get(`${served.url}/seed/${mac}/ignition.json`);
    expect(refused.status).toBe(403);
    expect(refused.body.toString()).toContain(`served over HTTPS only: https://127.0.0.1:${tlsPort}`);
    // the system's trust store does not know the cluster CA
    await expect(fetch(seedUrl())).rejects.toThrow();
    // another cluster's CA pinned: refused after the handshake, before any request
    const other = 'sha256:' + 'ab'.repeat(32);
    await expect(fetchBytes(seedUrl(), { tlsPin: other.slice(7), attempts: 1 })).rejects.toThrow(
      /does not present a certificate chain to the pinned CA/,
    );
    // the right pin, but a name the certificate does not carry
    await expect(fetchBytes(seedUrl().replace('127.0.0.1', 'localhost'), { tlsPin: caCertHash.slice(7), attempts: 1 })).rejects.toThrow(
      /cannot fetch/,
    );
    const hash = { algorithm: 'sha256' as const, hex: cmdline.get('kiln.config.hash')!.toString().slice(7) };
    const seed = await fetchBytes(seedUrl(), { tlsPin: caCertHash.slice(7), hash, attempts: 1 });
    expect(seed?.equals(tlsSeed())).toBe(true);
    // the access log is a write stream: its lines land just after the answers
    const logged = new RegExp(`GET /seed/${mac}/ignition.json 200 mac=\\S+ node=cp-2 tls$`, 'gm');
    for (let i = 0; i < 50 && !logged.test(readFileSync(path.join(tlsRack, 'serve/access.log'), 'utf8')); i++)
      await new Promise((r) => setTimeout(r, 100));
    const access = readFileSync(path.join(tlsRack, 'serve/access.log'), 'utf8');
    expect(access.match(new RegExp(`GET /seed/${mac}/ignition.json 200 mac=\\S+ node=cp-2 tls$`, 'gm'))).toHaveLength(1);
    expect(access).toMatch(new RegExp(`GET /seed/${mac}/ignition.json 403 mac=\\S+ node=cp-2$`, 'm'));
  });

  it('takes the report over TLS; the seed is then gone there too', async () => {
    expect(await postReport(reportTarget(cmdline)!, reportBody('done', tlsSeed()), { attempts: 1 })).toBeUndefined();
    expect(await fetchBytes(seedUrl(), { tlsPin: caCertHash.slice(7), attempts: 1 }).catch((e: Error) => e.cause)).toMatchObject({
      message: 'HTTP 410',
    });
    expect((await kiln(['cluster', 'status', tlsRack])).stdout).toMatch(/cp-2\s+script 1×, seed 1×, seed refused 1×\s+first boot done/);
  });
});

describe('kiln cluster serve refuses bad input before it listens', () => {
  const refuse = async (dir: string, extra: string[]) => {
    const r = await kiln(['cluster', 'serve', dir, ...extra], { reject: false });
    expect(r.exitCode, r.all).toBe(2);
    expect(r.all).not.toMatch(/\n\s+at /);
    return r.all;
  };

  it('a DIR kiln cluster gen did not make', async () => {
    const empty = path.join(work, 'empty');
    mkdirSync(empty);
    expect(await refuse(empty, ['--image', image, '--listen', '127.0.0.1:8999'])).toMatch(
      /no cluster\.json.*\n.*hint: run kiln cluster gen/,
    );
    expect(existsSync(path.join(empty, 'serve'))).toBe(false);
  });

  it('an image without its PXE bundle, naming every missing file', async () => {
    const partial = path.join(work, 'partial');
    mkdirSync(path.join(partial, 'pxe'), { recursive: true });
    writeFileSync(path.join(partial, 'pxe/vmlinuz'), 'k');
    const text = await refuse(rack, ['--image', partial, '--listen', '127.0.0.1:8999']);
    expect(text).toContain(`${partial}/pxe/initrd.img: is missing`);
    expect(text).toContain(`${partial}/pxe/rootfs.squashfs: is missing`);
    expect(text).toContain('hint: give --image the --out directory of a kiln build');
  });

  it('a port in use, a wildcard address without --url, a --listen that is not ADDRESS:PORT', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    const before = readFileSync(path.join(rack, 'serve/state.json'), 'utf8');
    try {
      expect(await refuse(rack, ['--image', image, '--listen', `127.0.0.1:${port}`])).toMatch(
        /EADDRINUSE[^]*hint: another program listens/,
      );
    } finally {
      blocker.close();
    }
    expect(readFileSync(path.join(rack, 'serve/state.json'), 'utf8')).toBe(before);
    expect(await refuse(rack, ['--image', image, '--listen', '0.0.0.0:8999'])).toMatch(/every address[^]*--url/);
    expect(await refuse(rack, ['--image', image, '--listen', 'localhost'])).toContain('is not ADDRESS:PORT');
    expect(await refuse(rack, ['--image', image, '--listen', '127.0.0.1:8999', '--url', 'http://u:p@10.0.0.1/'])).toContain(
      'not a plain http URL',
    );
  });

  it('a cluster with a node that has no MAC, or (hand-edited) a MAC twice', async () => {
    const doc = YAML.parse(readFileSync(path.join(repoRoot, SPEC), 'utf8'));
    delete doc.nodes[1].interfaces[0].mac;
    const spec = path.join(work, 'nomac.yaml');
    writeFileSync(spec, YAML.stringify(doc));
    await kiln(['cluster', 'gen', spec, '--out', path.join(work, 'nomac')]);
    // gen refuses a MAC twice; a hand-edited cluster.json can still have one
    const summaryFile = path.join(work, 'nomac/cluster.json');
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
    summary.nodes[3].interfaces[0].mac = summary.nodes[0].interfaces[0].mac;
    writeFileSync(summaryFile, JSON.stringify(summary));
    const text = await refuse(path.join(work, 'nomac'), ['--image', image, '--listen', '127.0.0.1:8999']);
    expect(text).toMatch(/\/nodes\/1\/interfaces: node cp-2 has no interface with a MAC[^]*hint: set mac:/);
    expect(text).toMatch(/\/nodes\/3\/interfaces: MAC 52:54:00:6b:69:11 is node cp-1's and node worker-1's/);
    expect(existsSync(path.join(work, 'nomac/serve'))).toBe(false);
  });
});
