// Boots the raw disk with UEFI (OVMF) and the qcow2 with BIOS (SeaBIOS), and checks the live facts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { bootAndProbe } from '../helpers/qemu.ts';
import { expectKilnNode, journalMaxBytes } from './facts.ts';

const images = inject('vmImages');
const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-vm-disk-'));
const raw = path.join(images, 'disk.raw');
const machineIds: string[] = [];
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('raw disk', () => {
  it('boots with UEFI (OVMF), finds root by PARTUUID and grows it to fill a bigger disk', async () => {
    // a copy-on-write overlay 4 GiB larger than the image: kiln-grow-root must claim the space
    const rawMiB = Math.round(statSync(raw).size / 2 ** 20);
    const bigger = path.join(dir, 'bigger.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', raw, '-F', 'raw', bigger, `${rawMiB + 4096}M`]);
    const probe = await bootAndProbe({
      name: 'raw-uefi',
      dir,
      firmware: 'uefi',
      disks: [{ file: bigger, format: 'qcow2', snapshot: false }],
    });
    console.log(`raw/UEFI: probe after ${probe.seconds.toFixed(0)} s`);
    expectKilnNode(probe);
    expect(probe.facts.cmdline).toMatch(/root=PARTUUID=[0-9a-f-]{36}/);
    expect(probe.facts.cmdline).toMatch(/console=ttyS0,115200n8/);
    expect(probe.facts.root).toMatch(/^\/dev\/vda\d\s+ext4$/);
    expect(probe.facts.grow_root!.split(' ').sort()).toEqual(['active', 'success']);
    expect(Number(probe.facts.root_size_mb)).toBeGreaterThan(rawMiB + 3500);
    // grown before journald sized itself: the full configured cap (SystemMaxUse=2G) is in effect
    expect(journalMaxBytes(probe.facts.journal_limits!)).toBe(2 * 2 ** 30);
    machineIds.push(probe.facts.machine_id!);
  });
});

// BIOS boots the same disk bytes (disk.qcow2 is disk.raw, compressed): one BIOS boot covers both
describe('qcow2', () => {
  it('boots (BIOS, SeaBIOS) from the compressed image', async () => {
    const probe = await bootAndProbe({
      name: 'qcow2-bios',
      dir,
      firmware: 'bios',
      disks: [{ file: path.join(images, 'disk.qcow2'), format: 'qcow2' }],
    });
    console.log(`qcow2/BIOS: probe after ${probe.seconds.toFixed(0)} s`);
    expectKilnNode(probe);
    expect(probe.facts.root).toMatch(/^\/dev\/vda\d\s+ext4$/);
    machineIds.push(probe.facts.machine_id!);
    // every boot of the same image made its own machine-id
    expect(new Set(machineIds).size).toBe(machineIds.length);
  });
});
