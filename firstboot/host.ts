// The machine firstboot runs on, behind one interface: realHost reads /proc, /sys and block
// devices and applies to `/`; anything else implementing Host supplies its own.
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
  /** Extra environment for the tools the role steps run (kubeadm, kubectl, helm); none on a node. */
  toolEnv?: Record<string, string>;
  /**
   * Told each step boundary of a pass: `<step>:unrecorded` once the step's effects are done but
   * before the state journal records it, then `<step>` once it is recorded. Nothing on a node.
   */
  checkpoint?(point: string): void;
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
