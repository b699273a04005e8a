// The host tools kiln runs, the Debian package that provides each, and why kiln needs it.
// scripts/host-deps installs the same packages (a unit test keeps the two lists in step).
import { access, constants } from 'node:fs/promises';
import path from 'node:path';

export interface HostTool {
  command: string;
  package: string;
  purpose: string;
}

export const HOST_TOOLS: HostTool[] = [
  { command: 'mmdebstrap', package: 'mmdebstrap', purpose: 'builds the Debian rootfs (rootfs stage)' },
  { command: 'mksquashfs', package: 'squashfs-tools', purpose: 'packs the live rootfs for ISO and PXE outputs' },
  { command: 'xorriso', package: 'xorriso', purpose: 'writes the hybrid ISO and the cidata seeds of kiln cluster gen' },
  { command: 'grub-mkimage', package: 'grub-common', purpose: 'builds GRUB core images for raw and ISO outputs' },
  { command: 'mkfs.vfat', package: 'dosfstools', purpose: 'formats the EFI system partition' },
  { command: 'mcopy', package: 'mtools', purpose: 'fills FAT images without mounting' },
  { command: 'mkfs.ext4', package: 'e2fsprogs', purpose: 'creates the ext4 root from a directory (mkfs.ext4 -d)' },
  { command: 'debugfs', package: 'e2fsprogs', purpose: 'pins inode timestamps in the ext4 root for reproducible disks' },
  { command: 'sgdisk', package: 'gdisk', purpose: 'writes GPT partition tables with fixed GUIDs' },
  { command: 'qemu-img', package: 'qemu-utils', purpose: 'converts raw disks to qcow2' },
  { command: 'qemu-system-x86_64', package: 'qemu-system-x86', purpose: 'boots images for tests and test clusters' },
  { command: 'cpio', package: 'cpio', purpose: 'packs initramfs archives' },
  { command: 'zstd', package: 'zstd', purpose: 'compresses squashfs and initramfs' },
  { command: 'systemd-analyze', package: 'systemd', purpose: 'verifies rendered units and slices' },
  { command: 'systemd-nspawn', package: 'systemd-container', purpose: 'runs checks inside a built rootfs' },
  { command: 'keepalived', package: 'keepalived', purpose: 'checks rendered keepalived configs (--config-test)' },
  { command: 'containerd', package: 'containerd', purpose: 'checks the rendered containerd config (config dump)' },
  { command: 'skopeo', package: 'skopeo', purpose: 'copies container images for air-gapped preloads' },
  { command: 'ip', package: 'iproute2', purpose: 'makes the test cluster network (namespace, bridges, taps) for kiln cluster up' },
  { command: 'findmnt', package: 'util-linux', purpose: 'verifies the rendered fstab (findmnt --verify)' },
];

/** Firmware files that are not commands but that boots need. */
export const HOST_FILES: Array<{ file: string; package: string; purpose: string }> = [
  { file: '/usr/lib/grub/i386-pc/modinfo.sh', package: 'grub-pc-bin', purpose: 'GRUB modules for BIOS boot' },
  { file: '/usr/lib/grub/x86_64-efi/modinfo.sh', package: 'grub-efi-amd64-bin', purpose: 'GRUB modules for UEFI boot' },
  { file: '/usr/share/OVMF/OVMF_CODE.fd', package: 'ovmf', purpose: 'UEFI firmware for QEMU boot tests' },
];

export async function findOnPath(command: string, envPath = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of [...envPath.split(':'), '/usr/sbin', '/sbin']) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface ToolStatus {
  name: string;
  package: string;
  purpose: string;
  found?: string;
}

export async function checkHost(): Promise<ToolStatus[]> {
  const tools = await Promise.all(
    HOST_TOOLS.map(async (t) => ({ name: t.command, package: t.package, purpose: t.purpose, found: await findOnPath(t.command) })),
  );
  const files = await Promise.all(
    HOST_FILES.map(async (f) => ({
      name: f.file,
      package: f.package,
      purpose: f.purpose,
      found: await access(f.file).then(
        () => f.file,
        () => undefined,
      ),
    })),
  );
  return [...tools, ...files];
}
