// The PXE bundle, pxe/: serve the directory over HTTP at spec.pxe.baseUrl and point iPXE (or
// matchbox) at it.
//
//   vmlinuz, initrd.img   the rootfs kernel and its live-boot initramfs
//   rootfs.squashfs       the live rootfs (the same bytes as the ISO's /live/filesystem.squashfs)
//   boot.ipxe             iPXE script: kernel + initrd from ${base}, live-boot fetches the squashfs
//   profile.json          the same boot as a matchbox profile
//
// Boot flow: iPXE runs boot.ipxe (from DHCP/TFTP, `chain`, or matchbox), loads kernel and initrd
// over HTTP; the initramfs brings the network up by DHCP (ip=dhcp: klibc ipconfig, the NIC driver
// comes from the initrd's MODULES=most), and live-boot downloads fetch=URL with busybox wget into
// RAM (so the node needs RAM for the squashfs on top of its workload) and mounts it. iPXE expands
// settings such as ${next-server} in the base URL before the kernel sees its command line; the
// files keep them unexpanded. `initrd=initrd.img` names the initrd for kernels iPXE starts
// through the EFI stub.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ResolvedSpec } from '../spec/defaults.ts';
import { kernelCmdline } from './cmdline.ts';
import type { Artifact, Converter } from './converter.ts';
import { checkLiveSpec, liveArgs, liveKernel, liveSquashfs, placeFile } from './live.ts';

const PXE_DIR = 'pxe';
export const PXE_FILES = ['vmlinuz', 'initrd.img', 'rootfs.squashfs', 'boot.ipxe', 'profile.json'] as const;

/** Kernel arguments of a PXE boot, with `base` standing for the bundle's URL. */
export function pxeArgs(spec: ResolvedSpec, base: string): string[] {
  // no argument contains a space: the schema's KernelArg and pxe.baseUrl patterns exclude them
  return kernelCmdline(spec, ['initrd=initrd.img', ...liveArgs({ fetch: `${base}/rootfs.squashfs` })]).split(' ');
}

export function renderBootIpxe(spec: ResolvedSpec): string {
  return [
    '#!ipxe',
    `# kiln ${spec.name} (${spec.hash.slice(0, 12)}): live boot; serve this directory at the base URL`,
    `set base ${spec.pxe.baseUrl}`,
    `kernel \${base}/vmlinuz ${pxeArgs(spec, '${base}').join(' ')}`,
    'initrd ${base}/initrd.img',
    'boot',
    '',
  ].join('\n');
}

/** A matchbox profile (https://matchbox.psdn.io/matchbox/): matchbox renders it to iPXE, which expands ${...}. */
export function renderProfile(spec: ResolvedSpec): string {
  const base = spec.pxe.baseUrl;
  const profile = {
    id: spec.name,
    name: `kiln ${spec.name} (${spec.hash.slice(0, 12)})`,
    boot: { kernel: `${base}/vmlinuz`, initrd: [`${base}/initrd.img`], args: pxeArgs(spec, base) },
  };
  return `${JSON.stringify(profile, null, 2)}\n`;
}

export const pxeConverter: Converter<'pxe'> = {
  format: 'pxe',
  description: 'PXE bundle (pxe/): kernel, initrd, squashfs, iPXE script and matchbox profile; live boot over HTTP',
  tools: ['mksquashfs'],
  // pxe.baseUrl, boot.cmdline and the command line length, before any work (live.ts)
  validate: checkLiveSpec,
  convert: async (ctx): Promise<Artifact[]> => {
    const squashfs = await liveSquashfs(ctx);
    const kernel = await liveKernel(ctx);
    const dir = path.join(ctx.stagingDir, PXE_DIR);
    await mkdir(dir, { recursive: true });
    await placeFile(kernel.vmlinuz, path.join(dir, 'vmlinuz'));
    await placeFile(kernel.initrd, path.join(dir, 'initrd.img'));
    await placeFile(squashfs, path.join(dir, 'rootfs.squashfs'));
    await writeFile(path.join(dir, 'boot.ipxe'), renderBootIpxe(ctx.spec), { mode: 0o644 });
    await writeFile(path.join(dir, 'profile.json'), renderProfile(ctx.spec), { mode: 0o644 });
    ctx.log(`${PXE_DIR}/: serve it at ${ctx.spec.pxe.baseUrl}`);
    return PXE_FILES.map((f) => ({ format: 'pxe', path: `${PXE_DIR}/${f}` }));
  },
};
