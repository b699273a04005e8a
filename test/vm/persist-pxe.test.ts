// A live node keeps /var and /etc on a data disk across a reboot; the PXE bundle boots over a real
// network boot (iPXE script over TFTP, kernel, initrd and squashfs over HTTP).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createDataDisk } from '../../builder/outputs/data-disk.ts';
import { serveStatic, type StaticServer } from '../helpers/http.ts';
import { bootAndProbe, Vm } from '../helpers/qemu.ts';
import { expectKilnNode, expectLive } from './facts.ts';

const images = inject('vmImages');
const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-vm-net-'));
const iso = path.join(images, 'kiln.iso');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('persistent live node', () => {
  it('keeps /var on a persistent data disk across a reboot', async () => {
    const data = path.join(dir, 'data.img');
    await createDataDisk(data, 2 * 2 ** 30);
    const spec = { dir, firmware: 'bios' as const, cdrom: iso, disks: [{ file: data, format: 'raw' as const, snapshot: false }], memoryMiB: 3072 };
    const first = new Vm({ ...spec, name: 'iso-persist-1' });
    first.start();
    const one = await first.probe();
    // a power cut after the probe's sync: /var and /etc must survive without a clean shutdown
    await first.kill();
    expectKilnNode(one);
    expect(one.facts.boots).toBe('1');
    const second = new Vm({ ...spec, name: 'iso-persist-2' });
    second.start();
    const two = await second.probe(900);
    await second.kill();
    console.log(`iso + data disk: boots seen ${one.facts.boots} then ${two.facts.boots}`);
    expect(two.facts.boots).toBe('2');
    expect(one.facts.containerd_storage).toBe('ext4'); // on the data disk, not in RAM
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
