// The machine side of install: the disks (lsblk), the installed root mounted through a loop device
// over its byte range (the disk's partition table is not written yet), and after the tables are:
// the kernel told, and on UEFI a boot entry for the disk's ESP.
import { mkdtemp, rm } from 'node:fs/promises';
import { execa } from 'execa';
import { KilnError } from '../../core/errors.ts';
import { exists } from '../apply/fs.ts';
import { readDisks } from './disks.ts';
import type { InstallTools } from './install.ts';

/** The ESP's partition number and the loader on it (builder/outputs/disk: the removable-media path). */
const ESP_PARTITION = '2';
const EFI_LOADER = '\\EFI\\BOOT\\BOOTX64.EFI';

async function run(cmd: string, args: string[]): Promise<string> {
  const r = await execa(cmd, args, { reject: false, all: true });
  if (r.exitCode !== 0) throw new KilnError(`${cmd} ${args.join(' ')} failed: ${(r.all ?? '').trim().split('\n').slice(-3).join(' / ')}`);
  return r.stdout.trim();
}

export const machineInstallTools: InstallTools = {
  disks: readDisks,
  async mountRange(device, offset, size) {
    const loop = await run('losetup', ['--find', '--show', '--offset', String(offset), '--sizelimit', String(size), device]);
    const dir = await mkdtemp('/run/kiln-install-root-');
    try {
      await run('mount', ['-t', 'ext4', loop, dir]);
    } catch (error) {
      await execa('losetup', ['-d', loop], { reject: false });
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    return {
      dir,
      async release() {
        await run('umount', [dir]);
        await execa('losetup', ['-d', loop], { reject: false });
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  async finish(device) {
    const lines: string[] = [];
    await execa('blockdev', ['--rereadpt', device], { reject: false });
    await execa('udevadm', ['settle', '--timeout=30'], { reject: false });
    lines.push(`the partition table of ${device} is written: the disk boots`);
    if (!(await exists('/sys/firmware/efi'))) {
      lines.push('BIOS firmware: the machine boots the disk when it comes before the network in its boot order');
      return lines;
    }
    const r = await execa(
      'efibootmgr',
      ['--create', '--disk', device, '--part', ESP_PARTITION, '--label', 'kiln', '--loader', EFI_LOADER],
      {
        reject: false,
        all: true,
      },
    );
    lines.push(
      r.exitCode === 0
        ? `UEFI boot entry "kiln" for ${device} made first in the boot order`
        : `efibootmgr failed (${(r.all ?? '').trim().split('\n')[0]}); the firmware's fallback path ${EFI_LOADER} still boots the disk`,
    );
    return lines;
  },
  async reboot() {
    // queued: this unit ends first, so its status and report are out before the system goes down
    await execa('systemctl', ['reboot', '--no-block'], { reject: false });
  },
};
