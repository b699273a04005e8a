// The machine firstboot runs on, behind one interface: the real one reads /proc, /sys and block
// devices; tests give a directory tree standing in for those (the VM tests use the real one).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { exists } from './apply/fs.ts';

export interface Mounted {
  dir: string;
  release(): Promise<void>;
}

export interface Host {
  /** The system root firstboot applies to: `/` on a node, a temporary tree in tests. */
  root: string;
  cmdline(): Promise<string>;
  /** A QEMU fw_cfg blob by name (`opt/com.coreos/config`), if the firmware offers it. */
  fwCfg(name: string): Promise<Buffer | undefined>;
  /** A block device carrying one of these filesystem labels. */
  volumeByLabel(labels: string[]): Promise<string | undefined>;
  mountReadOnly(device: string): Promise<Mounted>;
}

export const realHost: Host = {
  root: '/',
  cmdline: () => readFile('/proc/cmdline', 'utf8'),
  async fwCfg(name) {
    const base = '/sys/firmware/qemu_fw_cfg';
    // the driver is a module: load it on demand, quietly absent on machines without fw_cfg
    if (!(await exists(base))) await execa('modprobe', ['-q', 'qemu_fw_cfg'], { reject: false });
    return readFile(path.join(base, 'by_name', name, 'raw')).catch(() => undefined);
  },
  async volumeByLabel(labels) {
    for (const label of labels) {
      if (await exists(`/dev/disk/by-label/${label}`)) return `/dev/disk/by-label/${label}`;
      // udev may not have settled yet this early: ask blkid, which probes the devices itself
      const r = await execa('blkid', ['-l', '-o', 'device', '-t', `LABEL=${label}`], { reject: false });
      if (r.exitCode === 0 && r.stdout.trim()) return r.stdout.trim();
    }
    return undefined;
  },
  async mountReadOnly(device) {
    const dir = await mkdtemp('/run/kiln-firstboot-media-');
    await execa('mount', ['-o', 'ro', device, dir]);
    return {
      dir,
      async release() {
        await execa('umount', [dir], { reject: false });
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};

/**
 * A directory tree standing in for a host: proc/cmdline, sys/firmware/qemu_fw_cfg/by_name/…/raw,
 * and volumes as directories under dev/disk/by-label/<label>/ (already "mounted").
 */
export function treeHost(fixture: string, root = fixture): Host {
  return {
    root,
    cmdline: () => readFile(path.join(fixture, 'proc/cmdline'), 'utf8').catch(() => ''),
    fwCfg: (name) => readFile(path.join(fixture, 'sys/firmware/qemu_fw_cfg/by_name', name, 'raw')).catch(() => undefined),
    async volumeByLabel(labels) {
      for (const label of labels) if (await exists(path.join(fixture, 'dev/disk/by-label', label))) return `/dev/disk/by-label/${label}`;
      return undefined;
    },
    mountReadOnly: async (device) => ({ dir: path.join(fixture, device), release: async () => {} }),
  };
}
