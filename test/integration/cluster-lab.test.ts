// kiln cluster's machinery with the real tools and no VM: the network namespace with a bridge per
// subnet and a tap per NIC (iproute2), the libvirt XML (virt-xml-validate against libvirt's own
// schemas), status of a cluster never started, and bad input refused with nothing made.
import { execa } from 'execa';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureNetwork, removeNetwork } from '../../builder/cluster/lab/netns.ts';
import { planLab } from '../../builder/cluster/lab/plan.ts';
import type { ClusterSummary } from '../../builder/cluster/lab/summary.ts';
import { kiln, repoRoot, tempDir } from '../helpers/build.ts';

const work = tempDir('kiln-it-lab-');
const dir = path.join(work, 'it-lab');
// the VM test's cluster spec under another name: its namespace (kiln-e2e) may be up meanwhile
const spec = path.join(work, 'it-lab.yaml');
writeFileSync(spec, readFileSync(path.join(repoRoot, 'test/fixtures/cluster/e2e.yaml'), 'utf8').replace(/^name: e2e$/m, 'name: it-lab'));
const image = path.join(work, 'disk.qcow2');
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Link {
  ifname: string;
  master?: string;
  operstate: string;
  linkinfo?: { info_kind?: string };
  addr_info?: Array<{ local: string; prefixlen: number }>;
}
const links = async (netns: string): Promise<Link[]> => JSON.parse((await execa('ip', ['-n', netns, '-d', '-j', 'addr', 'show'])).stdout);

describe('the cluster network namespace', () => {
  const summary: ClusterSummary = {
    name: 'it-two-nets',
    controlPlaneEndpoint: '10.0.2.100:6443',
    vms: { memoryMiB: 1024, cpus: 1, start: 'parallel' },
    nodes: ['a', 'b'].map((n, i) => ({
      name: n,
      role: i === 0 ? ('init' as const) : ('worker' as const),
      advertiseAddress: `10.0.2.1${i}`,
      interfaces: [
        { name: 'lan0', addresses: [`10.0.2.1${i}/24`], gateway: '10.0.2.2' },
        { name: 'san0', addresses: [`192.168.50.1${i}/24`] },
      ],
      cidata: `nodes/${n}/cidata.iso`,
      ignition: `nodes/${n}/ignition.json`,
    })),
  };
  const plan = planLab(summary, { clusterDir: work, socketDir: path.join(work, 'sockets') });
  afterAll(() => removeNetwork(plan));

  it('has a bridge per subnet, a tap per NIC on its bridge, the gateway on the first; again changes nothing; removed whole', async () => {
    await ensureNetwork(plan);
    await ensureNetwork(plan); // idempotent: a second up on a running cluster
    const byName = new Map((await links(plan.netns)).map((l) => [l.ifname, l]));
    expect([...byName.keys()].sort()).toEqual(['kbr0', 'kbr1', 'kt0n0', 'kt0n1', 'kt1n0', 'kt1n1', 'lo']);
    expect(byName.get('kbr0')!.linkinfo?.info_kind).toBe('bridge');
    const global = (l: string) =>
      byName
        .get(l)!
        .addr_info!.filter((a) => !a.local.startsWith('fe80'))
        .map((a) => `${a.local}/${a.prefixlen}`);
    expect(global('kbr0')).toEqual(['10.0.2.2/24']);
    expect(global('kbr1')).toEqual([]);
    expect(['kt0n0', 'kt1n0'].map((t) => byName.get(t)!.master)).toEqual(['kbr0', 'kbr0']);
    expect(['kt0n1', 'kt1n1'].map((t) => byName.get(t)!.master)).toEqual(['kbr1', 'kbr1']);
    expect(byName.get('kt0n0')!.linkinfo?.info_kind).toBe('tun');
    // the host's own network is untouched: no tap or bridge of the cluster outside the namespace
    const host = JSON.parse((await execa('ip', ['-j', 'link', 'show'])).stdout) as Link[];
    expect(host.map((l) => l.ifname)).not.toContain('kt0n0');
    await removeNetwork(plan);
    expect((await execa('ip', ['netns', 'list'])).stdout).not.toContain(plan.netns);
  });
});

describe('kiln cluster libvirt, status and bad input (real CLI)', () => {
  it("writes libvirt XML that libvirt's schemas accept, in both seed and firmware variants", async () => {
    await kiln(['cluster', 'gen', spec, '--out', dir]);
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', image, '1G']);
    for (const extra of [[], ['--seed', 'ignition', '--uefi', '--accel', 'tcg']]) {
      const r = await kiln(['cluster', 'libvirt', dir, '--image', image, ...extra]);
      expect(r.stdout).toContain(`virsh define ${path.join(dir, 'libvirt/cp-1.xml')}`);
      const files = readdirSync(path.join(dir, 'libvirt')).sort();
      expect(files).toEqual(['cp-1.xml', 'cp-2.xml', 'cp-3.xml', 'network-kbr0.xml', 'worker-1.xml']);
      for (const f of files) {
        const v = await execa('virt-xml-validate', [path.join(dir, 'libvirt', f), f.startsWith('network-') ? 'network' : 'domain'], {
          reject: false,
          all: true,
        });
        expect(v.exitCode, `${f} ${extra.join(' ')}: ${v.all}`).toBe(0);
      }
    }
    // the overlay disks the domains point at exist, backed by the image
    const info = JSON.parse((await execa('qemu-img', ['info', '--output=json', path.join(dir, 'run/cp-1/disk.qcow2')])).stdout);
    expect(info['backing-filename']).toBe(image);
  });

  it('status of a cluster never started: no network, every node stopped and not started', async () => {
    const r = await kiln(['cluster', 'status', dir, '--json']);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ cluster: 'it-lab', netns: 'kiln-it-lab', network: false });
    expect(
      s.nodes.map((n: { name: string; running: boolean; console: { overall: string } }) => [n.name, n.running, n.console.overall]),
    ).toEqual([
      ['cp-1', false, 'not-started'],
      ['cp-2', false, 'not-started'],
      ['cp-3', false, 'not-started'],
      ['worker-1', false, 'not-started'],
    ]);
  });

  it('refuses bad input with exit 2 before making a namespace', async () => {
    const fresh = path.join(work, 'fresh');
    await kiln(['cluster', 'gen', spec, '--out', fresh]);
    const cases: Array<[string[], RegExp]> = [
      [['cluster', 'up', fresh], /--image DISK is required/],
      [['cluster', 'up', fresh, '--image', image, 'cp-9'], /no node "cp-9" in cluster it-lab\n\s+hint: nodes: cp-1, cp-2, cp-3, worker-1/],
      [['cluster', 'up', fresh, '--image', image, '--seed', 'pxe'], /--seed must be one of nocloud, ignition/],
      [['cluster', 'up', fresh, '--image', path.join(work, 'missing.qcow2')], /missing\.qcow2: cannot read the image/],
      [['cluster', 'down', fresh, 'cp-1', '--purge'], /--purge drops the whole cluster/],
      [['cluster', 'launch', fresh], /unknown cluster command "launch"/],
    ];
    for (const [args, message] of cases) {
      const r = await kiln(args, { reject: false });
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    expect(existsSync(path.join(fresh, 'run'))).toBe(false);
    expect((await execa('ip', ['netns', 'list'])).stdout).not.toMatch(/^kiln-it-lab\b/m);
  });
});
