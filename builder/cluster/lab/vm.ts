// One running test-cluster VM: its disk overlay, starting QEMU inside the cluster's namespace,
// whether it runs (pid file, checked against /proc so a reused pid is not mistaken for it), and
// powering it off: ACPI over QMP (the guest shuts down cleanly) or the plug pulled (SIGKILL).
import { execa } from 'execa';
import { copyFile, mkdir, stat } from 'node:fs/promises';
import net from 'node:net';
import { KilnError, ToolError } from '../../../core/errors.ts';
import { pidFromFile, processAlive } from '../../../core/exec.ts';
import { inNetns } from './netns.ts';
import type { LabNode } from './plan.ts';
import { OVMF_VARS, qemuArgs, type VmOptions } from './qemu.ts';

export type DiskFormat = 'raw' | 'qcow2';

/** The image's format as qemu-img sees it; only disk images boot as cluster nodes. */
export async function diskFormat(image: string): Promise<DiskFormat> {
  const r = await execa('qemu-img', ['info', '--output=json', image], { reject: false });
  if (r.exitCode !== 0)
    throw new KilnError(`cannot read the image: ${r.stderr.trim()}`, {
      file: image,
      hint: 'give --image a disk image kiln build wrote (disk.qcow2 or disk.raw)',
      exitCode: 2,
    });
  const format = (JSON.parse(r.stdout) as { format?: string }).format;
  if (format !== 'raw' && format !== 'qcow2')
    throw new KilnError(`a ${format ?? 'unknown'} image cannot back a node disk`, {
      file: image,
      hint: 'give a raw or qcow2 disk image (outputs: [{format: qcow2}])',
      exitCode: 2,
    });
  return format;
}

/** The node's copy-on-write disk over the image; an existing one is kept (the node keeps its state across up/down). */
export async function ensureDisk(node: LabNode, image: string, format: DiskFormat): Promise<'created' | 'kept'> {
  if (await stat(node.disk).catch(() => undefined)) return 'kept';
  await mkdir(node.dir, { recursive: true, mode: 0o700 });
  const r = await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image, '-F', format, node.disk], { reject: false });
  if (r.exitCode !== 0) throw new ToolError('qemu-img', `creating ${node.disk} failed: ${r.stderr.trim()}`);
  return 'created';
}

/** What a blank machine's disk holds: nothing, and room for an installed node. */
export const BLANK_DISK_SIZE = '16G';

/** The node's blank disk (--boot pxe); an existing one is kept, as ensureDisk keeps an overlay. */
export async function blankDisk(node: LabNode): Promise<'created' | 'kept'> {
  if (await stat(node.disk).catch(() => undefined)) return 'kept';
  await mkdir(node.dir, { recursive: true, mode: 0o700 });
  const r = await execa('qemu-img', ['create', '-q', '-f', 'qcow2', node.disk, BLANK_DISK_SIZE], { reject: false });
  if (r.exitCode !== 0) throw new ToolError('qemu-img', `creating ${node.disk} failed: ${r.stderr.trim()}`);
  return 'created';
}

export async function startVm(node: LabNode, netns: string, opts: Omit<VmOptions, 'ovmfVars'>): Promise<void> {
  await mkdir(node.dir, { recursive: true, mode: 0o700 });
  const ovmfVars = opts.firmware === 'uefi' ? `${node.dir}/OVMF_VARS.fd` : undefined;
  if (ovmfVars && !(await stat(ovmfVars).catch(() => undefined))) await copyFile(OVMF_VARS, ovmfVars);
  const [cmd, args] = inNetns(netns, 'qemu-system-x86_64', qemuArgs(node, { ...opts, ...(ovmfVars ? { ovmfVars } : {}) }));
  // -daemonize: QEMU returns once the VM runs (or fails to start), leaving its pid in the pid file
  const r = await execa(cmd, args, { reject: false, all: true, stdin: 'ignore' });
  if (r.exitCode !== 0)
    throw new ToolError('qemu-system-x86_64', `starting ${node.name} failed (exit ${r.exitCode}): ${(r.all ?? '').trim()}`, {
      hint: 'see the message above; kiln cluster status DIR shows what runs',
    });
}

/** The VM's QEMU pid when it runs (QEMU's command line names its pid file). */
export const runningPid = (node: LabNode): Promise<number | undefined> => pidFromFile(node.pidFile, node.pidFile);

/** Sends one QMP command (after the capabilities handshake); bounded by `timeoutMs`. */
function qmp(socket: string, command: string, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(socket);
    const timer = setTimeout(() => finish(new Error(`QMP ${command}: no answer within ${timeoutMs} ms`)), timeoutMs);
    let buffer = '';
    let step = 0;
    const finish = (error?: Error) => {
      clearTimeout(timer);
      conn.destroy();
      if (error) reject(error);
      else resolve();
    };
    conn.on('error', (e) => finish(e));
    conn.on('data', (chunk) => {
      buffer += chunk.toString();
      for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n')) {
        const msg = JSON.parse(buffer.slice(0, nl)) as { QMP?: unknown; return?: unknown; error?: { desc: string } };
        buffer = buffer.slice(nl + 1);
        if (msg.error) return finish(new Error(`QMP ${command}: ${msg.error.desc}`));
        if (msg.QMP !== undefined && step === 0) {
          step = 1;
          conn.write('{"execute":"qmp_capabilities"}\n');
        } else if (msg.return !== undefined && step === 1) {
          step = 2;
          conn.write(`${JSON.stringify({ execute: command })}\n`);
        } else if (msg.return !== undefined && step === 2) return finish();
      }
    });
  });
}

async function exited(pid: number, deadline: number): Promise<boolean> {
  for (;;) {
    if (!processAlive(pid)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Powers the VM off: `force` pulls the plug at once (what a failover test wants); otherwise the
 * guest gets an ACPI power-button press and `graceSeconds` to shut down before the plug is pulled.
 */
export async function stopVm(
  node: LabNode,
  opts: { force: boolean; graceSeconds: number },
): Promise<'not-running' | 'shut-down' | 'killed'> {
  const pid = await runningPid(node);
  if (pid === undefined) return 'not-running';
  if (!opts.force) {
    const asked = await qmp(node.qmp, 'system_powerdown').then(
      () => true,
      () => false,
    );
    if (asked && (await exited(pid, Date.now() + opts.graceSeconds * 1000))) return 'shut-down';
  }
  process.kill(pid, 'SIGKILL');
  await exited(pid, Date.now() + 10_000);
  return 'killed';
}
