// The addons an image spec names: checked against the catalogue before any work, then each chart
// baked (verified by digest and by its own Chart.yaml) with a descriptor firstboot installs it from;
// the images its rendered manifests run join the preload list.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { KilnError, ValidationError } from '../../core/errors.ts';
import { BlobStore } from '../binaries/blobs.ts';
import type { ResolvedSpec } from '../spec/defaults.ts';
import { closest } from '../../core/schema.ts';
import { chartPath, loadCatalogue, type Addon } from './catalogue.ts';
import { ADDON_DIR } from '../../node/layout.ts';
import { bakeChart, type BakedChart } from './charts.ts';
import type { InstalledBinary } from '../binaries/resolve.ts';
import { chartMismatch, readChartMeta } from '../../node/chart-archive.ts';
import { checkListedImages, findHelm, renderedImages } from './render.ts';

export interface BakedAddon {
  addon: Addon;
  chart: BakedChart;
  /** What the rendered manifests run, as containerd names them: the images preloaded for it. */
  images: string[];
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

export async function bakeAddons(
  spec: ResolvedSpec,
  binaries: InstalledBinary[],
  cacheDir: string,
  log: (m: string) => void,
): Promise<BakedAddon[]> {
  const store = new BlobStore(path.join(cacheDir, 'blobs'));
  const addons = await addonsOf(spec);
  const helm = findHelm(binaries);
  // the spec rule addons-need-helm says this first; here for a caller that skipped the rules
  if (addons.length > 0 && !helm)
    throw new KilnError("no helm on the node's PATH among the image's binaries to render the addons' charts", {
      file: spec.file,
      path: '/addons',
      hint: 'add helm to binaries (installed under /usr/local/bin)',
      exitCode: 2,
    });
  const out: BakedAddon[] = [];
  for (const [i, addon] of addons.entries()) {
    const at = { file: spec.file, path: `/addons/${i}` };
    const { sha256, repository } = spec.addons[i]!;
    const chart = await bakeChart(addon, { pin: sha256, repository }, store, at, log);
    await checkChartIdentity(addon, chart, at);
    const rendered = await renderedImages(helm!, { addon, chart: chart.file, kubeVersion: spec.kubernetes.version, at });
    const unused = checkListedImages(addon, rendered, at, `addons/${addon.name}.yaml`);
    if (unused.length > 0)
      log(`addon ${addon.name}: the catalogue lists ${unused.join(', ')}, which the chart does not run with these values (not preloaded)`);
    out.push({ addon, chart, images: rendered.map((r) => r.ref) });
  }
  return out;
}

/** `helm --version` means nothing for an archive: the archive's own Chart.yaml must be the pinned chart. */
async function checkChartIdentity(addon: Addon, chart: BakedChart, at: { file: string; path: string }): Promise<void> {
  const label = `${addon.chart.name}-${addon.chart.version}.tgz`;
  try {
    const mismatch = chartMismatch(await readChartMeta(await readFile(chart.file), label), addon.chart.name, addon.chart.version);
    if (mismatch)
      throw new KilnError(`addon ${addon.name}: ${label} from ${chart.url}: ${mismatch}`, {
        ...at,
        hint: 'the repository serves another chart under this name and version: nothing was baked',
        exitCode: 2,
      });
  } catch (error) {
    if (error instanceof ValidationError)
      throw new KilnError(`addon ${addon.name}: ${label} from ${chart.url}: ${error.problems[0]!.message}`, {
        ...at,
        hint: error.problems[0]!.hint ?? 'not a Helm chart archive',
        cause: error,
        exitCode: 2,
      });
    throw error;
  }
}

/** What firstboot reads to install an addon the node config names without a chart of its own. */
export function addonDescriptor(baked: BakedAddon) {
  const { addon, chart } = baked;
  return {
    name: addon.name,
    chart: chartPath(addon),
    chartName: addon.chart.name,
    version: addon.chart.version,
    sha256: chart.sha256,
    namespace: addon.namespace,
    values: addon.values,
    requiredValues: addon.requiredValues ?? [],
    images: baked.images,
  };
}

export const descriptorPath = (a: Addon) => `${ADDON_DIR}/${a.name}.json`;
