// `kiln cluster up --boot pxe`: the test cluster boots like a rack. Inside the cluster's network
// namespace, a real dnsmasq answers DHCP (each node NIC pinned to its address, a small dynamic
// range for machines not in the cluster) and TFTP, and hands iPXE the chain script of `kiln cluster
// serve`, which runs in the namespace too. Neither listens or sends outside the namespace.
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { KilnError, ToolError } from '../../../core/errors.ts';
import { pidFromFile, processAlive } from '../../../core/exec.ts';
import { writeFileAtomic } from '../../../core/fs.ts';
import { servePlan, type ServePlan } from '../serve/plan.ts';
import { dnsmasqConf } from '../serve/snippets.ts';
import { ipv4Netmask, ipv4Text, parseNet } from '../ip.ts';
import { inNetns } from './netns.ts';
import { runDirOf, type LabNetwork, type LabPlan } from './plan.ts';

/** The ports `kiln cluster serve` listens on inside the namespace: HTTP (iPXE), HTTPS (seeds and reports). */
export const LAB_SERVE_PORT = 8080;
export const LAB_SERVE_TLS_PORT = 8443;

/** The network the nodes PXE boot on: the first with an address of the namespace's own. */
function bootNetwork(plan: LabPlan): LabNetwork & { hostAddress: string } {
  const net = plan.networks.find((n) => n.hostAddress && parseNet(n.hostAddress)?.family === 4);
  if (!net)
    throw new KilnError('no IPv4 network of this cluster names a gateway, so the namespace has no address to serve PXE from', {
      hint: 'give the nodes an IPv4 gateway: in the cluster spec (interfaces[].gateway)',
      exitCode: 2,
    });
  return net as LabNetwork & { hostAddress: string };
}

/** Ten addresses below the broadcast address for machines not in the cluster (a /24: .230 to .239). */
export function strangerRange(subnet: string): [string, string] {
  const net = parseNet(subnet)!;
  const size = 2n ** BigInt(32 - net.prefix);
  if (size < 64n)
    throw new KilnError(`the boot network ${subnet} is too small for a DHCP range`, { hint: 'use a /26 or larger', exitCode: 2 });
  return [ipv4Text(net.address + size - 26n), ipv4Text(net.address + size - 17n)];
}

export interface PxeLab {
  serve: ServePlan;
  network: LabNetwork & { hostAddress: string };
}

/** Everything checked (the image's PXE bundle, every node's MAC and seed) before any side effect. */
export async function planPxeLab(dir: string, plan: LabPlan, image: string): Promise<PxeLab> {
  const network = bootNetwork(plan);
  const host = network.hostAddress.split('/')[0]!;
  const serve = await servePlan(dir, { image, listen: `${host}:${LAB_SERVE_PORT}`, tlsListen: `${host}:${LAB_SERVE_TLS_PORT}` });
  return { serve, network };
}

const files = (dir: string) => {
  const run = runDirOf(dir);
  return {
    conf: path.join(run, 'dnsmasq.conf'),
    dnsmasqPid: path.join(run, 'dnsmasq.pid'),
    dnsmasqLog: path.join(run, 'dnsmasq.log'),
    leases: path.join(run, 'dnsmasq.leases'),
    servePid: path.join(run, 'serve.pid'),
    serveLog: path.join(run, 'serve.log'),
  };
};

/** This program again, the same way it was started (tsx in development, node on a bundle, or a single binary). */
function selfCommand(args: string[]): [string, string[]] {
  const sea = (() => {
    try {
      return (
        (process as unknown as { getBuiltinModule?: (m: string) => { isSea(): boolean } }).getBuiltinModule?.('node:sea').isSea() ?? false
      );
    } catch {
      return false;
    }
  })();
  return [process.execPath, sea ? args : [...process.execArgv, process.argv[1]!, ...args]];
}

export async function startPxeServices(dir: string, plan: LabPlan, lab: PxeLab, image: string, log: (line: string) => void): Promise<void> {
  const f = files(dir);
  const [low, high] = strangerRange(lab.network.subnet);
  const mask = parseNet(lab.network.subnet)!.prefix;
  if (!(await pidFromFile(f.dnsmasqPid, f.conf))) {
    const conf = dnsmasqConf(lab.serve, {
      dnsmasqExtra: [
        `interface=${lab.network.bridge}`,
        'bind-interfaces',
        'port=0', // DHCP and TFTP only: no DNS
        `dhcp-range=${low},${high},${ipv4Netmask(mask)},1h`,
        `dhcp-leasefile=${f.leases}`,
        `pid-file=${f.dnsmasqPid}`,
        `log-facility=${f.dnsmasqLog}`,
        'user=root', // DIR/run is root's own (0700)
      ],
    });
    await writeFileAtomic(f.conf, conf, 0o644);
    const [cmd, args] = inNetns(plan.netns, 'dnsmasq', [`--conf-file=${f.conf}`]);
    const r = await execa(cmd, args, { reject: false, all: true });
    if (r.exitCode !== 0)
      throw new ToolError('dnsmasq', `starting DHCP/TFTP in ${plan.netns} failed: ${(r.all ?? '').trim()}`, {
        hint: `see ${f.dnsmasqLog}; scripts/host-deps installs dnsmasq-base and ipxe`,
      });
    log(`pxe: dnsmasq on ${lab.network.bridge} (nodes pinned to their addresses, strangers ${low}–${high}); log ${f.dnsmasqLog}`);
  }
  if (!(await pidFromFile(f.servePid, `serve ${lab.serve.dir}`))) {
    const out = openSync(f.serveLog, 'a', 0o600);
    const [cmd, args] = inNetns(
      plan.netns,
      ...selfCommand([
        'cluster',
        'serve',
        lab.serve.dir,
        '--image',
        path.resolve(image),
        '--listen',
        `${lab.serve.host}:${lab.serve.port}`,
        '--tls-listen',
        `${lab.serve.tls!.host}:${lab.serve.tls!.port}`,
      ]),
    );
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', out, out], env: { ...process.env, CI: 'true' } });
    closeSync(out);
    child.unref();
    await writeFileAtomic(f.servePid, `${child.pid}\n`, 0o600);
    await waitListening(f.serveLog, child.pid!, lab.serve.url);
    log(`pxe: kiln cluster serve (log ${f.serveLog}) at ${lab.serve.url}`);
  }
}

async function waitListening(logFile: string, pid: number, url: string): Promise<void> {
  const deadline = Date.now() + 600_000; // a first start converts and hashes the disk image
  for (;;) {
    const text = await readFile(logFile, 'utf8').catch(() => '');
    if (text.includes(`reach it at ${url}`)) return;
    if (!processAlive(pid) || Date.now() > deadline)
      throw new KilnError(`kiln cluster serve did not start in the namespace: ${text.trim().split('\n').slice(-4).join(' / ')}`, {
        file: logFile,
        hint: 'see the log; kiln cluster down DIR stops what did start',
      });
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Stops the namespace's dnsmasq and server (before the namespace goes). */
export async function stopPxeServices(dir: string): Promise<string[]> {
  const f = files(dir);
  const stopped: string[] = [];
  for (const [pidFile, marker, name] of [
    [f.servePid, `serve ${path.resolve(dir)}`, 'kiln cluster serve'],
    [f.dnsmasqPid, f.conf, 'dnsmasq'],
  ] as const) {
    const pid = await pidFromFile(pidFile, marker);
    if (pid === undefined) continue;
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 50 && (await pidFromFile(pidFile, marker)); i++) await new Promise((r) => setTimeout(r, 100));
    await rm(pidFile, { force: true });
    stopped.push(name);
  }
  return stopped;
}
