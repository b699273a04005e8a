// `kiln cluster up|down|status DIR`: a QEMU test cluster from what `kiln cluster gen` wrote. Every
// input is checked (cluster.json, the image, the seeds, the named nodes, the tools) before the
// first namespace, tap or disk is made.
import { access, mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { KilnError, ToolError } from '../../../core/errors.ts';
import { writeFileAtomic } from '../../../core/fs.ts';
import { readStateFile } from '../../../core/json.ts';
import { Type, type Static } from '@sinclair/typebox';
import { findOnPath } from '../../host/tools.ts';
import { consoleStatus, FINAL_STATES, type ConsoleStatus } from './console.ts';
import { ensureNetwork, netnsExists, removeNetwork } from './netns.ts';
import { planLab, runDirOf, socketDir, type LabNode, type LabPlan } from './plan.ts';
import { planPxeLab, startPxeServices, stopPxeServices, type PxeLab } from './pxe.ts';
import { OVMF_CODE, OVMF_VARS, type Accel, type Boot, type Firmware, type Seed } from './qemu.ts';
import { readSummary } from './summary.ts';
import { blankDisk, diskFormat, ensureDisk, runningPid, startVm, stopVm } from './vm.ts';

export interface UpOptions {
  /** A disk image (--boot disk), or the --out of a kiln build with the pxe output (--boot pxe). */
  image: string;
  boot: Boot;
  seed: Seed;
  firmware: Firmware;
  accel: Accel;
  /** Only these nodes (default: all). */
  nodes: string[];
  /** Wait until every started node's first boot finished. */
  wait: boolean;
  timeoutSeconds: number;
  log: (line: string) => void;
}

export interface NodeState {
  name: string;
  role: string;
  running: boolean;
  pid?: number;
  console: ConsoleStatus;
  consoleLog: string;
}

/** What `up` remembers in DIR/run/state.json, so later runs boot the same image the same way. */
const LabStateSchema = Type.Object({
  image: Type.String({ minLength: 1 }),
  boot: Type.Optional(Type.Union([Type.Literal('disk'), Type.Literal('pxe')])),
  seed: Type.Union([Type.Literal('nocloud'), Type.Literal('ignition')]),
  firmware: Type.Union([Type.Literal('bios'), Type.Literal('uefi')]),
  accel: Type.Union([Type.Literal('tcg'), Type.Literal('kvm')]),
  netns: Type.String({ pattern: '^kiln-[a-z0-9-]{1,59}$' }),
});
type LabState = Static<typeof LabStateSchema>;

const STATE_FILE = 'state.json';

export async function loadPlan(dir: string): Promise<LabPlan> {
  const summary = await readSummary(dir);
  return planLab(summary, { clusterDir: path.resolve(dir), socketDir: socketDir(dir, summary.name) });
}

function pick(plan: LabPlan, names: string[]): LabNode[] {
  const unknown = names.filter((n) => !plan.nodes.some((node) => node.name === n));
  if (unknown.length > 0)
    throw new KilnError(`no node ${unknown.map((n) => `"${n}"`).join(', ')} in cluster ${plan.cluster}`, {
      hint: `nodes: ${plan.nodes.map((n) => n.name).join(', ')}`,
      exitCode: 2,
    });
  return names.length === 0 ? plan.nodes : plan.nodes.filter((n) => names.includes(n.name));
}

async function readState(dir: string): Promise<LabState | undefined> {
  return readStateFile<LabState>(
    path.join(runDirOf(dir), STATE_FILE),
    LabStateSchema,
    `remove it (kiln cluster down ${dir} --force first if VMs still run) and run kiln cluster up again`,
  );
}

async function requireTools(tools: string[]): Promise<void> {
  for (const tool of tools)
    if (!(await findOnPath(tool)))
      throw new ToolError(tool, 'not found', {
        hint: 'scripts/host-deps installs what kiln needs (qemu-system-x86, qemu-utils, iproute2)',
      });
  if (process.getuid?.() !== 0)
    throw new KilnError('kiln cluster up needs root: it makes a network namespace, bridges and taps', {
      hint: 'run it as root (sudo)',
      exitCode: 2,
    });
}

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

async function nodeStates(plan: LabPlan, nodes = plan.nodes): Promise<NodeState[]> {
  return Promise.all(
    nodes.map(async (n) => {
      const pid = await runningPid(n);
      const log = await readFile(n.console, 'utf8').catch(() => '');
      return {
        name: n.name,
        role: n.role,
        running: pid !== undefined,
        ...(pid ? { pid } : {}),
        console: consoleStatus(log),
        consoleLog: n.console,
      };
    }),
  );
}

async function waitFinished(plan: LabPlan, nodes: LabNode[], deadline: number): Promise<NodeState[]> {
  for (;;) {
    const states = await nodeStates(plan, nodes);
    const pending = states.filter((s) => s.running && !FINAL_STATES.has(s.console.overall));
    if (pending.length === 0 || Date.now() > deadline) return states;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function clusterUp(dir: string, opts: UpOptions): Promise<{ states: NodeState[]; seconds: number; ok: boolean }> {
  const t0 = Date.now();
  const plan = await loadPlan(dir);
  const nodes = pick(plan, opts.nodes);
  // --- every check before the first side effect
  await requireTools(['ip', 'qemu-system-x86_64', 'qemu-img']);
  const image = path.resolve(opts.image);
  // pxe: the image's PXE bundle, every node's MAC and seed, dnsmasq; disk: the disk image
  let pxe: PxeLab | undefined;
  if (opts.boot === 'pxe') {
    await requireTools(['dnsmasq']);
    pxe = await planPxeLab(dir, plan, image);
  }
  const format = opts.boot === 'pxe' ? undefined : await diskFormat(image);
  const previous = await readState(dir);
  if (previous && (previous.image !== image || (previous.boot ?? 'disk') !== opts.boot))
    throw new KilnError(
      `the cluster's disks were made for --boot ${previous.boot ?? 'disk'} of ${previous.image}, not --boot ${opts.boot} of ${image}`,
      {
        file: path.join(runDirOf(dir), STATE_FILE),
        hint: 'kiln cluster down DIR --purge drops the disks; then up with the new image',
        exitCode: 2,
      },
    );
  for (const n of opts.boot === 'pxe' ? [] : nodes) {
    const seed = opts.seed === 'nocloud' ? n.cidata : n.ignition;
    if (!(await exists(seed)))
      throw new KilnError(`no ${opts.seed} seed for node ${n.name}`, {
        file: seed,
        hint: 'run kiln cluster gen again for this DIR',
        exitCode: 2,
      });
  }
  if (opts.firmware === 'uefi')
    for (const f of [OVMF_CODE, OVMF_VARS])
      if (!(await exists(f))) throw new ToolError('ovmf', `${f} is missing`, { hint: 'apt-get install ovmf' });
  if (opts.accel === 'kvm' && !(await exists('/dev/kvm')))
    throw new KilnError('--accel kvm needs /dev/kvm', { hint: 'use --accel tcg (the default)', exitCode: 2 });

  await mkdir(runDirOf(dir), { recursive: true, mode: 0o700 });
  await mkdir(path.dirname(plan.nodes[0]!.qmp), { recursive: true, mode: 0o700 });
  const state: LabState = { image, boot: opts.boot, seed: opts.seed, firmware: opts.firmware, accel: opts.accel, netns: plan.netns };
  await writeFileAtomic(path.join(runDirOf(dir), STATE_FILE), `${JSON.stringify(state, null, 2)}\n`, 0o600);
  await ensureNetwork(plan);
  opts.log(
    `network: namespace ${plan.netns}, ${plan.networks.map((n) => `${n.bridge} ${n.subnet}${n.hostAddress ? ` (namespace at ${n.hostAddress})` : ''}`).join(', ')}`,
  );
  if (pxe) await startPxeServices(dir, plan, pxe, image, opts.log);
  for (const n of nodes) {
    if (await runningPid(n)) {
      opts.log(`${n.name}: already running`);
      continue;
    }
    const disk = format ? await ensureDisk(n, image, format) : await blankDisk(n);
    await startVm(n, plan.netns, { boot: opts.boot, seed: opts.seed, firmware: opts.firmware, accel: opts.accel });
    opts.log(
      `${n.name}: started (${n.role}, ${n.memoryMiB} MiB, ${n.cpus} vCPU, ${format ? `disk ${disk}` : `blank disk ${disk}, network boot`}); console ${n.console}`,
    );
    if (plan.start === 'sequential') {
      const [s] = await waitFinished(plan, [n], t0 + opts.timeoutSeconds * 1000);
      opts.log(`${n.name}: first boot ${s!.console.overall}`);
    }
  }
  const states =
    opts.wait || plan.start === 'sequential'
      ? await waitFinished(plan, nodes, t0 + opts.timeoutSeconds * 1000)
      : await nodeStates(plan, nodes);
  const ok = !opts.wait || states.every((s) => s.console.overall === 'done' || s.console.overall === 'already-provisioned');
  return { states, seconds: (Date.now() - t0) / 1000, ok };
}

export interface DownOptions {
  nodes: string[];
  force: boolean;
  graceSeconds: number;
  /** Drop the disks too: the next up boots fresh nodes. */
  purge: boolean;
  log: (line: string) => void;
}

export async function clusterDown(dir: string, opts: DownOptions): Promise<void> {
  const plan = await loadPlan(dir);
  const nodes = pick(plan, opts.nodes);
  if (opts.purge && opts.nodes.length > 0)
    throw new KilnError('--purge drops the whole cluster: give no node names with it', {
      hint: 'kiln cluster down DIR --purge',
      exitCode: 2,
    });
  const results = await Promise.all(
    nodes.map(async (n) => [n.name, await stopVm(n, { force: opts.force, graceSeconds: opts.graceSeconds })] as const),
  );
  for (const [name, result] of results) opts.log(`${name}: ${result}`);
  if (opts.nodes.length > 0) return;
  for (const stopped of await stopPxeServices(dir)) opts.log(`pxe: ${stopped} stopped`);
  await removeNetwork(plan);
  await rm(path.dirname(plan.nodes[0]!.qmp), { recursive: true, force: true });
  opts.log(`network: namespace ${plan.netns} removed`);
  if (opts.purge) {
    await rm(runDirOf(dir), { recursive: true, force: true });
    opts.log(`disks and logs removed (${runDirOf(dir)})`);
  }
}

export async function clusterStatus(dir: string): Promise<{ plan: LabPlan; network: boolean; states: NodeState[] }> {
  const plan = await loadPlan(dir);
  return { plan, network: await netnsExists(plan.netns), states: await nodeStates(plan) };
}
