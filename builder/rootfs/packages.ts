// The Debian packages every kiln node gets, grouped by why they are there.
import type { ImageSpec } from '../spec/schema.ts';

const PACKAGE_GROUPS: Array<[why: string, packages: string[]]> = [
  ['init and devices', ['systemd', 'systemd-sysv', 'systemd-resolved', 'udev', 'dbus', 'libpam-systemd', 'kmod']],
  // live-boot serves the ISO and PXE outputs; busybox gives its initramfs wget for PXE's fetch=
  ['kernel and early boot', ['linux-image-amd64', 'initramfs-tools', 'live-boot', 'busybox', 'e2fsprogs', 'dosfstools']],
  ['container runtime', ['containerd', 'runc', 'containernetworking-plugins']],
  ['control-plane VIP', ['keepalived']],
  [
    'kubelet and kube-proxy host tools',
    ['iproute2', 'iptables', 'nftables', 'conntrack', 'socat', 'ethtool', 'ebtables', 'ipset', 'ipvsadm'],
  ],
  // install to disk: sfdisk reads the image's partition table, efibootmgr adds the UEFI boot entry
  ['install to disk', ['fdisk', 'efibootmgr']],
  ['operations', ['ca-certificates', 'openssh-server', 'chrony', 'curl', 'less', 'procps', 'iputils-ping', 'sudo']],
];

const ENGINE_PACKAGES: Record<string, string[]> = { containerd: [], docker: ['docker.io'] };

function basePackages(): string[] {
  return PACKAGE_GROUPS.flatMap(([, pkgs]) => pkgs);
}

/** Every package mmdebstrap installs for this spec, sorted and unique (it feeds the cache key). */
export function packagesFor(spec: Pick<ImageSpec, 'packages' | 'runtime'>): string[] {
  const engine = spec.runtime?.engine ?? 'containerd';
  return [...new Set([...basePackages(), ...(ENGINE_PACKAGES[engine] ?? []), ...(spec.packages ?? [])])].sort();
}
