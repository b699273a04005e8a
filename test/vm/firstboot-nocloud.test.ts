// kiln-firstboot in a booted image, from a NoCloud `cidata` ISO: user with key, files with modes,
// a unit enabled and run, networkd config applied, hostname set; a second boot changes nothing.
// Booted from the qcow2 with BIOS (SeaBIOS).
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { repoRoot } from '../helpers/build.ts';
import { Vm } from '../helpers/qemu.ts';
import { expectKilnNode, standinCalls } from './facts.ts';

const images = inject('vmRoleImages');
const preloaded = inject('vmPreloaded');
const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-vm-nocloud-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seed = path.join(repoRoot, 'test/fixtures/firstboot/vm/nocloud');
const TOKEN = 'k1lnvm.4f2a9c7e1b3d5f60';
const CERT_KEY = '293c7975bebfa1dcad8c5639bc143d26ae5f474a6ae61916916eee047f7db332';

describe('kiln-firstboot with a NoCloud cidata volume', () => {
  it('provisions the node on first boot and leaves it alone on the second', async () => {
    // the seed ISO as cloud-localds makes it: ISO 9660 + Joliet + Rock Ridge, volume id cidata
    const seedDir = path.join(dir, 'seed');
    cpSync(seed, seedDir, { recursive: true });
    const cidata = path.join(dir, 'cidata.iso');
    await execa('xorriso', ['-as', 'mkisofs', '-quiet', '-o', cidata, '-V', 'cidata', '-J', '-r', seedDir]);
    const disk = path.join(dir, 'node.qcow2');
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', path.join(images, 'disk.qcow2'), '-F', 'qcow2', disk]);
    const spec = {
      dir,
      firmware: 'bios' as const,
      disks: [{ file: disk, format: 'qcow2' as const, snapshot: false }],
      cdrom: cidata,
      bootOrder: 'c',
      mac: '52:54:00:6b:69:01',
      memoryMiB: 3072,
      cpus: 2, // an init node: kubeadm's preflight wants 2 CPUs on control planes
    };
    const first = new Vm({ ...spec, name: 'nocloud-1' });
    first.start();
    const one = await first.probe();
    await first.kill();
    const f = one.facts;
    console.log(
      `NoCloud first boot: probe after ${one.seconds.toFixed(0)} s; firstboot early pass ${f.firstboot_ms} ms, own ${f.firstboot_own_ms} ms (unit ${(Number(f.firstboot_unit_us) / 1000).toFixed(0)} ms)`,
    );
    expectKilnNode(one);
    // the compressed disk image on BIOS (SeaBIOS): root on its ext4 partition
    expect(f.root).toMatch(/^\/dev\/vda\d\s+ext4$/);
    expect(f.firstboot_early).toBe('done');
    expect(f.firstboot_late).toBe('done');
    // the image baked in at build time, imported into k8s.io by the role plan: same name, same digest
    expect(f.preloaded).toBe(`${preloaded.ref} ${preloaded.digest}`);
    expect(f.networkd_after_firstboot).toBe('yes');
    expect(f.hostname).toBe('kiln-nocloud');
    // user with key, groups, password hash, sudo rule
    expect(f.user_ops).toMatch(/^ops:x:\d+:\d+:Operations:\/home\/ops:\/bin\/bash$/);
    expect(f.ops_groups!.split(' ').sort()).toEqual(['ops', 'sudo', 'systemd-journal']);
    expect(f.ops_keys).toBe('600 ops 1');
    expect(f.ops_shadow).toBe('$6$');
    expect(f.sudo_ops).toBe('ops ALL=(ALL) NOPASSWD:ALL');
    expect(f.visudo).toMatch(/\/etc\/sudoers\.d\/90-kiln-ops: parsed OK/);
    // files with their modes and owners, every encoding decoded
    expect(f.test_files).toBe('/etc/kiln-test/greeting 640 ops:ops /etc/kiln-test/packed 600 root:root');
    expect(f.greeting).toBe('hello from cloud-config');
    expect(f.node_yaml).toBe('600 root');
    // runcmd enabled and started the unit the metadata wrote
    expect(f.hello_unit).toBe('success active enabled');
    expect(f.hello_ran).toBe('hello from kiln-nocloud');
    expect(f.runcmd_count).toBe('1');
    expect(f.bootcmd_count).toBe('1');
    // network-config → networkd: renamed by MAC, static address, policy routing via table 100
    expect(f.net_addr).toMatch(/^lan0\s+UP\s+10\.0\.2\.15\/24/);
    expect(f.net_rules).toMatch(/^100:\s+from 10\.0\.2\.15 lookup 100/);
    expect(f.net_table100).toMatch(/^default via 10\.0\.2\.2 dev lan0/);
    expect(f.default_network).toBe('/dev/null'); // the image's catch-all DHCP is masked
    expect(f.timezone).toBe('/usr/share/zoneinfo/Europe/Berlin');
    expect(f.chrony_kiln).toBe('server 10.0.2.2 iburst');
    // chronyd's own parser reads the config (the image's pool commented out, ours in)
    expect(f.chrony_parsed).toMatch(/^server 10\.0\.2\.2 iburst\|exit=0$/);
    // nameservers and search domain from network-config, as resolved sees them
    expect(f.resolv).toMatch(/\(lan0\): 10\.0\.2\.3/);
    expect(f.status_mode).toBe('644');
    // the role plan of an init node: keepalived holds the VIP before kubeadm init, whose config
    // the kubeadm stand-in checked against upstream; Helm installed Cilium pointed at the VIP
    expect(f.keepalived).toBe('loaded active');
    expect(f.vip).toBe('10.0.2.100/32');
    const calls = standinCalls(f.standins!);
    const init = calls.filter((c) => c.tool === 'kubeadm' && c.args[0] === 'init');
    expect(init.map((c) => c.exitCode)).toEqual([0]);
    expect(init[0]!.args).toEqual(expect.arrayContaining(['--upload-certs']));
    expect(init[0]!.config!.map((d) => d.kind).sort()).toEqual(['ClusterConfiguration', 'InitConfiguration', 'KubeletConfiguration']);
    const cilium = calls.find((c) => c.tool === 'helm' && c.args.includes('cilium'));
    expect(cilium?.exitCode).toBe(0);
    expect(cilium?.values).toMatchObject({ kubeProxyReplacement: true, k8sServiceHost: '10.0.2.100', k8sServicePort: 6443 });
    expect(f.snapshot_timer).toBe('enabled');
    expect(f.kubeadm_config_mode).toBe('600');
    console.log(`NoCloud init node: ${f.late_log}`);
    // the join token and certificate key are secrets: never on the console
    const log = readFileSync(first.serialLog, 'utf8');
    expect(log).not.toContain(TOKEN);
    expect(log).not.toContain(CERT_KEY);

    const second = new Vm({ ...spec, name: 'nocloud-2' });
    second.start();
    const two = await second.probe();
    await second.kill();
    console.log(`NoCloud second boot: probe after ${two.seconds.toFixed(0)} s`);
    expectKilnNode(two, { kubeadmDone: true });
    expect(two.facts.firstboot_early).toBe('already-provisioned');
    expect(two.facts.firstboot_late).toBe('already-provisioned');
    expect(two.facts.runcmd_count).toBe('1'); // once per instance
    expect(two.facts.bootcmd_count).toBe('2'); // every boot, as cloud-init does
    expect(two.facts.hostname).toBe('kiln-nocloud');
    expect(two.facts.machine_id).toBe(f.machine_id);
    // the role plan ran once: a reboot does not kubeadm init again
    expect(standinCalls(two.facts.standins!).filter((c) => c.tool === 'kubeadm' && c.args[0] === 'init')).toHaveLength(1);
    expect(two.facts.vip).toBe('10.0.2.100/32'); // keepalived is enabled and takes the VIP again
  });
});
