// TEST ONLY. A directory tree standing in for the host firstboot runs on (firstboot/host.ts has
// the real one), applying to a node root that is not `/`.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { exists } from '../../firstboot/apply/fs.ts';
import type { Host } from '../../firstboot/host.ts';

/**
 * A directory tree standing in for a host: proc/cmdline, sys/firmware/qemu_fw_cfg/by_name/…/raw,
 * and volumes as directories under dev/disk/by-label/<label>/ (already "mounted"). The tools the
 * role steps run get KILN_STANDIN_ROOT=<root>: the kubeadm/kubectl/helm stand-ins (test/standins)
 * resolve the node paths they are given inside it, as a chroot would.
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
    toolEnv: root === '/' ? {} : { KILN_STANDIN_ROOT: root },
  };
}
