// The machine side of install: the disks (lsblk), the installed root mounted through a loop device
// over its byte range (the disk's partition table is not written yet), and after the tables are:
// the kernel told, and on UEFI a boot entry for the disk's ESP.
import { mkdtemp, rm } from 'node:fs/promises';
import { exec, execOrFail } from '../../core/exec.ts';
import { exists } from '../apply/fs.ts';
import { readDisks } from './disks.ts';
import type { InstallTools } from './install.ts';

/** The ESP's partition number and the loader on it (builder/outputs/disk: the removable-media path). */
const ESP_PARTITION = '2';
const EFI_LOADER = '\\EFI\\BOOT\\BOOTX64.EFI';

export const machineInstallTools: InstallTools = {
  disks: readDisks,
  async mountRange(device, offset, size) {
    const loop = (
      await execOrFail('losetup', ['--find', '--show', '--offset', String(offset), '--sizelimit', String(size), device])
    ).stdout.trim();
    const dir = await mkdtemp('/run/kiln-install-root-');
    try {
      await execOrFail('mount', ['-t', 'ext4', loop, dir]);
    } catch (error) {
      await exec('losetup', ['-d', loop]);
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    return {
      dir,
      async release() {
        await execOrFail('umount', [dir]);
        await exec('losetup', ['-d', loop]);
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  async finish(device) {
    const lines: string[] = [];
    await exec('blockdev', ['--rereadpt', device]);
    await exec('udevadm', ['settle', '--timeout=30']);
    lines.push(`the partition table of ${device} is written: the disk boots`);
    if (!(await exists('/sys/firmware/efi'))) {
      lines.push('BIOS firmware: the machine boots the disk when it comes before the network in its boot order');
      return lines;
    }
    const r = await exec('efibootmgr', ['--create', '--disk', device, '--part', ESP_PARTITION, '--label', 'kiln', '--loader', EFI_LOADER]);
    lines.push(
      r.exitCode === 0
        ? `UEFI boot entry "kiln" for ${device} made first in the boot order`
        : `efibootmgr failed (${r.all.trim().split('\n')[0]}); the firmware's fallback path ${EFI_LOADER} still boots the disk`,
    );
    return lines;
  },
  async reboot() {
    // queued: this unit ends first, so its status and report are out before the system goes down
    await exec('systemctl', ['reboot', '--no-block']);
  },
};
