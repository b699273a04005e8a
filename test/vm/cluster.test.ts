// The whole cluster path: one cluster spec → `kiln cluster gen` → `kiln cluster up` boots three
// control planes and a worker (the role-test image: real keepalived and firstboot, the strict
// kubeadm/helm stand-ins, whose joins discover the init node through the VIP over the private
// network). Then: exactly one VIP holder, the pool spread one VIP per node, the VIP holder powered
// off and the VIP taken over (the gap measured), the node back and still exactly one holder.
import { execa } from 'execa';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { ClusterSummary } from '../../builder/cluster/lab/summary.ts';
import { kiln, repoRoot, tempDir } from '../helpers/build.ts';
import { probeFacts } from '../helpers/qemu.ts';
import { arpHolders, failoverGap, waitForHolder } from '../helpers/vrrp.ts';
import type { Doc, JoinConfiguration } from '../standins/kubeadm/config.ts';
import { standinCalls, type StandinCall } from './facts.ts';

const disk = path.join(inject('vmRoleImages'), 'disk.qcow2');
const work = tempDir('kiln-vm-cluster-');
const dir = path.join(work, 'e2e');
const NETNS = 'kiln-e2e';
const BRIDGE = 'kbr0';
const VIP = '10.0.2.100';
const POOL = ['10.0.2.201', '10.0.2.202', '10.0.2.203', '10.0.2.204'];

afterAll(async () => {
  await kiln(['cluster', 'down', dir, '--force', '--purge'], { reject: false });
  rmSync(work, { recursive: true, force: true });
});

/** The boot probe's facts (ttyS1), once the node's probe has reported (it runs after firstboot). */
async function factsOf(node: string, seconds = 300): Promise<Record<string, string>> {
  const file = path.join(dir, 'run', node, 'serial1.log');
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const facts = existsSync(file) ? probeFacts(readFileSync(file, 'utf8')) : undefined;
    if (facts) return facts;
    if (Date.now() > deadline) throw new Error(`${node}: no probe report within ${seconds} s`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const configOf = (call: StandinCall, kind: string) => (call.config as Doc[] | undefined)?.find((d) => d.kind === kind);
const kubeadm = (calls: StandinCall[], verb: string) => calls.filter((c) => c.tool === 'kubeadm' && c.args[0] === verb);

describe('kiln cluster up: three control planes and a worker from one spec', () => {
  it(
    'forms the cluster with no manual step, holds one VIP, fails over and recovers',
    async () => {
      await kiln(['cluster', 'gen', path.join(repoRoot, 'test/fixtures/cluster/e2e.yaml'), '--out', dir]);
      const summary = JSON.parse(readFileSync(path.join(dir, 'cluster.json'), 'utf8')) as ClusterSummary & { caCertHash: string };
      const secrets = JSON.parse(readFileSync(path.join(dir, 'secrets.json'), 'utf8'));
      const macOf = Object.fromEntries(summary.nodes.map((n) => [n.name, n.interfaces[0]!.mac])) as Record<string, string>;

      const up = await kiln(['cluster', 'up', dir, '--image', disk, '--wait', '--timeout', '1500'], { reject: false });
      console.log(`kiln cluster up:\n${up.all}`);
      expect(up.exitCode, up.all).toBe(0);
      expect(up.all).toMatch(/all nodes finished their first boot in \d+ s/);

      // --- what each node asked kubeadm and helm to do
      const facts = Object.fromEntries(await Promise.all(Object.keys(macOf).map(async (n) => [n, await factsOf(n)] as const)));
      const calls = Object.fromEntries(Object.entries(facts).map(([n, f]) => [n, standinCalls(f.standins!)]));
      // four boots of the same disk image, four machine identities
      expect(new Set(Object.values(facts).map((f) => f.machine_id)).size).toBe(4);
      const [init] = kubeadm(calls['cp-1']!, 'init');
      expect(init?.exitCode).toBe(0);
      expect(init!.args).toContain('--upload-certs');
      expect(configOf(init!, 'InitConfiguration')).toMatchObject({
        bootstrapTokens: [{ token: secrets.token }],
        certificateKey: secrets.certificateKey,
      });
      expect(configOf(init!, 'ClusterConfiguration')).toMatchObject({ controlPlaneEndpoint: `${VIP}:6443` });
      expect(calls['cp-1']!.find((c) => c.tool === 'helm' && c.args.includes('cilium'))?.exitCode).toBe(0);
      for (const node of ['cp-2', 'cp-3', 'worker-1']) {
        const joins = kubeadm(calls[node]!, 'join');
        expect(joins.at(-1)?.exitCode, node).toBe(0);
        const join = configOf(joins.at(-1)!, 'JoinConfiguration') as JoinConfiguration;
        expect(join.discovery!.bootstrapToken, node).toMatchObject({
          apiServerEndpoint: `${VIP}:6443`,
          token: secrets.token,
          caCertHashes: [summary.caCertHash],
        });
        expect(join.discovery!.bootstrapToken!.unsafeSkipCAVerification, node).toBeFalsy();
        if (node === 'worker-1') expect(join.controlPlane).toBeUndefined();
        else expect(join.controlPlane).toMatchObject({ certificateKey: secrets.certificateKey });
        expect(kubeadm(calls[node]!, 'init'), node).toEqual([]);
        expect(
          calls[node]!.some((c) => c.tool === 'helm'),
          node,
        ).toBe(false); // only the init node installs Cilium
      }
      // the init node's (stand-in) apiserver registered every node that joined, through the VIP
      const nodes = await execa('ip', [
        'netns',
        'exec',
        NETNS,
        'curl',
        '-sfk',
        '--max-time',
        '10',
        '-H',
        `Authorization: Bearer ${secrets.token}`,
        `https://${VIP}:6443/api/v1/nodes`,
      ]);
      expect(
        JSON.parse(nodes.stdout)
          .items.map((n: { metadata: { name: string } }) => n.metadata.name)
          .sort(),
      ).toEqual(['cp-1', 'cp-2', 'cp-3', 'worker-1']);

      // --- exactly one holder of the control-plane VIP: the init node (highest priority); the pool spread
      expect(await arpHolders(NETNS, BRIDGE, VIP)).toEqual([macOf['cp-1']]);
      const poolHolders = await Promise.all(POOL.map((ip) => arpHolders(NETNS, BRIDGE, ip)));
      for (const [i, h] of poolHolders.entries()) expect(h, POOL[i]).toHaveLength(1);
      expect(poolHolders.flat().sort()).toEqual(Object.values(macOf).sort());

      // --- power off the VIP holder: the next control plane takes the VIP
      const gap = await failoverGap(NETNS, VIP, () => kiln(['cluster', 'down', dir, 'cp-1', '--force']));
      console.log(`VIP failover: ${VIP} answered again ${gap.toFixed(2)} s after its last answer from cp-1 (target ≤ 4 s at advert_int 1)`);
      expect(gap).toBeLessThan(30);
      expect(await waitForHolder(NETNS, BRIDGE, VIP, (mac) => mac === macOf['cp-2'], 30)).toEqual([macOf['cp-2']]);
      // cp-1's pool VIP moved to a live node: still one holder each
      for (const ip of POOL)
        expect(
          (await arpHolders(NETNS, BRIDGE, ip)).filter((m) => m !== macOf['cp-1']),
          ip,
        ).toHaveLength(1);

      // --- bring it back: a second boot provisions nothing, and the VIP has exactly one holder again
      const back = await kiln(['cluster', 'up', dir, '--image', disk, 'cp-1', '--wait', '--timeout', '900'], { reject: false });
      expect(back.exitCode, back.all).toBe(0);
      expect(back.all).toMatch(/cp-1 +init +running \(pid \d+\) +already-provisioned/);
      const holder = await waitForHolder(NETNS, BRIDGE, VIP, (mac) => mac === macOf['cp-1'], 180);
      expect(holder, 'cp-1 takes the VIP back once its apiserver answers (priority 150 over 140)').toEqual([macOf['cp-1']]);
      for (let i = 0; i < 5; i++) expect(await arpHolders(NETNS, BRIDGE, VIP)).toHaveLength(1);
      const again = await factsOf('cp-1');
      expect(kubeadm(standinCalls(again.standins!), 'init')).toHaveLength(1); // not run again

      const status = JSON.parse((await kiln(['cluster', 'status', dir, '--json'])).stdout);
      expect(status.nodes.map((n: Doc) => [n.name, n.running])).toEqual([
        ['cp-1', true],
        ['cp-2', true],
        ['cp-3', true],
        ['worker-1', true],
      ]);
      // the token and certificate key never reach a console
      for (const node of Object.keys(macOf)) {
        const log = readFileSync(path.join(dir, 'run', node, 'console.log'), 'utf8');
        expect(log, node).not.toContain(secrets.token);
        expect(log, node).not.toContain(secrets.certificateKey);
      }

      await kiln(['cluster', 'down', dir, '--force', '--purge']);
      expect((await execa('ip', ['netns', 'list'])).stdout).not.toMatch(new RegExp(`^${NETNS}\\b`, 'm'));
      expect(existsSync(path.join(dir, 'run'))).toBe(false);
    },
    40 * 60_000,
  ); // four TCG VMs and a reboot, sharing two cores with the other VM test
});
