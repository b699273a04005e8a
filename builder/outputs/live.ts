// What the live outputs (iso, pxe) share: one squashfs of the rootfs, made once per build, the
// kernel and initrd the rootfs ships (a live-boot initramfs: live-boot and busybox are in every
// image), the live-boot kernel arguments, and the spec checks both depend on.
//
// Boot flow: kernel + initrd; initramfs-tools runs live-boot's `live` script (boot=live), which
// finds the squashfs (on a medium at /live/*.squashfs, or downloaded into RAM with fetch=URL),
// mounts it read-only under an overlay with a tmpfs upper layer, and, when a disk labelled
// kiln-data is attached, puts /var and /etc/kubernetes on it (data-disk.ts).
import { access, copyFile, link, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { type Problem } from '../../core/problem.ts';
import { KilnError, ToolError, ValidationError } from '../../core/errors.ts';
import type { ResolvedSpec } from '../spec/defaults.ts';
import { kernelCmdline } from './cmdline.ts';
import { DATA_DISK_LABEL } from './data-disk.ts';
import type { ConvertContext } from './converter.ts';
import type { KernelFiles } from './work.ts';

/** Formats that boot the live squashfs. */
const LIVE_FORMATS = ['iso', 'pxe'];

/**
 * zstd level for the squashfs. Measured on the default image (856 MiB rootfs, 2 cores):
 * level 3: 3 s, 285 MiB; 9: 12 s, 266 MiB; 15 (mksquashfs' default): 83 s, 252 MiB; 19: 126 s, 250 MiB.
 */
const SQUASHFS_ZSTD_LEVEL = 9;

/** x86 COMMAND_LINE_SIZE, including the terminating NUL. */
const MAX_CMDLINE = 2048;

export interface LiveArgOptions {
  /** URL live-boot downloads the squashfs from (PXE); the network comes up by DHCP first. */
  fetch?: string;
  /** Use a kiln-data disk for /var when one is attached (default true). */
  persistence?: boolean;
}

/**
 * live-boot's arguments. `components` is live-config's (not installed; harmless) and kept for
 * images that add it. persistence-storage=filesystem: look for a labelled file system only, never
 * mount other partitions to search them for persistence image files.
 */
export function liveArgs(opts: LiveArgOptions = {}): string[] {
  return [
    'boot=live',
    'components',
    ...(opts.fetch ? [`fetch=${opts.fetch}`, 'ip=dhcp'] : []),
    ...(opts.persistence === false ? [] : ['persistence', `persistence-label=${DATA_DISK_LABEL}`, 'persistence-storage=filesystem']),
  ];
}

/** The whole kernel command line of a live boot: live-boot's arguments, consoles, the spec's own. */
export function liveCmdline(spec: ResolvedSpec, opts: LiveArgOptions = {}): string {
  return kernelCmdline(spec, liveArgs(opts));
}

/** pxe.baseUrl: URL characters that survive an iPXE script line and a kernel argument, plus iPXE ${settings}. */
const BASE_URL = /^https?:\/\/(?:[A-Za-z0-9._~%+,=:@-]|\$\{[A-Za-z0-9._:/-]+\})+(?:\/(?:[A-Za-z0-9._~%+,=:@-]|\$\{[A-Za-z0-9._:/-]+\})*)*$/;

/**
 * Problems in a resolved spec that would make an iso or pxe output unbootable, each with its
 * spec path and a hint. Empty when the spec asks for neither. Pure: run it in validate.
 */
export function liveSpecProblems(spec: ResolvedSpec): Problem[] {
  const problems: Problem[] = [];
  const wants = (f: string) => spec.outputs.includes(f);
  if (!LIVE_FORMATS.some(wants)) return problems;
  const live = LIVE_FORMATS.filter(wants);
  const needs = `the ${live.join(' and ')} output${live.length > 1 ? 's need' : ' needs'}`;
  spec.boot.cmdline.forEach((arg, i) => {
    if (/^boot=/.test(arg) && arg !== 'boot=live')
      problems.push({
        file: spec.file,
        path: `/boot/cmdline/${i}`,
        message: `"${arg}" replaces boot=live, which ${needs}`,
        hint: 'remove it: live-boot mounts the squashfs only with boot=live',
        severity: 'error' as const,
      });
  });
  if (wants('pxe') && !BASE_URL.test(spec.pxe.baseUrl)) {
    problems.push({
      file: spec.file,
      path: '/pxe/baseUrl',
      message: `"${spec.pxe.baseUrl}" cannot go into boot.ipxe and the kernel command line as it is`,
      hint: 'use http(s)://host[:port]/path with letters, digits and . _ ~ % + , = : @ - only (no quotes, spaces, ? # & ; or $ outside an iPXE ${setting}), e.g. http://${next-server}/kiln/node',
      severity: 'error' as const,
    });
  }
  const longest = Math.max(
    ...(wants('iso') ? [liveCmdline(spec).length] : []),
    ...(wants('pxe') ? [`initrd=initrd.img ${liveCmdline(spec, { fetch: `${spec.pxe.baseUrl}/rootfs.squashfs` })}`.length] : []),
  );
  if (longest >= MAX_CMDLINE)
    problems.push({
      file: spec.file,
      path: '/boot/cmdline',
      message: `the live kernel command line is ${longest} characters; Linux keeps only ${MAX_CMDLINE - 1}`,
      hint: 'drop arguments from boot.cmdline (or shorten pxe.baseUrl)',
      severity: 'error' as const,
    });
  return problems;
}

/** Throws a ValidationError (exit 2) listing liveSpecProblems, if any. */
export function checkLiveSpec(spec: ResolvedSpec): void {
  const problems = liveSpecProblems(spec);
  if (problems.length) throw new ValidationError(problems);
}

/** The rootfs kernel and initrd, after checking the rootfs can boot live at all. */
export function liveKernel(ctx: ConvertContext): Promise<KernelFiles> {
  return ctx.work.once('live-kernel', async () => {
    const root = await ctx.work.rootDir();
    const kernel = await ctx.work.kernel();
    await access(path.join(root, 'usr/share/initramfs-tools/scripts/live')).catch((cause) => {
      throw new KilnError('the rootfs has no live-boot, so its initrd cannot boot a squashfs', {
        cause,
        hint: 'live-boot and busybox are kiln base packages; check builder/rootfs/packages.ts',
      });
    });
    return kernel;
  });
}

/**
 * The rootfs as a zstd squashfs, built once per build from the extracted rootfs. Reproducible:
 * sorted directories, every timestamp (and the superblock's) = sourceDateEpoch, and mksquashfs'
 * default -reproducible mode, which gives the same bytes for any -processors (checked 1 vs 2).
 * xattrs (file capabilities) are kept; POSIX ACLs are not (squashfs stores only user., trusted.
 * and security. xattrs; systemd-tmpfiles re-applies the journal's ACLs at boot).
 */
export function liveSquashfs(ctx: ConvertContext): Promise<string> {
  return ctx.work.once('live-squashfs', async () => {
    const root = await ctx.work.rootDir();
    const out = path.join(ctx.work.dir, 'live', 'filesystem.squashfs');
    await mkdir(path.dirname(out), { recursive: true });
    const epoch = String(ctx.spec.sourceDateEpoch);
    const t0 = Date.now();
    ctx.log(`mksquashfs: packing the rootfs (zstd level ${SQUASHFS_ZSTD_LEVEL})`);
    try {
      await execa(
        'mksquashfs',
        [
          root,
          out,
          '-noappend',
          '-comp',
          'zstd',
          '-Xcompression-level',
          String(SQUASHFS_ZSTD_LEVEL),
          '-xattrs',
          '-mkfs-time',
          epoch,
          '-all-time',
          epoch,
          '-no-progress',
          '-quiet',
        ],
        // mksquashfs refuses SOURCE_DATE_EPOCH together with -mkfs-time/-all-time
        { env: withoutSourceDateEpoch(), extendEnv: false },
      );
    } catch (cause) {
      throw new ToolError('mksquashfs', 'packing the live squashfs failed', {
        cause,
        hint: 'squashfs-tools 4.5 or newer is needed for -all-time/-mkfs-time and zstd',
      });
    }
    ctx.log(`mksquashfs: ${((await stat(out)).size / 2 ** 20).toFixed(0)} MiB in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    return out;
  });
}

/** Hard-links (or copies, across file systems) a shared intermediate into an output. */
export async function placeFile(from: string, to: string): Promise<void> {
  await link(from, to).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EXDEV' && error.code !== 'EPERM') throw error;
    await copyFile(from, to);
  });
}

function withoutSourceDateEpoch(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (k !== 'SOURCE_DATE_EPOCH' && v !== undefined) env[k] = v;
  return env;
}
