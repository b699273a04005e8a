// What a site's DHCP server needs to send PXE machines to `kiln cluster serve`, written into
// DIR/serve/: a dnsmasq and an ISC dhcpd snippet that chain a plain PXE ROM into iPXE (TFTP) and
// iPXE into the server's chain script (HTTP), each node's NIC pinned to its address; and, for sites
// that run matchbox, one group per MAC with its node's profile. None of them holds a secret.
import path from 'node:path';
import { isIP } from 'node:net';
import { writeFileAtomic } from '../../../core/fs.ts';
import { SERVE_PATHS } from '../../../node/serve.ts';
import type { ServedNode, ServePlan } from './plan.ts';
import { nodeArgs } from './scripts.ts';

/** The iPXE builds Debian's `ipxe` package ships in /usr/lib/ipxe: BIOS (UNDI) and x86-64 UEFI. */
export const IPXE_BIOS = 'undionly.kpxe';
export const IPXE_UEFI = 'ipxe.efi';

export interface SnippetOptions {
  /** Extra lines a lab's own dnsmasq needs (interface, range, TFTP root); none for a site snippet. */
  dnsmasqExtra?: string[];
}

const chainUrl = (plan: ServePlan) => `${plan.url}${SERVE_PATHS.chain}`;
const serverHost = (plan: ServePlan) => new URL(plan.url).hostname.replace(/^\[|\]$/g, '');

export function dnsmasqConf(plan: ServePlan, opts: SnippetOptions = {}): string {
  const hosts = plan.nodes.flatMap((n) => n.macs.map((mac) => `dhcp-host=${[mac, n.addresses[mac], n.name].filter(Boolean).join(',')}`));
  return [
    `# kiln cluster ${plan.cluster}: PXE ROMs load iPXE over TFTP, iPXE chains to kiln cluster serve at ${plan.url}`,
    '# Include it in the dnsmasq of the provisioning network (conf-file=), which has its dhcp-range;',
    "# the TFTP files come from Debian's ipxe package (/usr/lib/ipxe).",
    ...(opts.dnsmasqExtra ?? []),
    'enable-tftp',
    ...(opts.dnsmasqExtra?.some((l) => l.startsWith('tftp-root=')) ? [] : ['tftp-root=/usr/lib/ipxe']),
    '# iPXE says who it is with option 175; UEFI x86-64 firmware sends client-arch 7 or 9',
    'dhcp-match=set:ipxe,175',
    'dhcp-match=set:efi64,option:client-arch,7',
    'dhcp-match=set:efi64,option:client-arch,9',
    `dhcp-boot=tag:!ipxe,tag:efi64,${IPXE_UEFI}`,
    `dhcp-boot=tag:!ipxe,tag:!efi64,${IPXE_BIOS}`,
    `dhcp-boot=tag:ipxe,${chainUrl(plan)}`,
    '# each node NIC gets its node address; machines not listed here get the refusal script from the server',
    ...hosts,
    '',
  ].join('\n');
}

export function dhcpdConf(plan: ServePlan): string {
  const server = serverHost(plan);
  const hosts = plan.nodes.flatMap((n) =>
    n.macs.map((mac, i) => {
      const address = n.addresses[mac];
      return `host kiln-${n.name}-${i} { hardware ethernet ${mac};${address ? ` fixed-address ${address};` : ''} }`;
    }),
  );
  return [
    `# kiln cluster ${plan.cluster}: PXE ROMs load iPXE over TFTP, iPXE chains to kiln cluster serve at ${plan.url}`,
    '# Include it in the dhcpd.conf of the provisioning network (include "…";), which has its subnet.',
    'option client-arch code 93 = unsigned integer 16;',
    ...(isIP(server) === 4
      ? [`# the TFTP server for ${IPXE_BIOS} and ${IPXE_UEFI}; change it if TFTP runs elsewhere`, `next-server ${server};`]
      : []),
    'if exists user-class and option user-class = "iPXE" {',
    `  filename "${chainUrl(plan)}";`,
    '} elsif option client-arch = 7 or option client-arch = 9 {',
    `  filename "${IPXE_UEFI}";`,
    '} else {',
    `  filename "${IPXE_BIOS}";`,
    '}',
    ...hosts,
    '',
  ].join('\n');
}

const matchboxId = (plan: ServePlan, node: ServedNode) => `kiln-${plan.cluster}-${node.name}`;

/** matchbox groups (one per MAC) and profiles (one per node: its seed URL is its own). */
export function matchboxFiles(plan: ServePlan): { rel: string; data: string }[] {
  const base = `${plan.url}/pxe`;
  const files: { rel: string; data: string }[] = [];
  for (const node of plan.nodes) {
    const id = matchboxId(plan, node);
    for (const [i, mac] of node.macs.entries()) {
      const group = { id: `${id}-${i}`, name: `kiln ${plan.cluster} ${node.name} (NIC ${mac})`, profile: `${id}-${i}`, selector: { mac } };
      const args = nodeArgs(plan, node, mac).replaceAll('${base}', base).split(' ');
      const profile = { id: `${id}-${i}`, name: group.name, boot: { kernel: `${base}/vmlinuz`, initrd: [`${base}/initrd.img`], args } };
      files.push({ rel: `matchbox/groups/${id}-${i}.json`, data: `${JSON.stringify(group, null, 2)}\n` });
      files.push({ rel: `matchbox/profiles/${id}-${i}.json`, data: `${JSON.stringify(profile, null, 2)}\n` });
    }
  }
  return files;
}

/** Writes the snippets into DIR/serve/ and returns their paths. */
export async function writeSnippets(plan: ServePlan, opts: SnippetOptions = {}): Promise<string[]> {
  const files = [
    { rel: 'dnsmasq.conf', data: dnsmasqConf(plan, opts) },
    { rel: 'dhcpd.conf', data: dhcpdConf(plan) },
    ...matchboxFiles(plan),
  ];
  const written: string[] = [];
  for (const f of files) {
    const file = path.join(plan.dir, 'serve', f.rel);
    await writeFileAtomic(file, f.data, 0o644);
    written.push(file);
  }
  return written;
}
