// Shared, lazily made intermediates for the output converters: the rootfs extracted once, its
// kernel and initrd, and the outputs other converters build on (qcow2 from raw, PXE and ISO
// from one squashfs). Everything lives under the build's staging directory.
import { mkdir, readdir, rm, readlink } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { KilnError, ToolError } from '../../core/errors.ts';
import type { ResolvedSpec } from '../spec/defaults.ts';

export interface KernelFiles {
  version: string;
  /** Absolute paths inside the extracted rootfs. */
  vmlinuz: string;
  initrd: string;
}

export class WorkArea {
  private readonly memo = new Map<string, Promise<unknown>>();

  constructor(
    readonly spec: ResolvedSpec,
    readonly rootfsTar: string,
    /** Scratch space, removed with the staging directory. */
    readonly dir: string,
    readonly log: (message: string) => void,
  ) {}

  /** Runs `make` once per key; later callers share the result (and its failure). */
  once<T>(key: string, make: () => Promise<T>): Promise<T> {
    if (!this.memo.has(key)) this.memo.set(key, make());
    return this.memo.get(key) as Promise<T>;
  }

  /** The rootfs as a directory tree (root-owned files, devices and xattrs need root). */
  rootDir(): Promise<string> {
    return this.once('rootDir', async () => {
      const dir = path.join(this.dir, 'root');
      await mkdir(dir, { recursive: true });
      this.log('extracting rootfs.tar');
      try {
        await execa('tar', ['--xattrs', '--xattrs-include=*', '--acls', '--numeric-owner', '-xpf', this.rootfsTar, '-C', dir]);
      } catch (cause) {
        throw new ToolError('tar', 'extracting the rootfs failed', {
          cause,
          hint: 'disk outputs need root (devices, ownership, xattrs); run kiln as root',
        });
      }
      return dir;
    });
  }

  /** The kernel and initrd the rootfs ships (Debian's /vmlinuz and /initrd.img links). */
  kernel(): Promise<KernelFiles> {
    return this.once('kernel', async () => {
      const root = await this.rootDir();
      const boot = await readdir(path.join(root, 'boot'));
      const versions = boot.filter((f) => f.startsWith('vmlinuz-')).map((f) => f.slice('vmlinuz-'.length));
      const linked = await readlink(path.join(root, 'vmlinuz')).then(
        (t) => path.basename(t).replace(/^vmlinuz-/, ''),
        () => undefined,
      );
      const version = linked ?? versions.sort().at(-1);
      if (!version || !boot.includes(`initrd.img-${version}`))
        throw new KilnError('the rootfs has no kernel with an initrd in /boot', {
          hint: 'keep linux-image-amd64 and initramfs-tools in the package list',
        });
      return { version, vmlinuz: path.join(root, 'boot', `vmlinuz-${version}`), initrd: path.join(root, 'boot', `initrd.img-${version}`) };
    });
  }

  async cleanup(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
