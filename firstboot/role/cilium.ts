// Helm values for Cilium (chart 1.16+), which the init node installs: kiln's settings, then the
// user's `cilium.values` deep-merged over them (user wins; null drops a kiln value, as in Helm).
import { controlPlaneEndpoint } from '../../node/config/vrrp.ts';
import { replacesKubeProxy, yamlFile } from './kubeadm.ts';
import { mergeValues } from '../../core/values.ts';
import { kilnCiliumValues } from '../../node/cilium-values.ts';
import type { NodeConfig, RenderedFile } from './types.ts';
import { clusterNetworks } from '../../node/config/subnets.ts';
import { NETWORK_DEFAULTS } from '../../node/layout.ts';

export const CILIUM_VALUES = '/etc/kiln/cilium-values.yaml';

/** kiln's own values, before the user's. */
function ciliumValues(config: NodeConfig): Record<string, unknown> {
  return kilnCiliumValues({
    endpoint: controlPlaneEndpoint(config),
    kubeProxyReplacement: replacesKubeProxy(config),
    pods: clusterNetworks(config, NETWORK_DEFAULTS).pods,
  });
}

/** /etc/kiln/cilium-values.yaml (0644: nothing secret in it). */
export function renderCiliumValues(config: NodeConfig): RenderedFile {
  const values = mergeValues(ciliumValues(config), config.cilium?.values ?? {});
  const chart = config.cilium ? `Cilium ${config.cilium.version}` : 'Cilium';
  return yamlFile(
    CILIUM_VALUES,
    0o644,
    [values],
    `Helm values for ${chart} in cluster ${config.cluster.name}: kiln's, then cilium.values over them`,
  );
}
