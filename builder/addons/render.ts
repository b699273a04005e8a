// The images a baked chart will run, asked of the chart itself: `helm template` with the image's
// own verified helm and the values the node installs with (the catalogue's defaults, which firstboot
// puts under the node's). kiln preloads exactly these; the catalogue's `images` list is the check
// that nothing appeared unnoticed (a new sidecar in a chart update, say).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KilnError, ValidationError } from '../../core/errors.ts';
import { redactText } from '../../core/redact.ts';
import { hasValue, mergeValues, withValue, type Values } from '../../core/values.ts';
import { kilnCiliumValues } from '../../node/cilium-values.ts';
import { isNodeHelm, NETWORK_DEFAULTS } from '../../node/layout.ts';
import type { InstalledBinary } from '../binaries/resolve.ts';
import { runVerifiedBinary } from '../binaries/run.ts';
import { normalizeImageRef, parseImageRef } from '../images/refs.ts';
import { manifestImages, type ManifestImage } from './manifest-images.ts';
import type { Addon } from './catalogue.ts';

export interface RenderInput {
  addon: Addon;
  /** The verified chart archive on the build host. */
  chart: string;
  /** The Kubernetes version the image runs (charts check `kubeVersion` and capabilities against it). */
  kubeVersion: string;
  at: { file: string; path: string };
}

/** The image's helm (its `binaries:` entry installed on the node's PATH as helm). */
export function findHelm(binaries: InstalledBinary[]): InstalledBinary | undefined {
  return binaries.find((b) => isNodeHelm(b.path));
}

/**
 * What firstboot adds over an addon's catalogue values, by addon: for Cilium, kiln's own values
 * (the endpoint is a stand-in: it names no image). Addons not listed install with the catalogue's.
 */
const NODE_VALUES: Record<string, () => Values> = {
  cilium: () =>
    kilnCiliumValues({ endpoint: { host: '192.0.2.1', port: 6443 }, kubeProxyReplacement: true, pods: [NETWORK_DEFAULTS.podSubnet] }),
};

/** A value the node config must give (the site's NFS server, say), as the build renders it: present, naming nothing. */
const PLACEHOLDER = 'kiln-build-placeholder';

/** The values the node's install uses, as far as the build can know them. */
export function renderValues(addon: Addon): Values {
  const values = mergeValues(addon.values, NODE_VALUES[addon.name]?.() ?? {});
  return (addon.requiredValues ?? []).reduce((v, dotted) => (hasValue(v, dotted) ? v : withValue(v, dotted, PLACEHOLDER)), values);
}

/** Runs `helm template` once per chart in a private HOME, so no repository config or cache of the build host leaks in. */
export async function renderedImages(helm: InstalledBinary, input: RenderInput): Promise<ManifestImage[]> {
  const { addon, at } = input;
  const fail = (message: string, hint: string, cause?: unknown) =>
    new KilnError(`addon ${addon.name}: ${message}`, { ...at, hint, cause, exitCode: 2 });
  const r = await runVerifiedBinary(
    helm,
    async (dir) => {
      const values = path.join(dir, 'values.json');
      await writeFile(values, JSON.stringify(renderValues(addon)));
      return [
        'template',
        addon.name,
        input.chart,
        '--namespace',
        addon.namespace,
        '--kube-version',
        input.kubeVersion,
        '--values',
        values,
        // test hooks never run on install; every other hook (admission Jobs, say) does
        '--skip-tests',
      ];
    },
    {
      timeoutMs: 120_000,
      maxBytes: 64 * 2 ** 20,
      env: (dir) => ({ HELM_CACHE_HOME: `${dir}/c`, HELM_CONFIG_HOME: `${dir}/f`, HELM_DATA_HOME: `${dir}/d` }),
    },
  );
  if (r.startError)
    throw fail(
      `the image's helm does not run on this build host (${r.startError})`,
      'helm from binaries: must be a linux/amd64 build of helm 3',
    );
  if (r.timedOut) throw fail('helm template did not finish in 2 minutes', 'a chart renders in seconds: is this a Helm chart?');
  if (r.tooMuchOutput) throw fail('helm template printed more than 64 MiB of manifests', 'no chart kiln bakes renders that much');
  if (r.exitCode !== 0)
    throw fail(
      `helm template failed: ${redactText((r.stderr || r.stdout || `exit ${r.exitCode}`).trim().split('\n').slice(-3).join(' | '))}`,
      `the catalogue's values for ${addon.chart.name} ${addon.chart.version} do not render`,
    );
  const source = `helm template ${addon.chart.name}-${addon.chart.version}`;
  let found: ManifestImage[];
  try {
    found = manifestImages(r.stdout, source);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const p = error.problems[0]!;
    throw fail(
      `${p.line === undefined ? '' : `rendered manifests line ${p.line}: `}${p.message}`,
      'the chart renders manifests kiln cannot read',
      error,
    );
  }
  // one entry per name containerd will look up (busybox:1 and docker.io/library/busybox:1 are one)
  const byName = new Map<string, ManifestImage>();
  for (const m of found) {
    const ref = normalizeImageRef(m.ref);
    if (!ref) throw fail(`${m.usedBy} runs "${m.ref}", which is not an image reference`, 'fix the image through the chart values');
    // the preload holds the node's architecture only, whose manifest digest is not the index's a chart pins
    if (parseImageRef(ref)?.digest)
      throw fail(
        `${m.usedBy} runs ${m.ref}, pinned by digest`,
        'name it by tag through the chart\'s values (useDigest: false, or digest: ""), and list the tag in the catalogue\'s images',
      );
    if (!byName.has(ref)) byName.set(ref, { ...m, ref });
  }
  return [...byName.values()];
}

/**
 * The catalogue's list as a check: an image the manifests run that the catalogue does not name
 * stops the build, naming the chart, the image and who runs it.
 */
export function checkListedImages(
  addon: Addon,
  rendered: ManifestImage[],
  at: { file: string; path: string },
  catalogueFile: string,
): string[] {
  const listed = new Set(addon.images.map((i) => normalizeImageRef(i) ?? i));
  const unlisted = rendered.filter((m) => !listed.has(m.ref));
  if (unlisted.length > 0)
    throw new KilnError(
      `addon ${addon.name}: chart ${addon.chart.name} ${addon.chart.version} runs ${unlisted.map((m) => `${m.ref} (${m.usedBy})`).join(', ')}, not in ${catalogueFile} images`,
      {
        ...at,
        hint: `kiln preloads what the chart renders; list ${unlisted.length === 1 ? 'it' : 'them'} in the catalogue's images once checked (or turn the feature off in its values)`,
        exitCode: 2,
      },
    );
  const used = new Set(rendered.map((m) => m.ref));
  return [...listed].filter((i) => !used.has(i));
}
