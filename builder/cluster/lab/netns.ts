// The test cluster's private network: a network namespace with one bridge per L2 network and one
// tap per VM NIC. The namespace has no link to the host's network, so nothing the VMs send leaves
// this machine (unlike QEMU's multicast socket networking, which sends on the host network).
import { execa } from 'execa';
import { ToolError } from '../../../core/errors.ts';
import type { LabPlan } from './plan.ts';

async function ip(args: string[], netns?: string): Promise<string> {
  const full = netns ? ['-n', netns, ...args] : args;
  const r = await execa('ip', full, { reject: false });
  if (r.exitCode !== 0)
    throw new ToolError('ip', `ip ${full.join(' ')} failed: ${r.stderr.trim() || `exit ${r.exitCode}`}`, {
      hint: 'kiln cluster up needs root (CAP_NET_ADMIN) and iproute2 for the namespace, bridges and taps',
    });
  return r.stdout;
}

export async function netnsExists(netns: string): Promise<boolean> {
  const out = await ip(['netns', 'list']);
  return out.split('\n').some((l) => l.split(' ')[0] === netns);
}

async function linkExists(netns: string, name: string): Promise<boolean> {
  const r = await execa('ip', ['-n', netns, 'link', 'show', 'dev', name], { reject: false });
  return r.exitCode === 0;
}

/** Makes (or completes) the namespace, its bridges and taps; safe to run again on a running cluster. */
export async function ensureNetwork(plan: LabPlan): Promise<void> {
  if (!(await netnsExists(plan.netns))) await ip(['netns', 'add', plan.netns]);
  await ip(['link', 'set', 'lo', 'up'], plan.netns);
  for (const net of plan.networks) {
    if (!(await linkExists(plan.netns, net.bridge))) {
      // no STP and no forwarding delay: a VRRP advert must pass the moment a tap joins
      await ip(['link', 'add', net.bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0'], plan.netns);
      if (net.hostAddress) await ip(['addr', 'add', net.hostAddress, 'dev', net.bridge], plan.netns);
    }
    await ip(['link', 'set', net.bridge, 'up'], plan.netns);
  }
  for (const node of plan.nodes)
    for (const nic of node.nics) {
      if (!(await linkExists(plan.netns, nic.tap))) await ip(['tuntap', 'add', 'dev', nic.tap, 'mode', 'tap'], plan.netns);
      await ip(['link', 'set', nic.tap, 'master', nic.bridge, 'up'], plan.netns);
    }
}

/** Removes the namespace with everything in it (taps and bridges go with it). */
export async function removeNetwork(plan: Pick<LabPlan, 'netns'>): Promise<void> {
  if (await netnsExists(plan.netns)) await ip(['netns', 'delete', plan.netns]);
}

/** A command run inside the cluster's namespace (QEMU itself, or a test's ping and arping). */
export function inNetns(netns: string, command: string, args: string[]): [string, string[]] {
  return ['ip', ['netns', 'exec', netns, command, ...args]];
}
