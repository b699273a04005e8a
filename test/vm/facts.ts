// Assertions on the facts the boot probe gathered live in a booted kiln node.
import { expect } from 'vitest';
import type { Probe } from '../helpers/qemu.ts';

export const EXPECTED_SYSCTLS: Record<string, string> = {
  'net.ipv4.ip_forward': '1',
  'net.ipv4.ip_nonlocal_bind': '1',
  'net.ipv6.ip_nonlocal_bind': '1',
  'net.bridge.bridge-nf-call-iptables': '1',
  'fs.inotify.max_user_watches': '524288',
  'fs.inotify.max_user_instances': '8192',
};

/** `kubeadmDone`: a node whose role plan ran on an earlier boot, so kubelet is configured and starts. */
export function expectKilnNode({ facts, log }: Probe, opts: { kubeadmDone?: boolean } = {}): void {
  const f = (k: string) => facts[k] ?? '';
  expect(f('state'), `failed units: ${f('failed_units')}\n${log.slice(-3000)}`).toBe('running');
  expect(f('bpf')).toMatch(/^bpf\s+shared$/);
  for (const [key, value] of Object.entries(EXPECTED_SYSCTLS)) expect(f(`sysctl.${key}`), key).toBe(value);
  expect(f('modules').split(' ').sort()).toEqual(['br_netfilter', 'overlay']);
  // the slices exist with their limits, applied to the cgroup tree
  expect(f('slice.container.slice')).toMatch(/ActiveState=active/);
  expect(f('slice.container.slice')).toMatch(/CPUWeight=100/);
  expect(f('slice.container.slice')).toMatch(/MemoryMax=\d+/);
  expect(f('cgroup.container.slice').split(' ')[0]).toMatch(/^\d+$/); // memory.max is a number, not "max"
  expect(f('slice.kubesvc.slice')).toMatch(/CPUWeight=200/);
  expect(f('cgroup.kubesvc.slice').split(' ')[1]).toBe('200');
  expect(f('containerd')).toMatch(/ActiveState=active/);
  expect(f('containerd')).toMatch(/Slice=kubesvc\.slice/);
  expect(f('containerd')).toMatch(/ControlGroup=\/kubesvc\.slice\/containerd\.service/);
  // kubelet waits for firstboot/kubeadm to configure it
  expect(f('kubelet')).toMatch(opts.kubeadmDone ? /ConditionResult=yes/ : /ConditionResult=no/);
  // journald: persistent, with the configured cap in effect
  expect(f('journal_storage')).toMatch(/^\/var\/log\/journal\/[0-9a-f]{32}$/);
  expect(f('journal_config')).toMatch(/SystemMaxUse=2G/);
  expect(f('journal_limits')).toMatch(/^System Journal \(\/var\/log\/journal\/[0-9a-f]{32}\)/);
  // journald caps at SystemMaxUse, or lower when SystemKeepFree leaves less room on a small disk
  expect(journalMaxBytes(f('journal_limits'))).toBeLessThanOrEqual(2 * 2 ** 30);
  // a fresh identity
  expect(f('machine_id')).toMatch(/^[0-9a-f]{32}$/);
  expect(Number(f('ssh_host_keys'))).toBeGreaterThanOrEqual(3);
  expect(f('sshd')).toBe('active');
  // firstboot applied the VM's metadata (at least its hostname) in the early pass
  expect(f('firstboot_early'), f('firstboot_log')).toMatch(/^(done|already-provisioned)$/);
  // systemctl show prints Result before ActiveState, whatever the -p order
  expect(f('firstboot_units'), f('firstboot_log')).toBe('success active success active');
  expect(f('hostname')).toMatch(/^kiln-/);
}

/** The "max" journald reports in "System Journal (...) is 8.0M, max 2.0G, 1.9G free." */
export function journalMaxBytes(line: string): number {
  const m = /max ([0-9.]+)([BKMGT])/.exec(line);
  if (!m) throw new Error(`no journal limit in: ${line}`);
  return Number(m[1]) * 1024 ** 'BKMGT'.indexOf(m[2]!);
}

/** A live (ISO/PXE) boot without a data disk. */
/** A live system's facts; containerd's storage is tmpfs in RAM, or ext4 on a `kiln-data` disk. */
export function expectLive(facts: Record<string, string>, containerdStorage: 'tmpfs' | 'ext4' = 'tmpfs'): void {
  expect(facts.cmdline).toMatch(/\bboot=live\b/);
  expect(facts.cmdline).toMatch(/console=ttyS0,115200n8/);
  expect(facts.root).toMatch(/overlay$/);
  expect(facts.grow_root!.split(' ')).toContain('inactive'); // live systems do not touch disks
  // containerd's snapshotter needs a real file system under it, not the live overlay
  expect(facts.containerd_storage).toBe(containerdStorage);
}

export interface StandinCall {
  tool: string;
  args: string[];
  exitCode: number;
  config?: Array<{ kind: string }>;
  values?: Record<string, unknown>;
}

/** What the kubeadm/helm/kubectl stand-ins recorded in the guest (the probe prints it base64). */
export function standinCalls(fact: string): StandinCall[] {
  return Buffer.from(fact, 'base64')
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as StandinCall);
}
