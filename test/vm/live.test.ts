// Boots the hybrid ISO (CD with UEFI and BIOS, USB stick), the ISO with a persistent data disk
// across a reboot, and the PXE bundle over a real network boot (iPXE + TFTP + HTTP).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createDataDisk } from '../../builder/outputs/data-disk.ts';
import { serveStatic, type StaticServer } from '../helpers/http.ts';
import { bootAndProbe, Vm } from '../helpers/qemu.ts';
import { expectKilnNode } from './facts.ts';

const images = inject('vmImages');
const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-vm-live-'));
const iso = path.join(images, 'kiln.iso');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectLive(facts: Record<string, string>) {
  expect(facts.cmdline).toMatch(/\bboot=live\b/);
  expect(facts.cmdline).toMatch(/console=ttyS0,115200n8/);
  expect(facts.root).toMatch(/overlay$/);
  expect(facts.grow_root!.split(' ')).toContain('inactive'); // live systems do not touch disks
  // containerd's snapshotter needs a real file system under it, not the live overlay
  expect(facts.containerd_storage).toBe('tmpfs');
}

describe('hybrid ISO', () => {
  it('boots from CD with UEFI (OVMF)', async () => {
    const probe = await bootAndProbe({ name: 'iso-cd-uefi', dir, firmware: 'uefi', cdrom: iso, memoryMiB: 3072 });
    console.log(`iso CD/UEFI: probe after ${probe.seconds.toFixed(0)} s`);
    expectKilnNode(probe);
    expectLive(probe.facts);
  });

  it('boots from CD with BIOS (SeaBIOS)', async () => {
    const probe = await bootAndProbe({ name: 'iso-cd-bios', dir, firmware: 'bios', cdrom: iso, memoryMiB: 3072 });
    console.log(`iso CD/BIOS: probe after ${probe.seconds.toFixed(0)} s`);
    expectKilnNode(probe);
    expectLive(probe.facts);
  });

  it('boots as a USB stick (the hybrid MBR/GPT side)', async () => {
    const probe = await bootAndProbe({ name: 'iso-usb-bios', dir, firmware: 'bios', disks: [{ file: iso, format: 'raw', interface: 'usb' }], memoryMiB: 3072 });
    console.log(`iso USB/BIOS: probe after ${probe.seconds.toFixed(0)} s`);
    expectKilnNode(probe);
    expectLive(probe.facts);
  });

  it('keeps /var on a persistent data disk across a reboot', async () => {
    const data = path.join(dir, 'data.img');
    await createDataDisk(data, 2 * 2 ** 30);
    const spec = { dir, firmware: 'bios' as const, cdrom: iso, disks: [{ file: data, format: 'raw' as const, snapshot: false }], memoryMiB: 3072 };
    const first = new Vm({ ...spec, name: 'iso-persist-1' });
    first.start();
    const one = await first.probe();
    await first.powerdown();
    expectKilnNode(one);
    expect(one.facts.boots).toBe('1');
    const second = new Vm({ ...spec, name: 'iso-persist-2' });
    second.start();
    const two = await second.probe();
    await second.kill();
    console.log(`iso + data disk: boots seen ${one.facts.boots} then ${two.facts.boots}`);
    expect(two.facts.boots).toBe('2');
    expect(one.facts.containerd_storage).toBe('ext4'); // on the data disk, not in RAM
    // the journal of the first boot survived too, and the node kept its identity
    expect(two.facts.machine_id).toBe(one.facts.machine_id);
  });
});

describe('PXE bundle', () => {
  let server: StaticServer | undefined;
  afterAll(() => server?.close());

  it('network-boots: iPXE script over TFTP, kernel, initrd and squashfs over HTTP', async () => {
    const pxe = path.join(images, 'pxe');
    server = await serveStatic(pxe, '/kiln/boot-test');
    const probe = await bootAndProbe({ name: 'pxe-bios', dir, firmware: 'bios', netboot: { tftpDir: pxe, bootfile: 'boot.ipxe', httpPort: server.port }, memoryMiB: 3072 });
    console.log(`PXE/BIOS: probe after ${probe.seconds.toFixed(0)} s; fetched: ${server.requests.join(', ')}`);
    expectKilnNode(probe);
    expectLive(probe.facts);
    expect(probe.facts.cmdline).toMatch(/fetch=http:\/\/10\.0\.2\.100\/kiln\/boot-test\/rootfs\.squashfs/);
    expect(server.requests).toEqual(expect.arrayContaining(['GET /kiln/boot-test/vmlinuz', 'GET /kiln/boot-test/initrd.img', 'GET /kiln/boot-test/rootfs.squashfs']));
  });
});
