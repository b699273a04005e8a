import path from 'node:path';
import type { Command } from '../../core/cli.ts';
import { KilnError } from '../../core/errors.ts';
import { mkdirs, writeFileAtomic } from '../../core/fs.ts';
import { generateCluster } from '../cluster/generate.ts';
import { loadClusterFile } from '../cluster/load.ts';
import { LAYOUT } from '../cluster/state.ts';
import { clusterDown, clusterStatus, clusterUp, loadPlan, type NodeState } from '../cluster/lab/lifecycle.ts';
import { domainXml, networkName, networkXml } from '../cluster/lab/libvirt.ts';
import type { Accel, Boot, Firmware, Seed } from '../cluster/lab/qemu.ts';
import { diskFormat, ensureDisk } from '../cluster/lab/vm.ts';
import { writeOut } from '../../core/output.ts';
import { servePlan } from '../cluster/serve/plan.ts';
import { diskImage } from '../cluster/serve/disk-image.ts';
import { progressLine, readProgress } from '../cluster/serve/progress.ts';
import { startServer } from '../cluster/serve/server.ts';
import { writeSnippets } from '../cluster/serve/snippets.ts';

/** `kiln cluster`'s line in `kiln --help`; each verb has its own, with every flag it takes. */
export const CLUSTER_USAGE =
  'kiln cluster gen CLUSTER.yaml --out DIR [--rotate] | up DIR --image DISK|OUTDIR [NODE...] [--boot disk|pxe] [--seed nocloud|ignition] [--uefi] [--accel tcg|kvm] [--wait] [--timeout S] | down DIR [NODE...] [--force] [--purge] | serve DIR --image OUTDIR [--listen ADDR:PORT] [--url URL] [--tls-listen ADDR:PORT] [--until-done] | status DIR [--json] | libvirt DIR --image DISK';
const out = (line: string) => writeOut(`${line}\n`);

type Verb = (args: string[], opts: Record<string, unknown>) => Promise<number>;

function oneDir(args: string[], usage: string): [string, string[]] {
  const [dir, ...rest] = args;
  if (!dir) throw new KilnError('give the cluster DIR (the --out of kiln cluster gen)', { hint: usage, exitCode: 2 });
  return [dir, rest];
}

function choice<T extends string>(value: unknown, allowed: readonly T[], flag: string, fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T))
    throw new KilnError(`--${flag} must be one of ${allowed.join(', ')}, not "${String(value)}"`, {
      hint: `e.g. --${flag} ${fallback}`,
      exitCode: 2,
    });
  return value as T;
}

function seconds(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new KilnError(`--${flag} takes a number of seconds, not "${String(value)}"`, { hint: `e.g. --${flag} 900`, exitCode: 2 });
  return n;
}

function vmOptions(
  opts: Record<string, unknown>,
  usage: string,
): { image: string; boot: Boot; seed: Seed; firmware: Firmware; accel: Accel } {
  if (typeof opts.image !== 'string' || opts.image === '') throw new KilnError('--image DISK is required', { hint: usage, exitCode: 2 });
  return {
    image: opts.image,
    boot: choice(opts.boot, ['disk', 'pxe'] as const, 'boot', 'disk'),
    seed: choice(opts.seed, ['nocloud', 'ignition'] as const, 'seed', 'nocloud'),
    firmware: opts.uefi === true ? 'uefi' : 'bios',
    accel: choice(opts.accel, ['tcg', 'kvm'] as const, 'accel', 'tcg'),
  };
}

function stateLine(s: NodeState): string {
  const c = s.console;
  const pass = c.late.state !== 'not-started' ? c.late : c.early;
  const detail =
    (pass.error && pass.problems?.length ? `${pass.error}: ${pass.problems[0]}` : pass.error) ??
    pass.lastStep ??
    (pass.ms !== undefined ? `${pass.ms} ms` : '');
  return `  ${s.name.padEnd(12)}${s.role.padEnd(14)}${(s.running ? `running (pid ${s.pid})` : 'stopped').padEnd(22)}${c.overall.padEnd(20)}${detail}`;
}

const gen: Verb = async ([file, ...extra], opts) => {
  const usage = 'kiln cluster gen images/examples/cluster-lab.yaml --out clusters/lab';
  if (!file || extra.length > 0) throw new KilnError('give exactly one cluster spec', { hint: usage, exitCode: 2 });
  if (typeof opts.out !== 'string' || opts.out === '') throw new KilnError('--out DIR is required', { hint: usage, exitCode: 2 });
  const spec = await loadClusterFile(file);
  const result = await generateCluster(spec, file, opts.out, { rotate: opts.rotate === true });
  const rel = (p: string) => path.join(result.dir, p);
  out(`cluster ${spec.name}: ${result.nodes.length} nodes, API at ${result.endpoint}`);
  out(`  CA hash     ${result.caCertHash}`);
  out(
    `  secrets     ${result.created.length ? `new: ${result.created.join(', ')}` : 'kept (CA, token, certificate key)'}; in ${rel(LAYOUT.secrets)} and ${rel('pki/')} (0600)`,
  );
  out(`  summary     ${rel(LAYOUT.summary)}`);
  for (const n of result.nodes)
    out(`  ${n.name.padEnd(12)}${n.role.padEnd(14)}${n.advertiseAddress.padEnd(16)}${n.dir}/{nocloud/,cidata.iso,ignition.json}`);
  if (result.removed.length) out(`  removed     nodes no longer in the spec: ${result.removed.join(', ')}`);
  return 0;
};

const up: Verb = async (args, opts) => {
  const usage = 'kiln cluster up clusters/lab --image out/disk.qcow2 --wait';
  const [dir, nodes] = oneDir(args, usage);
  const result = await clusterUp(dir, {
    ...vmOptions(opts, usage),
    nodes,
    wait: opts.wait === true,
    timeoutSeconds: seconds(opts.timeout, 'timeout', 1800),
    log: out,
  });
  for (const s of result.states) out(stateLine(s));
  if (opts.wait)
    out(
      `${result.ok ? 'all nodes finished their first boot' : 'not every node finished its first boot'} in ${result.seconds.toFixed(0)} s`,
    );
  return result.ok ? 0 : 1;
};

const down: Verb = async (args, opts) => {
  const [dir, nodes] = oneDir(args, 'kiln cluster down clusters/lab [NODE...] [--force] [--purge]');
  await clusterDown(dir, {
    nodes,
    force: opts.force === true,
    purge: opts.purge === true,
    graceSeconds: seconds(opts.timeout, 'timeout', 120),
    log: out,
  });
  return 0;
};

const status: Verb = async (args, opts) => {
  const [dir, extra] = oneDir(args, 'kiln cluster status clusters/lab [--json]');
  if (extra.length > 0) throw new KilnError('status takes only DIR', { hint: 'kiln cluster status clusters/lab', exitCode: 2 });
  const s = await clusterStatus(dir);
  const served = await readProgress(dir);
  if (opts.json)
    out(
      JSON.stringify(
        { cluster: s.plan.cluster, netns: s.plan.netns, network: s.network, nodes: s.states, ...(served ? { served: served.nodes } : {}) },
        null,
        2,
      ),
    );
  else {
    out(`cluster ${s.plan.cluster}: network namespace ${s.plan.netns} ${s.network ? 'up' : 'absent'}`);
    for (const n of s.states) out(stateLine(n));
    if (served) {
      out('as reported to kiln cluster serve:');
      for (const n of s.plan.nodes) out(progressLine(n.name, served.nodes[n.name]));
    }
  }
  return 0;
};

/** Serves the PXE bundle, each node's boot script and seed, and takes their reports, until stopped. */
const serve: Verb = async (args, opts) => {
  const usage = 'kiln cluster serve clusters/rack --image out --listen 10.0.0.1:8080';
  const [dir, extra] = oneDir(args, usage);
  if (extra.length > 0) throw new KilnError('serve takes only DIR', { hint: usage, exitCode: 2 });
  if (typeof opts.image !== 'string' || opts.image === '')
    throw new KilnError('--image OUTDIR is required (the --out of kiln build)', { hint: usage, exitCode: 2 });
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const plan = await servePlan(dir, {
    image: opts.image,
    listen: str(opts.listen),
    url: str(opts.url),
    tlsListen: str(opts['tls-listen']),
  });
  const disk = await diskImage(path.resolve(opts.image), plan.dir, out);
  if (disk) plan.disk = disk;
  const server = await startServer(plan, (line) => out(`${new Date().toISOString().slice(11, 19)} ${line}`));
  const snippets = await writeSnippets(plan);
  out(`kiln cluster serve: cluster ${plan.cluster} (${plan.nodes.length} nodes) on ${server.address} - nodes reach it at ${plan.url}`);
  out(`  iPXE chain   ${plan.url}/boot.ipxe (point DHCP at it: ${path.dirname(snippets[0]!)}/{dnsmasq.conf,dhcpd.conf,matchbox/})`);
  out(
    server.tlsAddress
      ? `  seeds        over HTTPS only, on ${server.tlsAddress} (nodes reach ${plan.tls!.url}; certificate from the cluster CA, pinned as kiln.tls.ca=sha256:${plan.tls!.pin})`
      : `  seeds        over plain HTTP (--tls-listen ADDR:PORT serves them over HTTPS, pinned to the cluster CA)`,
  );
  out(`  access log   ${path.join(plan.dir, 'serve/access.log')}`);
  out(
    `  install      ${disk ? `${disk.file} (${disk.bytes} bytes, sha256 ${disk.sha256})` : 'no disk.raw or disk.qcow2 in the image: nodes with install: will refuse'}`,
  );
  for (const n of plan.nodes) out(progressLine(n.name, server.progress.get(n.name)));
  const outcome = await new Promise<number>((resolve) => {
    const stop = () => resolve(0);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (opts['until-done'] === true)
      server.onResponse(() => {
        // a failed node may boot again and succeed: wait until every node has its outcome
        const all = plan.nodes.map((n) => server.progress.get(n.name).outcome);
        if (all.every((o) => o !== undefined)) resolve(all.every((o) => o === 'done') ? 0 : 1);
      });
  });
  await server.close();
  out(`kiln cluster serve: stopped; what each node reported:`);
  for (const n of plan.nodes) out(progressLine(n.name, server.progress.get(n.name)));
  return outcome;
};

/** Writes DIR/libvirt/*.xml (and the nodes' overlay disks they point at) for `virsh net-define` / `virsh define`. */
const libvirt: Verb = async (args, opts) => {
  const usage = 'kiln cluster libvirt clusters/lab --image out/disk.qcow2';
  const [dir, extra] = oneDir(args, usage);
  if (extra.length > 0) throw new KilnError('libvirt takes only DIR', { hint: usage, exitCode: 2 });
  const vm = vmOptions({ accel: 'kvm', ...opts }, usage);
  const plan = await loadPlan(dir);
  const image = path.resolve(vm.image);
  const format = await diskFormat(image);
  const target = path.join(path.resolve(dir), 'libvirt');
  await mkdirs(target, 0o700);
  for (const net of plan.networks) await writeFileAtomic(path.join(target, `network-${net.bridge}.xml`), networkXml(plan, net), 0o644);
  for (const node of plan.nodes) {
    await ensureDisk(node, image, format);
    await writeFileAtomic(path.join(target, `${node.name}.xml`), domainXml(plan, node, vm), 0o644);
  }
  out(`libvirt XML for cluster ${plan.cluster} in ${target}:`);
  for (const net of plan.networks)
    out(`  virsh net-define ${path.join(target, `network-${net.bridge}.xml`)} && virsh net-start ${networkName(plan, net)}`);
  for (const node of plan.nodes)
    out(`  virsh define ${path.join(target, `${node.name}.xml`)} && virsh start kiln-${plan.cluster}-${node.name}`);
  return 0;
};

/** The flags of a VM's disk, seed and firmware: up's and libvirt's. */
const VM_OPTIONS = { image: { type: 'string' }, seed: { type: 'string' }, uefi: { type: 'boolean' }, accel: { type: 'string' } } as const;

/** The cluster verbs, in the order a user meets them, each with only the flags it reads. */
export const CLUSTER_VERBS: Command[] = [
  {
    name: 'gen',
    usage: 'kiln cluster gen CLUSTER.yaml --out DIR [--rotate]',
    summary: "write the cluster's PKI and every node's metadata into DIR",
    options: { out: { type: 'string', short: 'o' }, rotate: { type: 'boolean' } },
    run: gen,
  },
  {
    name: 'up',
    usage:
      'kiln cluster up DIR --image DISK|OUTDIR [NODE...] [--boot disk|pxe] [--seed nocloud|ignition] [--uefi] [--accel tcg|kvm] [--wait] [--timeout S]',
    summary:
      'boot the cluster (or the NODEs named) as QEMU VMs on a private network; --boot pxe: blank disks, network boot from dnsmasq and kiln cluster serve in the namespace (--image is then the --out of kiln build)',
    options: { ...VM_OPTIONS, boot: { type: 'string' }, wait: { type: 'boolean' }, timeout: { type: 'string' } },
    run: up,
  },
  {
    name: 'serve',
    usage: 'kiln cluster serve DIR --image OUTDIR [--listen ADDR:PORT] [--url URL] [--tls-listen ADDR:PORT] [--until-done]',
    summary:
      "serve the image's PXE bundle and each node's boot script and seed to its MAC, and watch the nodes report (--until-done: exit once every node has reported, 0 if all are done)",
    options: {
      image: { type: 'string' },
      listen: { type: 'string' },
      url: { type: 'string' },
      'tls-listen': { type: 'string' },
      'until-done': { type: 'boolean' },
    },
    run: serve,
  },
  {
    name: 'status',
    usage: 'kiln cluster status DIR [--json]',
    summary: 'show each VM, and its first boot as its console tells it',
    options: { json: { type: 'boolean' } },
    run: status,
  },
  {
    name: 'down',
    usage: 'kiln cluster down DIR [NODE...] [--force] [--purge] [--timeout S]',
    summary: 'power the VMs off (ACPI, or --force pulls the plug); --purge also removes their disks and logs',
    options: { force: { type: 'boolean' }, purge: { type: 'boolean' }, timeout: { type: 'string' } },
    run: down,
  },
  {
    name: 'libvirt',
    usage: 'kiln cluster libvirt DIR --image DISK [--seed nocloud|ignition] [--uefi] [--accel tcg|kvm]',
    summary: 'write the cluster as libvirt network and domain XML into DIR/libvirt',
    options: VM_OPTIONS,
    run: libvirt,
  },
];
