// The images a baked chart will run, asked of the chart itself: `helm template` with the image's
// own verified helm and the values the node installs with (the catalogue's defaults, which firstboot
// puts under the node's). kiln preloads exactly these; the catalogue's `images` list is the check
// that nothing appeared unnoticed (a new sidecar in a chart update, say).
import { chmod, copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { KilnError, ValidationError } from '../../core/errors.ts';
import { redactText } from '../../core/redact.ts';
import type { InstalledBinary } from '../binaries/resolve.ts';
import { normalizeImageRef } from '../images/refs.ts';
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

/** The image's helm (its `binaries:` entry installed as …/helm). */
export function findHelm(binaries: InstalledBinary[]): InstalledBinary | undefined {
  return binaries.find((b) => path.posix.basename(b.path) === 'helm');
}

/** Runs `helm template` once per chart in a private HOME, so no repository config or cache of the build host leaks in. */
export async function renderedImages(helm: InstalledBinary, input: RenderInput): Promise<ManifestImage[]> {
  const { addon, at } = input;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-helm-'));
  const fail = (message: string, hint: string, cause?: unknown) =>
    new KilnError(`addon ${addon.name}: ${message}`, { ...at, hint, cause, exitCode: 2 });
  try {
    const exe = path.join(dir, 'helm');
    await copyFile(helm.blob, exe); // blobs are not executable: run a private copy
    await chmod(exe, 0o700);
    const values = path.join(dir, 'values.json');
    await writeFile(values, JSON.stringify(addon.values));
    const r = await execa(
      exe,
      [
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
      ],
      {
        reject: false,
        timeout: 120_000,
        maxBuffer: 64 * 2 ** 20,
        extendEnv: false,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: dir,
          HELM_CACHE_HOME: `${dir}/c`,
          HELM_CONFIG_HOME: `${dir}/f`,
          HELM_DATA_HOME: `${dir}/d`,
        },
      },
    );
    if (r.exitCode !== 0)
      throw fail(
        `helm template failed: ${redactText((r.stderr || r.stdout || String(r.exitCode)).trim().split('\n').slice(-3).join(' | '))}`,
        r.timedOut
          ? 'helm did not finish in 2 minutes'
          : `the catalogue's values for ${addon.chart.name} ${addon.chart.version} do not render`,
      );
    let found: ManifestImage[];
    try {
      found = manifestImages(r.stdout, `helm template ${addon.chart.name}-${addon.chart.version}`);
    } catch (error) {
      if (error instanceof ValidationError) throw fail(error.problems[0]!.message, 'the chart renders manifests kiln cannot read', error);
      throw error;
    }
    // one entry per name containerd will look up (busybox:1 and docker.io/library/busybox:1 are one)
    const byName = new Map<string, ManifestImage>();
    for (const m of found) {
      const ref = normalizeImageRef(m.ref);
      if (!ref) throw fail(`${m.usedBy} runs "${m.ref}", which is not an image reference`, 'fix the image through the chart values');
      if (!byName.has(ref)) byName.set(ref, { ...m, ref });
    }
    return [...byName.values()];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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
