// `kiln cluster up|down|status|libvirt` without QEMU: the plan (networks by subnet, taps, MACs,
// init first), the QEMU command line, the libvirt XML, console parsing against real console logs
// (fixture → golden), and the checks that refuse bad input before anything is made.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ipv4Netmask } from '../../../../builder/cluster/ip.ts';
import { strangerRange } from '../../../../builder/cluster/lab/pxe.ts';
import { consoleStatus, FINAL_STATES } from '../../../../builder/cluster/lab/console.ts';
import { clusterUp, loadPlan } from '../../../../builder/cluster/lab/lifecycle.ts';
import { domainXml, networkXml } from '../../../../builder/cluster/lab/libvirt.ts';
import { derivedMac, planLab, subnetOf } from '../../../../builder/cluster/lab/plan.ts';
import { qemuArgs } from '../../../../builder/cluster/lab/qemu.ts';
import type { ClusterSummary } from '../../../../builder/cluster/lab/summary.ts';
import { KilnError, ValidationError } from '../../../../core/errors.ts';
import { repoRoot } from '../../../helpers/build.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-lab-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const node = (name: string, role: 'init' | 'control-plane' | 'worker', ifaces: ClusterSummary['nodes'][number]['interfaces']) => ({
  name,
  role,
  advertiseAddress: ifaces[0]!.addresses[0]!.split('/')[0]!,
  interfaces: ifaces,
  cidata: `nodes/${name}/cidata.iso`,
  ignition: `nodes/${name}/ignition.json`,
});

/** Two L2 networks: lan (with a gateway) and a storage network without one; the init node listed last. */
const SUMMARY: ClusterSummary = {
  name: 'lab',
  controlPlaneEndpoint: '10.0.2.100:6443',
  vms: { memoryMiB: 2048, cpus: 2, start: 'parallel' },
  nodes: [
    node('cp-2', 'control-plane', [
      { name: 'lan0', mac: '52:54:00:6b:69:12', addresses: ['10.0.2.12/24'], gateway: '10.0.2.2' },
      { name: 'san0', addresses: ['192.168.50.12/24'] },
    ]),
    node('worker-1', 'worker', [{ name: 'lan0', addresses: ['10.0.2.21/24'], gateway: '10.0.2.2' }]),
    node('cp-1', 'init', [
      { name: 'lan0', mac: '52:54:00:6b:69:11', addresses: ['10.0.2.11/24'], gateway: '10.0.2.2' },
      { name: 'san0', addresses: ['192.168.50.11/24', 'fd00:50::11/64'] },
    ]),
  ],
};
const DIR = '/srv/clusters/lab';
const plan = planLab(SUMMARY, { clusterDir: DIR, socketDir: '/run/kiln/lab-test' });

describe('the plan', () => {
  it('puts interfaces that share a subnet on one bridge, and the namespace at the gateway', () => {
    expect(plan.netns).toBe('kiln-lab');
    expect(plan.networks).toEqual([
      { bridge: 'kbr0', subnet: '10.0.2.0/24', hostAddress: '10.0.2.2/24' },
      { bridge: 'kbr1', subnet: '192.168.50.0/24' },
    ]);
    expect(subnetOf('fd00:50::11/64')).toBe('fd00:50::/64');
    expect(subnetOf('10.1.2.3/16')).toBe('10.1.0.0/16');
  });

  it('starts the init node first, one tap per NIC, the spec MACs or stable derived ones', () => {
    expect(plan.nodes.map((n) => n.name)).toEqual(['cp-1', 'cp-2', 'worker-1']);
    const cp1 = plan.nodes[0]!;
    expect(cp1.nics).toEqual([
      { tap: 'kt2n0', bridge: 'kbr0', mac: '52:54:00:6b:69:11', name: 'lan0' },
      { tap: 'kt2n1', bridge: 'kbr1', mac: derivedMac('lab', 'cp-1', 'san0'), name: 'san0' },
    ]);
    expect(derivedMac('lab', 'cp-1', 'san0')).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
    expect(derivedMac('lab', 'cp-1', 'san0')).not.toBe(derivedMac('lab', 'cp-2', 'san0'));
    expect(cp1).toMatchObject({
      disk: `${DIR}/run/cp-1/disk.qcow2`,
      console: `${DIR}/run/cp-1/console.log`,
      cidata: `${DIR}/nodes/cp-1/cidata.iso`,
      qmp: '/run/kiln/lab-test/cp-1.qmp',
      memoryMiB: 2048,
      cpus: 2,
    });
  });
});

describe('the PXE lab network', () => {
  it('leaves ten addresses below the broadcast address to strangers, with the netmask dnsmasq wants', () => {
    expect(strangerRange('10.0.2.0/24')).toEqual(['10.0.2.230', '10.0.2.239']);
    expect(strangerRange('192.168.0.0/16')).toEqual(['192.168.255.230', '192.168.255.239']);
    expect(() => strangerRange('10.0.2.0/27')).toThrow(/too small for a DHCP range/);
    expect([0, 20, 24, 32].map(ipv4Netmask)).toEqual(['0.0.0.0', '255.255.240.0', '255.255.255.0', '255.255.255.255']);
  });
});

describe('the QEMU command line', () => {
  const cp1 = plan.nodes[0]!;
  it('boots the overlay with the cidata ISO, taps with the node MACs, consoles in files', () => {
    const a = qemuArgs(cp1, { boot: 'disk', seed: 'nocloud', firmware: 'bios', accel: 'tcg' }).join(' ');
    expect(a).toContain('-accel tcg -machine q35 -cpu max,-erms,-fsrm -smp 2 -m 2048');
    expect(a).toContain(`-daemonize -pidfile ${DIR}/run/cp-1/qemu.pid`);
    expect(a).toContain(`-serial file:${DIR}/run/cp-1/console.log -serial file:${DIR}/run/cp-1/serial1.log`);
    expect(a).toContain(`-drive if=none,id=disk,format=qcow2,file=${DIR}/run/cp-1/disk.qcow2`);
    expect(a).toContain(`media=cdrom,readonly=on,file=${DIR}/nodes/cp-1/cidata.iso`);
    expect(a).toContain(
      '-netdev tap,id=net0,ifname=kt2n0,script=no,downscript=no -device virtio-net-pci,netdev=net0,mac=52:54:00:6b:69:11',
    );
    expect(a).toContain('-netdev tap,id=net1,ifname=kt2n1');
    expect(a).not.toContain('fw_cfg');
    // never QEMU's own networking: user mode and socket/multicast would reach beyond the namespace
    expect(a).not.toMatch(/-nic |user,|socket,|mcast/);
  });

  it('passes Ignition over fw_cfg and UEFI firmware with the node its own variables', () => {
    const a = qemuArgs(cp1, { boot: 'disk', seed: 'ignition', firmware: 'uefi', accel: 'kvm', ovmfVars: '/x/OVMF_VARS.fd' }).join(' ');
    expect(a).toContain(`-fw_cfg name=opt/com.coreos/config,file=${DIR}/nodes/cp-1/ignition.json`);
    expect(a).not.toContain('cidata.iso');
    expect(a).toContain('if=pflash,format=raw,unit=1,file=/x/OVMF_VARS.fd');
    expect(a).toContain('-accel kvm -machine q35 -cpu host');
    expect(() => qemuArgs(cp1, { boot: 'disk', seed: 'ignition', firmware: 'uefi', accel: 'tcg' })).toThrow(/OVMF variables/);
  });

  it('boots a rack machine: blank disk first, then the first NIC (iPXE), no seed of its own', () => {
    const a = qemuArgs(cp1, { boot: 'pxe', seed: 'nocloud', firmware: 'bios', accel: 'tcg' }).join(' ');
    expect(a).toContain('virtio-blk-pci,drive=disk,bootindex=0');
    expect(a).toContain('-device virtio-net-pci,netdev=net0,mac=52:54:00:6b:69:11,bootindex=1 ');
    // the second NIC carries no option ROM, so it never boots
    expect(a).toMatch(/netdev=net1,mac=[0-9a-f:]+,romfile=(\s|$)/);
    expect(a).not.toMatch(/cidata|fw_cfg/);
  });
});

describe('libvirt XML', () => {
  it('isolated networks (no forward) and domains with the same disks, seeds and MACs', () => {
    const net = networkXml(plan, plan.networks[0]!);
    expect(net).toContain('<name>kiln-lab-kbr0</name>');
    expect(net).toContain("<ip address='10.0.2.2' prefix='24'/>");
    expect(net).not.toContain('<forward');
    expect(networkXml(plan, plan.networks[1]!)).not.toContain('<ip');
    const dom = domainXml(plan, plan.nodes[0]!, { seed: 'nocloud', firmware: 'bios', accel: 'kvm' });
    expect(dom).toMatch(/^<domain type='kvm'>/);
    expect(dom).toContain(`<source file='${DIR}/run/cp-1/disk.qcow2'/>`);
    expect(dom).toContain(`<source file='${DIR}/nodes/cp-1/cidata.iso'/>`);
    expect(dom.match(/<interface type='network'>/g)).toHaveLength(2);
    expect(dom).toContain("<source network='kiln-lab-kbr1'/>");
    const ign = domainXml(plan, plan.nodes[0]!, { seed: 'ignition', firmware: 'uefi', accel: 'tcg' });
    expect(ign).toMatch(/^<domain type='qemu'>/);
    expect(ign).toContain(`<entry name='opt/com.coreos/config' file='${DIR}/nodes/cp-1/ignition.json'/>`);
    expect(ign).toContain("<os firmware='efi'>");
  });
});

describe('console status (fixture → golden)', () => {
  const dir = path.join(repoRoot, 'test/fixtures/cluster/console');
  for (const log of readdirSync(dir).filter((f) => f.endsWith('.log'))) {
    it(log, () => {
      const expected = JSON.parse(readFileSync(path.join(dir, log.replace(/\.log$/, '.expected.json')), 'utf8'));
      expect(consoleStatus(readFileSync(path.join(dir, log), 'utf8'))).toEqual(expected);
    });
  }

  it('knows nothing before firstboot speaks, and starts over at every boot', () => {
    expect(consoleStatus('SeaBIOS (version 1.16)\n').overall).toBe('not-started');
    const s = consoleStatus('kiln-firstboot[early]: late pass done in 5 ms\n[ 0.0] Linux version 6.1\nkiln-firstboot[early]: source: x\n');
    expect(s).toMatchObject({ boots: 1, overall: 'running', early: { state: 'running' } });
  });

  it('an installing live boot is "installed", which is not final: the disk boot follows', () => {
    const log = readFileSync(path.join(dir, 'install-then-disk.log'), 'utf8');
    const live = consoleStatus(log.split('\n').slice(0, 8).join('\n'));
    expect(live).toMatchObject({ boots: 1, early: { state: 'waiting-for-network' }, late: { state: 'installed' }, overall: 'installed' });
    expect(FINAL_STATES.has(live.overall)).toBe(false);
  });
});

/** `kiln cluster up` options for the cases that must fail before anything starts. */
const UP_OPTS = {
  boot: 'disk' as const,
  seed: 'nocloud' as const,
  firmware: 'bios' as const,
  accel: 'tcg' as const,
  wait: false,
  timeoutSeconds: 5,
  log: () => {},
};

describe('bad input is refused before anything is made', () => {
  const made = (dir: string) => readdirSync(dir).sort();

  it('a DIR without cluster.json, or with a broken one, names the file and field', async () => {
    const empty = path.join(tmp, 'empty');
    mkdirSync(empty);
    await expect(loadPlan(empty)).rejects.toThrow(/no cluster\.json/);
    const broken = path.join(tmp, 'broken');
    mkdirSync(broken);
    writeFileSync(path.join(broken, 'cluster.json'), JSON.stringify({ ...SUMMARY, vms: { memoryMiB: 64, cpus: 2, start: 'parallel' } }));
    const error = await loadPlan(broken).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems[0]).toMatchObject({ file: path.join(broken, 'cluster.json'), path: '/vms/memoryMiB' });
    expect(made(broken)).toEqual(['cluster.json']);
  });

  it('an unknown node, or an image that is not a disk, fails with nothing made', async () => {
    const dir = path.join(tmp, 'ok');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'cluster.json'), JSON.stringify(SUMMARY));
    const opts = UP_OPTS;
    const unknown = await clusterUp(dir, { ...opts, image: '/nonexistent.qcow2', nodes: ['cp-9'] }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(KilnError);
    expect((unknown as KilnError).message).toBe('no node "cp-9" in cluster lab');
    expect((unknown as KilnError).hint).toBe('nodes: cp-1, cp-2, worker-1');
    await expect(clusterUp(dir, { ...opts, image: path.join(tmp, 'missing.qcow2'), nodes: [] })).rejects.toThrow(/cannot read the image/);
    expect(made(dir)).toEqual(['cluster.json']);
  });

  // cluster.json is a file in the user's directory: every name that becomes a path is checked where it is read
  it.each([
    ['a node name that climbs out of DIR', (n: Record<string, unknown>) => ({ ...n, name: '../../x' }), '/nodes/0/name'],
    ['a node name with a slash', (n: Record<string, unknown>) => ({ ...n, name: 'a/b' }), '/nodes/0/name'],
    ['a cidata path outside the node directory', (n: Record<string, unknown>) => ({ ...n, cidata: '../../etc/x.iso' }), '/nodes/0/cidata'],
    [
      'an ignition path of another node',
      (n: Record<string, unknown>) => ({ ...n, ignition: 'nodes/cp-1/ignition.json' }),
      '/nodes/0/ignition',
    ],
    [
      'an interface name that is a path',
      (n: Record<string, unknown>) => ({ ...n, interfaces: [{ name: '../tap', addresses: ['10.0.2.12/24'] }] }),
      '/nodes/0/interfaces/0/name',
    ],
  ])('a tampered cluster.json: %s is refused at its field', async (_what, tamper, at) => {
    const dir = mkdtempSync(path.join(tmp, 'tampered-'));
    const nodes = SUMMARY.nodes.map((n, i) => (i === 0 ? tamper(n as unknown as Record<string, unknown>) : n));
    writeFileSync(path.join(dir, 'cluster.json'), JSON.stringify({ ...SUMMARY, nodes }));
    const error = await loadPlan(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems.map((p) => p.path)).toContain(at);
    expect(made(dir)).toEqual(['cluster.json']);
  });

  it('a corrupt cluster.json or run/state.json is a located exit-2 error, not a crash', async () => {
    const dir = mkdtempSync(path.join(tmp, 'corrupt-'));
    writeFileSync(path.join(dir, 'cluster.json'), '{"name": "lab", ');
    const error = await loadPlan(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems[0]).toMatchObject({ line: 1, message: expect.stringMatching(/^JSON syntax error/) });
    writeFileSync(path.join(dir, 'cluster.json'), JSON.stringify(SUMMARY));
    mkdirSync(path.join(dir, 'run'));
    writeFileSync(path.join(dir, 'run/state.json'), '{"image": 7}');
    const opts = UP_OPTS;
    const image = path.join(dir, 'node.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '16M']);
    const state = await clusterUp(dir, { ...opts, image, nodes: [] }).catch((e: unknown) => e);
    expect(state).toBeInstanceOf(ValidationError);
    expect((state as ValidationError).problems.map((p) => [p.file, p.path])).toContainEqual([path.join(dir, 'run/state.json'), '/image']);
    expect((state as ValidationError).exitCode).toBe(2);
  });
});
