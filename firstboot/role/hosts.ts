// The node name must resolve to the advertise address (kubelet and kubeadm look it up).
import type { NodeConfig } from '../config/schema.ts';

/** /etc/hosts with the node's line replaced (other lines kept as they were). */
export function hostsWithNode(current: string, config: NodeConfig): string {
  const name = config.node.name;
  const kept = current.split('\n').filter((l) => l !== '' && !l.split(/\s+/).slice(1).includes(name));
  return `${[...kept, `${config.node.advertiseAddress}\t${name}`].join('\n')}\n`;
}
