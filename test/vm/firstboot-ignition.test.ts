// kiln-firstboot in a booted image, from an Ignition config passed over QEMU fw_cfg. The same UEFI
// boot checks the disk image itself (disk.test.ts folded in for the budget): root found by PARTUUID
// and grown to fill a disk bigger than the image.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { repoRoot } from '../helpers/build.ts';
import { bootAndProbe } from '../helpers/qemu.ts';
import { expectKilnNode, journalMaxBytes, standinCalls } from './facts.ts';

const images = inject('vmRoleImages');
const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-vm-ignition-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kiln-firstboot with Ignition over fw_cfg', () => {
  it('applies files, directories, links, units and users from the config', async () => {
    const ignition = path.join(repoRoot, 'test/fixtures/firstboot/vm/ignition.ign');
    // a copy-on-write overlay 4 GiB larger than the image: kiln-grow-root must claim the space
    const image = path.join(images, 'disk.qcow2');
    const imageMiB = Math.round(
      JSON.parse(execFileSync('qemu-img', ['info', '--output=json', image], { encoding: 'utf8' }))['virtual-size'] / 2 ** 20,
    );
    const bigger = path.join(dir, 'bigger.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image, '-F', 'qcow2', bigger, `${imageMiB + 4096}M`]);
    const probe = await bootAndProbe({
      name: 'ignition-uefi',
      dir,
      firmware: 'uefi',
      disks: [{ file: bigger, format: 'qcow2', snapshot: false }],
      ignition,
      memoryMiB: 3072,
    });
    const f = probe.facts;
    console.log(
      `Ignition/UEFI: probe after ${probe.seconds.toFixed(0)} s; firstboot early pass ${f.firstboot_ms} ms, own ${f.firstboot_own_ms} ms (unit ${(Number(f.firstboot_unit_us) / 1000).toFixed(0)} ms)`,
    );
    expectKilnNode(probe);
    // the disk image on UEFI: root by PARTUUID, grown before journald sized itself (the full cap)
    expect(f.cmdline).toMatch(/root=PARTUUID=[0-9a-f-]{36}/);
    expect(f.cmdline).toMatch(/console=ttyS0,115200n8/);
    expect(f.root).toMatch(/^\/dev\/vda\d\s+ext4$/);
    expect(f.grow_root!.split(' ').sort()).toEqual(['active', 'success']);
    expect(Number(f.root_size_mb)).toBeGreaterThan(imageMiB + 3500);
    expect(journalMaxBytes(f.journal_limits!)).toBe(2 * 2 ** 30);
    expect(f.firstboot_early).toBe('done');
    expect(f.hostname).toBe('kiln-ignition');
    // what an operator sees from `kiln-firstboot status` on the node
    expect(f.firstboot_status).toMatch(
      /^early pass: done — ignition-fw-cfg \(fw_cfg opt\/com\.coreos\/config\), instance ignition-sha256-[0-9a-f]{16}\| {2}hostname +done/,
    );
    expect(f.user_ops).toMatch(/^ops:x:\d+:\d+::\/home\/ops:\/bin\/bash$/);
    expect(f.ops_groups!.split(' ').sort()).toEqual(['ops', 'sudo']);
    expect(f.ops_keys).toBe('600 ops 1');
    // the stand-ins' knob directory (cluster-ca.crt) is a parent Ignition made: 0755 root
    expect(f.test_files).toBe(
      '/etc/kiln-test/greeting 640 ops:ops /etc/kiln-test/greeting-link 777 root:root /etc/kiln-test/standins 755 root:root',
    );
    expect(f.test_links).toBe('/etc/kiln-test/greeting-link->/etc/kiln-test/greeting');
    expect(f.greeting).toBe('hello from ignition');
    expect(f.node_yaml).toBe('600 root');
    // enabled by the units step and started in the boot it was written in, with its drop-in
    expect(f.hello_unit).toBe('success active enabled');
    expect(f.hello_ran).toBe('hello from kiln-ignition');
    // a worker: kubeadm join pinned to the CA, checked by the stand-in against upstream
    const joins = standinCalls(f.standins!).filter((c) => c.tool === 'kubeadm' && c.args[0] === 'join');
    expect(joins.map((c) => c.exitCode)).toEqual([0]);
    const join = joins[0]!.config!.find((d) => d.kind === 'JoinConfiguration') as unknown as {
      discovery: { bootstrapToken: { caCertHashes: string[] } };
    };
    expect(join.discovery.bootstrapToken.caCertHashes).toEqual(['sha256:b47ce959a7ab675606fe4586aa9bc91348fce70fd0ca399a35aa78bc80b06633']);
    expect(f.keepalived).toBe('loaded inactive'); // installed, but workers hold no control-plane VIP
    console.log(`Ignition worker: ${f.late_log}`);
    const log = readFileSync(path.join(dir, 'ignition-uefi.serial.log'), 'utf8');
    expect(log).not.toContain('k1lnvm.4f2a9c7e1b3d5f60');
    expect(log).toMatch(/kiln-firstboot\[early\]: source: ignition-fw-cfg/);
  });
});
