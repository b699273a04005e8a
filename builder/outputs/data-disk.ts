// The optional persistent data disk of a live node (ISO or PXE boot): etcd, containerd and kubelet
// state survive reboots because /var and /etc/kubernetes live on it.
//
// How it works: the live kernel command line carries `persistence persistence-label=kiln-data
// persistence-storage=filesystem` (see liveArgs in live.ts). live-boot then probes every disk and
// partition for a file system labelled `kiln-data` (or a GPT partition named so), mounts it at
// /run/live/persistence/<dev>, and sets up the mounts its `persistence.conf` lists (PERSISTENCE_CONF
// below) before systemd starts. Without such a disk the node boots as before, everything in RAM;
// the boot menu's "ignore the data disk" entry leaves an attached disk alone.
//
//   /var union                                  /var is an overlay: the image's /var below, the
//                                               node's changes on the disk (image updates to files
//                                               the node never touched still show through)
//   /var/lib/containerd bind,source=containerd  container storage directly on ext4: containerd's
//   /var/lib/docker bind,source=docker          overlayfs snapshotter (and dockerd's overlay2)
//                                               cannot put their upper layers on an overlay
//                                               ("overlayfs: filesystem ... not supported as upperdir")
//   /etc union                                  the node's identity and configuration: machine-id,
//                                               SSH host keys, hostname, what kiln-firstboot wrote
//                                               (keepalived, kubeadm, units) and kubeadm's
//                                               kubeconfigs, PKI and static-pod manifests
//
// Layout of the file system (ext4, label `kiln-data`, the whole disk or one partition):
//   /persistence.conf
//   /var/rw/, /var/work/                   /var's upper layer and overlayfs' work directory
//   /etc/rw/, /etc/work/                   the same for /etc
//   /containerd/, /docker/                 the bind-mounted directories (live-boot copies the
//                                          image's directory there on first use)
//   /lost+found/
// All but persistence.conf and lost+found are made by live-boot on the first boot. By hand, on a
// real disk or partition:
//   mkfs.ext4 -L kiln-data /dev/sdX1; mount /dev/sdX1 /mnt; cp persistence.conf /mnt/; umount /mnt
import { mkdtemp, open, rm, writeFile, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { KilnError, ToolError } from '../../core/errors.ts';

/** The file system label live-boot looks for (kernel argument persistence-label=). */
export const DATA_DISK_LABEL = 'kiln-data';

/** live-boot's persistence.conf on the data disk (sources are relative to the disk's root and must not nest). */
export const PERSISTENCE_CONF = [
  '/var union',
  '/var/lib/containerd bind,source=containerd',
  '/var/lib/docker bind,source=docker',
  '/etc union',
  '',
].join('\n');

/** Smallest disk createDataDisk makes; a real node wants gigabytes (images, etcd, logs). */
const MIN_DATA_DISK_BYTES = 32 * 2 ** 20;

/**
 * Creates `file` as an ext4 image labelled kiln-data holding persistence.conf, without mounting
 * anything. Refuses to overwrite an existing file: it may be a node's state.
 */
export async function createDataDisk(file: string, sizeBytes: number): Promise<void> {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < MIN_DATA_DISK_BYTES)
    throw new KilnError(`a data disk of ${sizeBytes} bytes is too small`, {
      hint: `give at least ${MIN_DATA_DISK_BYTES / 2 ** 20} MiB; a node keeps container images, etcd and logs there, so plan for 20G or more`,
      exitCode: 2,
    });
  const size = Math.ceil(sizeBytes / 2 ** 20) * 2 ** 20;
  let handle;
  try {
    handle = await open(file, 'wx');
  } catch (cause) {
    const exists = (cause as NodeJS.ErrnoException).code === 'EEXIST';
    throw new KilnError(exists ? `${file} already exists` : `cannot create ${file}`, {
      cause,
      hint: exists
        ? 'a data disk holds a node’s state; remove the file yourself if you really mean to replace it'
        : 'check the directory exists and is writable',
      exitCode: 2,
    });
  }
  const src = await mkdtemp(path.join(os.tmpdir(), 'kiln-data-disk-'));
  try {
    await handle.truncate(size); // sparse
    await handle.close();
    handle = undefined;
    await chmod(src, 0o755);
    await writeFile(path.join(src, 'persistence.conf'), PERSISTENCE_CONF, { mode: 0o644 });
    await execa('mkfs.ext4', ['-q', '-F', '-L', DATA_DISK_LABEL, '-d', src, '-E', 'root_owner=0:0', file]);
  } catch (cause) {
    await handle?.close();
    await rm(file, { force: true });
    if (cause instanceof KilnError) throw cause;
    throw new ToolError('mkfs.ext4', `creating the data disk ${file} failed`, {
      cause,
      hint: 'mkfs.ext4 comes with e2fsprogs (scripts/host-deps)',
    });
  } finally {
    await rm(src, { recursive: true, force: true });
  }
}
