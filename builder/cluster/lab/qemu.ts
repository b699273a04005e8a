// One test-cluster VM as a QEMU command line: TCG unless told otherwise (KVM is not everywhere),
// q35, the node's copy-on-write disk, its seed (the cidata ISO, or Ignition over fw_cfg as QEMU
// users pass it), one virtio NIC per tap with the node's MAC, consoles in files, QMP for power.
import type { LabNode } from './plan.ts';

export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
export const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';

export type Seed = 'nocloud' | 'ignition';
export type Firmware = 'bios' | 'uefi';
export type Accel = 'tcg' | 'kvm';

export type Boot = 'disk' | 'pxe';

export interface VmOptions {
  /** disk: the node disk holds the image and a seed goes with it; pxe: a blank disk, the NIC boots it. */
  boot: Boot;
  seed: Seed;
  firmware: Firmware;
  accel: Accel;
  /** The node's copy of the OVMF variables (UEFI only). */
  ovmfVars?: string;
}

/**
 * The emulated CPU under TCG: everything QEMU can emulate but the fast string ops (ERMS, FSRM),
 * with which the guest kernel clears and copies pages by `rep stosb`/`rep movsb`, far slower under
 * TCG than its unrolled loops. Measured side by side, one live ISO boot: 379 s with `max`, 257 s.
 */
export const TCG_CPU = 'max,-erms,-fsrm';

export function qemuArgs(node: LabNode, opts: VmOptions): string[] {
  const a = ['-name', `kiln-${node.name},process=kiln-${node.name}`];
  a.push(
    '-accel',
    opts.accel,
    '-machine',
    'q35',
    '-cpu',
    opts.accel === 'kvm' ? 'host' : TCG_CPU,
    '-smp',
    String(node.cpus),
    '-m',
    String(node.memoryMiB),
  );
  a.push('-display', 'none', '-daemonize', '-pidfile', node.pidFile);
  // ttyS0 is the console `kiln cluster status` reads; ttyS1 is free for diagnostics
  a.push('-serial', `file:${node.console}`, '-serial', `file:${node.serial1}`, '-monitor', 'none');
  a.push('-qmp', `unix:${node.qmp},server=on,wait=off`);
  if (opts.firmware === 'uefi') {
    if (!opts.ovmfVars) throw new Error('UEFI needs the node its own OVMF variables file');
    a.push(
      '-drive',
      `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`,
      '-drive',
      `if=pflash,format=raw,unit=1,file=${opts.ovmfVars}`,
    );
  }
  // a blank disk first, as in a rack: the firmware finds nothing on it and boots the NIC
  a.push('-drive', `if=none,id=disk,format=qcow2,file=${node.disk}`, '-device', 'virtio-blk-pci,drive=disk,bootindex=0');
  if (opts.boot === 'pxe') {
    // the seed comes from kiln cluster serve
  } else if (opts.seed === 'nocloud')
    a.push('-drive', `if=none,id=seed,media=cdrom,readonly=on,file=${node.cidata}`, '-device', 'ide-cd,drive=seed');
  else a.push('-fw_cfg', `name=opt/com.coreos/config,file=${node.ignition}`);
  node.nics.forEach((nic, i) => {
    // QEMU's NIC option ROM is iPXE; only the first NIC is in the boot order
    const boot = opts.boot !== 'pxe' ? '' : i === 0 ? ',bootindex=1' : ',romfile=';
    a.push(
      '-netdev',
      `tap,id=net${i},ifname=${nic.tap},script=no,downscript=no`,
      '-device',
      `virtio-net-pci,netdev=net${i},mac=${nic.mac}${boot}`,
    );
  });
  return a;
}
