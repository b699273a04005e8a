// `kiln cluster up --boot pxe`: a node boots like a blank rack machine. Its disk is blank; QEMU's
// iPXE ROM gets DHCP from the real dnsmasq inside the cluster's namespace, chains to `kiln cluster
// serve` (also inside it), which picks the node by its MAC; the node live-boots the role-test PXE
// bundle, kiln-firstboot fetches its own seed (sha256 pinned) once and, as its node config says
// install, writes the served disk image (sha256 pinned) to the blank disk and reboots into it. The
// installed system provisions from the carried seed (kubeadm init, stand-in), reports done, and the
// seed then answers 410. A machine whose MAC is not in the cluster gets only the refusal script.
import { execa } from 'execa';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { kiln, repoRoot, tempDir } from '../helpers/build.ts';
import { probeFacts } from '../helpers/qemu.ts';
import { standinCalls } from './facts.ts';

const images = inject('vmRoleImages');
const work = tempDir('kiln-vm-rack-');
const dir = path.join(work, 'rack');
const NETNS = 'kiln-rack';
const SERVER = 'http://10.0.2.2:8080';
/** Seeds and reports: the lab's serve listens for TLS with a certificate from the cluster CA. */
const SECRETS = 'https://10.0.2.2:8443';
const STRANGER = { mac: '52:54:00:e2:00:99', tap: 'ktstranger' };
const strangerPid = path.join(work, 'stranger.pid');

afterAll(async () => {
  const pid = Number(existsSync(strangerPid) ? readFileSync(strangerPid, 'utf8') : 0);
  if (pid > 0) process.kill(pid, 'SIGKILL');
  await kiln(['cluster', 'down', dir, '--force', '--purge'], { reject: false });
  rmSync(work, { recursive: true, force: true });
});

/** The e2e cluster renamed (its own namespace), with room in RAM for the live squashfs. */
function rackSpec(): string {
  const doc = YAML.parse(readFileSync(path.join(repoRoot, 'test/fixtures/cluster/e2e.yaml'), 'utf8'));
  doc.name = 'rack';
  doc.vms.memoryMiB = 3072;
  doc.nodes[0].install = { disk: { minSizeGiB: 8 } };
  const file = path.join(work, 'rack.yaml');
  writeFileSync(file, YAML.stringify(doc));
  return file;
}

const inNs = (cmd: string, args: string[]) => execa('ip', ['netns', 'exec', NETNS, cmd, ...args], { reject: false, all: true });
const hyp = (mac: string) => mac.replace(/:/g, '-');

/** A machine not in the cluster: no disk, network boot only, on the cluster's bridge. */
async function bootStranger(): Promise<void> {
  // a run killed before its afterAll leaves the namespace (cluster up reuses it) with this tap in it
  await execa('ip', ['-n', NETNS, 'link', 'del', STRANGER.tap], { reject: false });
  for (const args of [
    ['tuntap', 'add', 'dev', STRANGER.tap, 'mode', 'tap'],
    ['link', 'set', STRANGER.tap, 'master', 'kbr0', 'up'],
  ]) {
    const r = await execa('ip', ['-n', NETNS, ...args], { reject: false, all: true });
    expect(r.exitCode, r.all).toBe(0);
  }
  const qemu = await inNs('qemu-system-x86_64', [
    ...['-accel', 'tcg', '-machine', 'q35', '-m', '256', '-display', 'none', '-daemonize', '-pidfile', strangerPid],
    ...['-serial', `file:${path.join(work, 'stranger.log')}`, '-monitor', 'none'],
    ...[
      '-netdev',
      `tap,id=n0,ifname=${STRANGER.tap},script=no,downscript=no`,
      '-device',
      `virtio-net-pci,netdev=n0,mac=${STRANGER.mac},bootindex=1`,
    ],
  ]);
  expect(qemu.exitCode, qemu.all).toBe(0);
}

/** A log the test polls: empty until the process that writes it has created it. */
const logText = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');

async function waitFor(what: string, seconds: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${seconds} s`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe('kiln cluster up --boot pxe: a blank machine network-boots into its node', () => {
  it(
    'PXE boots the init node, installs it to its blank disk, provisions it from there, revokes its seed, and refuses a stranger',
    async () => {
      await kiln(['cluster', 'gen', rackSpec(), '--out', dir]);
      const secrets = JSON.parse(readFileSync(path.join(dir, 'secrets.json'), 'utf8'));
      const { caCertHash } = JSON.parse(readFileSync(path.join(dir, 'cluster.json'), 'utf8'));
      const cp1 = '52:54:00:e2:00:11';

      const upRun = kiln(['cluster', 'up', dir, '--image', images, '--boot', 'pxe', 'cp-1', '--wait', '--timeout', '1500'], {
        reject: false,
      });
      // the stranger boots while cp-1 does, once the namespace's DHCP and server are up
      await waitFor('kiln cluster serve in the namespace', 120, () => existsSync(path.join(dir, 'run/serve.pid')));
      // serve.pid comes before serve.log exists: poll the log as empty until then
      await waitFor('the server listening', 60, () => logText(path.join(dir, 'run/serve.log')).includes('reach it at'));
      await bootStranger();
      // the stranger is powered off once it was refused (and had half a minute to ask for more):
      // a spare TCG machine would take a core from cp-1 for the whole test
      const strangerAsked = () => logText(path.join(dir, 'serve/access.log')).includes(`mac=${STRANGER.mac}`);
      const strangerStopped = waitFor('the stranger asking for its script', 600, strangerAsked).then(async () => {
        await new Promise((r) => setTimeout(r, 30_000));
        process.kill(Number(readFileSync(strangerPid, 'utf8')), 'SIGKILL');
        rmSync(strangerPid);
      });
      strangerStopped.catch(() => {}); // awaited below; handled meanwhile
      const up = await upRun;
      console.log(`kiln cluster up --boot pxe:\n${up.all}`);
      expect(up.exitCode, up.all).toBe(0);
      expect(up.all).toMatch(/cp-1: started \(init, 3072 MiB, 2 vCPU, blank disk created, network boot\)/);
      expect(up.all).toMatch(/all nodes finished their first boot in \d+ s/);

      // --- the live boot installed, the disk boot provisioned from the carried seed and did its role
      const console1 = readFileSync(path.join(dir, 'run/cp-1/console.log'), 'utf8');
      const seedHash = (await execa('sha256sum', [path.join(dir, 'nodes/cp-1/ignition.json')])).stdout.split(' ')[0];
      expect(console1).toContain(`source: kernel-cmdline (kiln.config=${SECRETS}/seed/${hyp(cp1)}/ignition.json)`);
      expect(console1).toMatch(/install: writing the disk image \(\d+ MiB, sha256 pinned\) to \/dev\/vda, 16\.0 GiB/);
      expect(console1).toMatch(/installed to \/dev\/vda in \d+ ms; rebooting into it/);
      expect(console1).toMatch(/kiln-firstboot\[early\]: source: installed-seed \(\/var\/lib\/kiln\/install\/seed\)/);
      // the probe reports after firstboot; its last report is the disk boot's once that one is in
      const serial1 = path.join(dir, 'run/cp-1/serial1.log');
      const latest = () => (existsSync(serial1) ? probeFacts(readFileSync(serial1, 'utf8')) : undefined);
      await waitFor('the probe of the disk boot', 300, () => (latest()?.root ?? 'overlay').match(/overlay/) === null);
      const facts = latest()!;
      // the last boot ran from the installed disk, not the live overlay, with the disk's own command line
      expect(facts.root).toMatch(/^\/dev\/vda3 ext4/);
      expect(facts.cmdline).not.toContain('kiln.config');
      const init = standinCalls(facts.standins!).filter((c) => c.tool === 'kubeadm' && c.args[0] === 'init');
      expect(init.at(-1)?.exitCode).toBe(0);
      // the live kernel's command line (printed on the console) pinned the seed
      expect(console1).toContain(`kiln.config.hash=sha256-${seedHash}`);
      expect(console1).toContain(`kiln.tls.ca=${caCertHash}`);
      // the disk image (public, pinned by its sha256) comes over the plain HTTP listener, like iPXE's files
      expect(console1).toMatch(new RegExp(`kiln\\.install\\.image=${SERVER}/image/disk\\.raw kiln\\.install\\.hash=sha256-[0-9a-f]{64}`));

      // --- the server saw: script, kernel, initrd, squashfs, the seed once, the report; then 410
      await waitFor('the report of cp-1', 60, () => logText(path.join(dir, 'serve/access.log')).includes(`POST /report/${hyp(cp1)} 204`));
      // curl (OpenSSL) trusting the cluster CA alone: the server's certificate chains to it; the seed is gone
      const gone = await inNs('curl', [
        ...['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '10'],
        ...['--cacert', path.join(dir, 'pki/ca.crt'), `${SECRETS}/seed/${hyp(cp1)}/ignition.json`],
      ]);
      expect(gone.stdout.trim(), gone.all).toBe('410');
      const access = readFileSync(path.join(dir, 'serve/access.log'), 'utf8');
      const mine = access
        .split('\n')
        .filter((l) => l.includes(`mac=${cp1}`))
        .map((l) => l.split(' ').slice(2, 5).join(' '));
      expect(mine).toEqual([
        `GET /node/${hyp(cp1)}.ipxe 200`,
        `GET /seed/${hyp(cp1)}/ignition.json 200`,
        `POST /report/${hyp(cp1)} 204`,
        `GET /seed/${hyp(cp1)}/ignition.json 410`,
      ]);
      // the seed and the reports went over TLS only (the access log marks the HTTPS listener's lines)
      for (const l of access.split('\n').filter((l) => /\/(seed|report)\//.test(l))) expect(l).toMatch(/ tls$/);
      for (const file of ['vmlinuz', 'initrd.img', 'rootfs.squashfs'])
        expect(access).toMatch(new RegExp(`GET /pxe/${file.replace('.', '\\.')} 200`));
      expect(access.match(/ 10\.0\.2\.11 GET \/image\/disk\.raw 200/g)).toHaveLength(1);
      const status = await kiln(['cluster', 'status', dir]);
      expect(status.stdout).toMatch(/cp-1\s+script 1×, seed 1×, seed refused 1×\s+first boot done/);

      // --- the stranger got the refusal and nothing else
      await strangerStopped;
      const strangers = readFileSync(path.join(dir, 'serve/access.log'), 'utf8')
        .split('\n')
        .filter((l) => l.includes(`mac=${STRANGER.mac}`));
      expect(strangers.map((l) => l.split(' ').slice(2, 5).join(' '))).toEqual([`GET /node/${hyp(STRANGER.mac)}.ipxe 200`]);
      expect(readFileSync(path.join(dir, 'run/serve.log'), 'utf8')).toContain(
        `refused: a machine with NIC ${STRANGER.mac} is not in cluster rack`,
      );
      expect(readFileSync(path.join(dir, 'run/dnsmasq.log'), 'utf8')).toMatch(
        new RegExp(`DHCPACK\\(kbr0\\) 10\\.0\\.2\\.23\\d ${STRANGER.mac}`),
      );

      // --- no secret in any log or console
      const logs = ['serve/access.log', 'run/serve.log', 'run/dnsmasq.log', 'serve/state.json', 'run/cp-1/console.log'].map((f) =>
        readFileSync(path.join(dir, f), 'utf8'),
      );
      for (const text of logs) for (const s of [secrets.token, secrets.certificateKey]) expect(text).not.toContain(s);

      // --- down stops DHCP and the server with the namespace
      const down = await kiln(['cluster', 'down', dir, '--force', '--purge']);
      expect(down.stdout).toContain('pxe: kiln cluster serve stopped');
      expect(down.stdout).toContain('pxe: dnsmasq stopped');
      expect((await execa('ip', ['netns', 'list'])).stdout).not.toMatch(new RegExp(`^${NETNS}\\b`, 'm'));
    },
    35 * 60_000,
  );
});
