// The iPXE scripts `kiln cluster serve` answers with: one chain script every machine fetches, which
// asks for the script of the NIC it booted from; per node, the image's kernel line plus where that
// node's own seed is (its hash pinned) and where to report; for a MAC not in the cluster, a script
// that says so on the console and stops, never another node's boot.
import { INSTALL_HASH_PARAM, INSTALL_IMAGE_PARAM, REPORT_PARAM, SERVE_PATHS, TLS_CA_PARAM } from '../../../node/serve.ts';
import type { ServedNode, ServePlan } from './plan.ts';

/** How long a refused machine waits before iPXE gives up and the firmware tries its next boot entry. */
export const REFUSED_WAIT_SECONDS = 3600;

export function chainScript(plan: ServePlan): string {
  return [
    '#!ipxe',
    `# kiln cluster ${plan.cluster}: every machine's first script; it asks for the one of the NIC it booted from`,
    // netX is the most recently opened network device: the one that fetched this script
    `chain ${plan.url}/node/\${netX/mac:hexhyp}.ipxe || goto failed`,
    ':failed',
    'echo kiln: cannot fetch the boot script for ${netX/mac} from ' + plan.url,
    'sleep 30',
    'exit 1',
    '',
  ].join('\n');
}

/**
 * The node's kernel command line: the image's, then its seed with the seed's hash, then the report
 * URL; both over HTTPS with the cluster CA pinned when the server listens for TLS.
 */
export function nodeArgs(plan: ServePlan, node: ServedNode, mac: string): string {
  const secrets = plan.tls?.url ?? plan.url;
  return [
    plan.kernelArgs,
    `kiln.config=${secrets}${SERVE_PATHS.seed(mac)}`,
    `kiln.config.hash=sha256-${node.seedHash}`,
    `${REPORT_PARAM}=${secrets}${SERVE_PATHS.report(mac)}`,
    ...(plan.tls ? [`${TLS_CA_PARAM}=sha256:${plan.tls.pin}`] : []),
    // what a node with install writes to its disk (a node without install ignores it)
    ...(plan.disk ? [`${INSTALL_IMAGE_PARAM}=${plan.url}${SERVE_PATHS.disk}`, `${INSTALL_HASH_PARAM}=sha256-${plan.disk.sha256}`] : []),
  ].join(' ');
}

export function nodeScript(plan: ServePlan, node: ServedNode, mac: string): string {
  return [
    '#!ipxe',
    `# kiln cluster ${plan.cluster}: node ${node.name} (${node.role}), NIC ${mac}`,
    `echo kiln: booting node ${node.name} of cluster ${plan.cluster}`,
    `set base ${plan.url}/pxe`,
    `kernel \${base}/vmlinuz ${nodeArgs(plan, node, mac)}`,
    'initrd ${base}/initrd.img',
    'boot',
    '',
  ].join('\n');
}

/** A MAC the cluster does not have: said on the console, then a long wait (a loop would flood the log). */
export function refusedScript(plan: ServePlan, mac: string): string {
  return [
    '#!ipxe',
    `echo kiln: this machine (NIC ${mac}) is not in this cluster (${plan.cluster}); it will not be provisioned`,
    'echo kiln: add its MAC to a node of the cluster spec, run kiln cluster gen, restart kiln cluster serve and reboot it',
    `sleep ${REFUSED_WAIT_SECONDS}`,
    'exit 1',
    '',
  ].join('\n');
}

/**
 * A node that reported its first boot done: its seed is gone, so iPXE hands back to the firmware,
 * which boots the next entry of its boot order (the node's own disk, once it is installed).
 */
export function provisionedScript(plan: ServePlan, node: ServedNode, mac: string): string {
  return [
    '#!ipxe',
    `echo kiln: node ${node.name} (NIC ${mac}) of cluster ${plan.cluster} is provisioned; booting the next boot device`,
    'exit 0',
    '',
  ].join('\n');
}
