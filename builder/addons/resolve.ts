// The addons an image spec names: checked against the catalogue before any work, then each chart
// baked (verified) with a descriptor firstboot installs it from; their images join the preload list.
import path from 'node:path';
import { KilnError } from '../../core/errors.ts';
import { BlobStore } from '../binaries/blobs.ts';
import type { ResolvedSpec } from '../spec/defaults.ts';
import { closest } from '../../core/schema.ts';
import { chartPath, loadCatalogue, type Addon } from './catalogue.ts';
import { ADDON_DIR } from '../../node/layout.ts';
import { bakeChart, type BakedChart } from './charts.ts';

export interface BakedAddon {
  addon: Addon;
  chart: BakedChart;
}

/** The catalogue entries the spec names, or a KilnError naming the unknown one. */
export async function addonsOf(spec: ResolvedSpec): Promise<Addon[]> {
  if (spec.addons.length === 0) return [];
  const catalogue = await loadCatalogue();
  return spec.addons.map(({ name }, i) => {
    const addon = catalogue.get(name);
    if (addon) return addon;
    const near = closest(name, [...catalogue.keys()]);
    throw new KilnError(`no addon "${name}" in kiln's catalogue`, {
      file: spec.file,
      path: `/addons/${i}/name`,
      hint: `${near ? `did you mean "${near}"? ` : ''}known: ${[...catalogue.keys()].sort().join(', ')}`,
      exitCode: 2,
    });
  });
}

export async function bakeAddons(spec: ResolvedSpec, cacheDir: string, log: (m: string) => void): Promise<BakedAddon[]> {
  const store = new BlobStore(path.join(cacheDir, 'blobs'));
  const addons = await addonsOf(spec);
  const out: BakedAddon[] = [];
  for (const [i, addon] of addons.entries()) {
    const { sha256, repository } = spec.addons[i]!;
    out.push({ addon, chart: await bakeChart(addon, { pin: sha256, repository }, store, { file: spec.file, path: `/addons/${i}` }, log) });
  }
  return out;
}

/** What firstboot reads to install an addon the node config names without a chart of its own. */
export function addonDescriptor({ addon, chart }: BakedAddon) {
  return {
    name: addon.name,
    chart: chartPath(addon),
    version: addon.chart.version,
    sha256: chart.sha256,
    namespace: addon.namespace,
    values: addon.values,
    requiredValues: addon.requiredValues ?? [],
    images: addon.images,
  };
}

export const descriptorPath = (a: Addon) => `${ADDON_DIR}/${a.name}.json`;
