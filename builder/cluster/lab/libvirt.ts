// The same test cluster for libvirt users: one isolated network per L2 network (no <forward>, so
// nothing is routed off the host) and one domain per node with its overlay disk, its seed (the
// cidata ISO as a CD, or Ignition over fw_cfg) and its NICs' MACs. Pure: text from the plan.
import type { LabNetwork, LabNode, LabPlan } from './plan.ts';
import type { Accel, Firmware, Seed } from './qemu.ts';

export interface LibvirtOptions {
  seed: Seed;
  firmware: Firmware;
  accel: Accel;
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');

/** libvirt's network name for one of the cluster's L2 networks. */
export const networkName = (plan: LabPlan, net: LabNetwork) => `kiln-${plan.cluster}-${net.bridge}`;

/** The host bridge libvirt makes (IFNAMSIZ: 15 characters), distinct per cluster and network. */
function hostBridge(plan: LabPlan, net: LabNetwork): string {
  return `kv${plan.cluster.replace(/[^a-z0-9]/g, '').slice(0, 9)}${net.bridge.replace('kbr', 'b')}`.slice(0, 15);
}

export function networkXml(plan: LabPlan, net: LabNetwork): string {
  const [address, prefix] = net.hostAddress?.split('/') ?? [];
  return [
    '<network>',
    `  <name>${esc(networkName(plan, net))}</name>`,
    `  <!-- kiln cluster ${esc(plan.cluster)}: ${esc(net.subnet)}, isolated (no forward) -->`,
    `  <bridge name='${esc(hostBridge(plan, net))}' stp='off' delay='0'/>`,
    ...(address ? [`  <ip ${address.includes(':') ? "family='ipv6' " : ''}address='${esc(address)}' prefix='${esc(prefix!)}'/>`] : []),
    '</network>',
    '',
  ].join('\n');
}

export function domainXml(plan: LabPlan, node: LabNode, opts: LibvirtOptions): string {
  const kvm = opts.accel === 'kvm';
  const nicXml = node.nics.flatMap((nic) => {
    const net = plan.networks.find((n) => n.bridge === nic.bridge)!;
    return [
      `    <interface type='network'>`,
      `      <mac address='${esc(nic.mac)}'/>`,
      `      <source network='${esc(networkName(plan, net))}'/>`,
      `      <model type='virtio'/>`,
      `    </interface>`,
    ];
  });
  const seed =
    opts.seed === 'nocloud'
      ? [
          `    <disk type='file' device='cdrom'>`,
          `      <driver name='qemu' type='raw'/>`,
          `      <source file='${esc(node.cidata)}'/>`,
          `      <target dev='sda' bus='sata'/>`,
          `      <readonly/>`,
          `    </disk>`,
        ]
      : [];
  return [
    `<domain type='${kvm ? 'kvm' : 'qemu'}'>`,
    `  <name>kiln-${esc(plan.cluster)}-${esc(node.name)}</name>`,
    `  <description>kiln cluster ${esc(plan.cluster)}: node ${esc(node.name)} (${esc(node.role)})</description>`,
    `  <memory unit='MiB'>${node.memoryMiB}</memory>`,
    `  <vcpu>${node.cpus}</vcpu>`,
    ...(opts.seed === 'ignition'
      ? [`  <sysinfo type='fwcfg'>`, `    <entry name='opt/com.coreos/config' file='${esc(node.ignition)}'/>`, `  </sysinfo>`]
      : []),
    `  <os${opts.firmware === 'uefi' ? " firmware='efi'" : ''}>`,
    `    <type arch='x86_64' machine='q35'>hvm</type>`,
    `    <boot dev='hd'/>`,
    `  </os>`,
    `  <features><acpi/><apic/></features>`,
    `  <cpu mode='${kvm ? 'host-passthrough' : 'maximum'}'/>`,
    `  <on_poweroff>destroy</on_poweroff>`,
    `  <devices>`,
    `    <disk type='file' device='disk'>`,
    `      <driver name='qemu' type='qcow2'/>`,
    `      <source file='${esc(node.disk)}'/>`,
    `      <target dev='vda' bus='virtio'/>`,
    `    </disk>`,
    ...seed,
    ...nicXml,
    `    <serial type='file'>`,
    `      <source path='${esc(node.console)}'/>`,
    `      <target port='0'/>`,
    `    </serial>`,
    `  </devices>`,
    `</domain>`,
    '',
  ].join('\n');
}
