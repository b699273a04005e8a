// Addons baked into the image by `kiln build` (spec `addons:`): each has a descriptor under
// /usr/share/kiln/addons naming its chart, namespace, default values and the values a site must
// give. A node config's addon without its own chart is installed from that descriptor.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { NodeConfig } from '../../node/config/schema.ts';
import { ADDON_DIR, type AddonDescriptor } from '../../node/layout.ts';
import { hasValue } from '../../core/values.ts';

export function readAddonDescriptors(root: string): Record<string, AddonDescriptor> {
  const dir = path.join(root, ADDON_DIR);
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .sort();
  } catch {
    return {};
  }
  return Object.fromEntries(names.map((n) => [n.slice(0, -5), JSON.parse(readFileSync(path.join(dir, n), 'utf8')) as AddonDescriptor]));
}

type Addon = NonNullable<NodeConfig['addons']>[number];

/** What helm installs for an addon: its own chart, or the baked one (defaults under the node's values). */
export function resolveAddon(
  a: Addon,
  baked: Record<string, AddonDescriptor>,
): {
  chart: string;
  namespace: string;
  version?: string;
  defaults?: Record<string, unknown>;
  /** What a chart in the image must be (its Chart.yaml, the baked archive's sha256). */
  expect: { name?: string; version?: string; sha256?: string };
} {
  const d = a.chart ? undefined : baked[a.name];
  if (!d)
    return {
      chart: a.chart!,
      namespace: a.namespace ?? 'kube-system',
      ...(a.version ? { version: a.version } : {}),
      expect: a.version ? { version: a.version } : {},
    };
  return {
    chart: d.chart,
    namespace: a.namespace ?? d.namespace,
    version: a.version ?? d.version,
    defaults: d.values,
    expect: { ...(d.chartName ? { name: d.chartName } : {}), version: a.version ?? d.version, ...(d.sha256 ? { sha256: d.sha256 } : {}) },
  };
}

/** Addons the image cannot install as configured: no chart and none baked, or a required value missing. */
export function addonProblems(
  config: NodeConfig,
  baked: Record<string, AddonDescriptor>,
): Array<{ path: string; message: string; hint: string }> {
  return (config.addons ?? []).flatMap((a, i) => {
    if (a.chart) return [];
    const d = baked[a.name];
    if (!d) {
      const known = Object.keys(baked);
      return [
        {
          path: `/addons/${i}/chart`,
          message: `addon "${a.name}" has no chart and this image has none baked in`,
          hint: known.length
            ? `baked here: ${known.join(', ')}; or give chart (a path in the image)`
            : "bake it in with the image spec's addons:, or give chart (a path in the image)",
        },
      ];
    }
    return d.requiredValues
      .filter((v) => !hasValue(a.values, v))
      .map((v) => ({
        path: `/addons/${i}/values`,
        message: `addon "${a.name}" needs values.${v}`,
        hint: `the ${a.name} chart cannot work without it (e.g. the site's server); set values: { ${v.split('.').join(': { ')}: … }`,
      }));
  });
}
