// A live node keeps /var and /etc on a data disk across a reboot (even a power cut), and firstboot
// recognises the instance it already provisioned.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createDataDisk } from '../../builder/outputs/data-disk.ts';
import { testHostname, Vm, withDefaultMetadata } from '../helpers/qemu.ts';
import { expectKilnNode } from './facts.ts';

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
      const spec = withDefaultMetadata({
        name: 'iso-persist',
        dir,
        firmware: 'bios',
        cdrom: iso,
        disks: [{ file: data, format: 'raw', snapshot: false }],
        memoryMiB: 3072,
      });
      const first = new Vm({ ...spec, name: 'iso-persist-1' });
      first.start();
      // live boots from CD are the slowest, and this test shares the two cores with another VM
      const one = await first.probe(900);
      // a power cut after the probe's sync: /var and /etc must survive without a clean shutdown
      await first.kill();
      expectKilnNode(one);
      // a live system booted from CD with BIOS (El Torito), its /var on the data disk
      expect(one.facts.cmdline).toMatch(/\bboot=live\b/);
      expect(one.facts.cmdline).toMatch(/console=ttyS0,115200n8/);
      expect(one.facts.root).toMatch(/overlay$/);
      expect(one.facts.grow_root!.split(' ')).toContain('inactive');
      expect(one.facts.boots).toBe('1');
      expect(one.facts.firstboot_early).toBe('done');
      const second = new Vm({ ...spec, name: 'iso-persist-2' });
      second.start();
      const two = await second.probe(900);
      await second.kill();
      console.log(
        `iso + data disk: boots seen ${one.facts.boots} then ${two.facts.boots}; boot 1 probe after ${one.seconds.toFixed(0)} s, boot 2 after ${two.seconds.toFixed(0)} s`,
      );
      expectKilnNode(two);
      expect(two.facts.boots).toBe('2');
      expect(one.facts.containerd_storage).toBe('ext4'); // on the data disk, not in RAM
      // the same instance is not provisioned twice; its identity persisted with /etc and /var
      expect(two.facts.firstboot_early).toBe('already-provisioned');
      expect(two.facts.hostname).toBe(testHostname('iso-persist'));
      expect(two.facts.machine_id).toBe(one.facts.machine_id);
    },
    40 * 60_000,
  );
});
