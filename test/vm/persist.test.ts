// The hybrid ISO as a live node with a data disk: booted from CD with UEFI (OVMF), then as a USB
// stick with BIOS (the hybrid MBR side), it keeps /var and /etc on the data disk across the reboot
// (even a power cut), and firstboot recognises the instance it already provisioned. Two boots of the
// same ISO cover both media and both firmware types (iso.test.ts's boots folded in for the budget).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createDataDisk } from '../../builder/outputs/data-disk.ts';
import { testHostname, Vm, withDefaultMetadata } from '../helpers/qemu.ts';
import { expectKilnNode, expectLive } from './facts.ts';

const images = inject('vmImages');
const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-vm-persist-'));
const iso = path.join(images, 'kiln.iso');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('persistent live node', () => {
  it(
    'keeps /var on a persistent data disk across a reboot',
    async () => {
      const data = path.join(dir, 'data.img');
      await createDataDisk(data, 2 * 2 ** 30);
      const spec = withDefaultMetadata({ name: 'iso-persist', dir, firmware: 'uefi', memoryMiB: 3072 });
      const dataDisk = { file: data, format: 'raw' as const, snapshot: false };
      const first = new Vm({ ...spec, name: 'iso-persist-1', firmware: 'uefi', cdrom: iso, disks: [dataDisk] });
      first.start();
      const one = await first.probe(900);
      // a power cut after the probe's sync: /var and /etc must survive without a clean shutdown
      await first.kill();
      expectKilnNode(one);
      // a live system booted from CD with UEFI (El Torito's EFI image), its /var on the data disk
      expectLive(one.facts, 'ext4');
      expect(one.facts.boots).toBe('1');
      expect(one.facts.firstboot_early).toBe('done');
      // the same ISO bytes written to a USB stick, booted by BIOS through the hybrid MBR
      const usb = { file: iso, format: 'raw' as const, interface: 'usb' as const };
      const second = new Vm({ ...spec, name: 'iso-persist-2', firmware: 'bios', disks: [usb, dataDisk] });
      second.start();
      const two = await second.probe(900);
      await second.kill();
      console.log(
        `iso + data disk: CD/UEFI then USB/BIOS, boots seen ${one.facts.boots} then ${two.facts.boots}; probe after ${one.seconds.toFixed(0)} s and ${two.seconds.toFixed(0)} s`,
      );
      expectKilnNode(two);
      expectLive(two.facts, 'ext4');
      expect(two.facts.boots).toBe('2');
      // the same instance is not provisioned twice; its identity persisted with /etc and /var
      expect(two.facts.firstboot_early).toBe('already-provisioned');
      expect(two.facts.hostname).toBe(testHostname('iso-persist'));
      expect(two.facts.machine_id).toBe(one.facts.machine_id);
    },
    40 * 60_000,
  );
});
