// Boots the hybrid ISO from CD (UEFI) and as a USB stick into a live system; the BIOS CD boot is
// persist.test.ts's first boot (with a data disk).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, inject, it } from 'vitest';
import { bootAndProbe } from '../helpers/qemu.ts';
import { expectKilnNode, expectLive } from './facts.ts';

const images = inject('vmImages');
const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-vm-iso-'));
const iso = path.join(images, 'kiln.iso');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hybrid ISO', () => {
  it('boots from CD with UEFI (OVMF)', async () => {
    const probe = await bootAndProbe({ name: 'iso-cd-uefi', dir, firmware: 'uefi', cdrom: iso, memoryMiB: 3072 });
    console.log(`iso CD/UEFI: probe after ${probe.seconds.toFixed(0)} s`);
    expectKilnNode(probe);
    expectLive(probe.facts);
  });

  it('boots as a USB stick (the hybrid MBR/GPT side)', async () => {
    const probe = await bootAndProbe({
      name: 'iso-usb-bios',
      dir,
      firmware: 'bios',
      disks: [{ file: iso, format: 'raw', interface: 'usb' }],
      memoryMiB: 3072,
    });
    console.log(`iso USB/BIOS: probe after ${probe.seconds.toFixed(0)} s`);
    expectKilnNode(probe);
    expectLive(probe.facts);
  });
});
