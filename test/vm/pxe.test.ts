// The PXE bundle boots over a real network boot: iPXE script over TFTP, kernel, initrd and
// squashfs over HTTP from a server on the host's loopback.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { serveStatic, type StaticServer } from '../helpers/http.ts';
import { bootAndProbe } from '../helpers/qemu.ts';
import { expectKilnNode, expectLive } from './facts.ts';

const images = inject('vmImages');
const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-vm-pxe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('PXE bundle', () => {
  let server: StaticServer | undefined;
  afterAll(() => server?.close());

  it('network-boots: iPXE script over TFTP, kernel, initrd and squashfs over HTTP', async () => {
    const pxe = path.join(images, 'pxe');
    server = await serveStatic(pxe, '/kiln/boot-test');
    const probe = await bootAndProbe({
      name: 'pxe-bios',
      dir,
      firmware: 'bios',
      netboot: { tftpDir: pxe, bootfile: 'boot.ipxe', httpPort: server.port },
      memoryMiB: 3072,
    });
    console.log(`PXE/BIOS: probe after ${probe.seconds.toFixed(0)} s; fetched: ${server.requests.join(', ')}`);
    expectKilnNode(probe);
    expectLive(probe.facts);
    expect(probe.facts.cmdline).toMatch(/fetch=http:\/\/10\.0\.2\.100\/kiln\/boot-test\/rootfs\.squashfs/);
    expect(server.requests).toEqual(
      expect.arrayContaining(['GET /kiln/boot-test/vmlinuz', 'GET /kiln/boot-test/initrd.img', 'GET /kiln/boot-test/rootfs.squashfs']),
    );
  });
});
