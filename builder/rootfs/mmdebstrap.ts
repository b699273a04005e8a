// The rootfs stage: mmdebstrap builds the Debian base as a tar, cached by a hash of its inputs.
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { ToolError } from '../../core/errors.ts';
import { lock } from '../../core/fs.ts';
import { canonicalJson, sha256, type ResolvedSpec } from '../spec/defaults.ts';
import { aptRecipe } from './apt-source.ts';
import { moduleFilters, ORPHAN_MODULES_HOOK } from './modules.ts';

// Bump when the way the base is made changes, so old cache entries are not reused.
const RECIPE = 4;

// Documentation and translations a node never reads; copyright files stay (licences). The
// containerd v1 shims serve only the io.containerd.runc.v1/runtime.v1.linux runtimes, which
// containerd 1.6 deprecates and kiln's config never names (it runs io.containerd.runc.v2).
const DPKG_OPTS = [
  'path-exclude=/usr/bin/containerd-shim',
  'path-exclude=/usr/bin/containerd-shim-runc-v1',
  'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/doc/*',
  'path-include=/usr/share/doc/*/copyright',
  'path-exclude=/usr/share/locale/*',
  'path-include=/usr/share/locale/locale.alias',
  'path-exclude=/usr/share/info/*',
];

export interface BaseRecipe {
  recipe: number;
  suite: string;
  arch: string;
  mirror: string | null;
  components: string[];
  variant: string;
  packages: string[];
  dpkgOpts: string[];
  /** mmdebstrap --customize-hook scripts, run in order once every package is installed. */
  customizeHooks: string[];
  sourceDateEpoch: number;
  /** Kubernetes packages from an apt repository (kubernetes.source.apt). */
  apt?: { uri: string; suite: string; components: string[]; keySha256: string; packages: string[] };
}

export function baseRecipe(spec: ResolvedSpec): BaseRecipe {
  return {
    recipe: RECIPE,
    suite: spec.base.suite,
    arch: spec.base.arch,
    mirror: spec.base.mirror ?? null,
    components: spec.base.components,
    variant: 'required',
    packages: spec.packages,
    dpkgOpts: [...DPKG_OPTS, ...moduleFilters(spec.node.shippedModules)],
    customizeHooks: [ORPHAN_MODULES_HOOK],
    sourceDateEpoch: spec.sourceDateEpoch,
    ...(aptRecipe(spec) ? { apt: aptRecipe(spec)! } : {}),
  };
}

/** mmdebstrap's own default, named when a second source is added (then none is implied). */
const DEBIAN_MIRROR = 'http://deb.debian.org/debian';

const cacheKey = (recipe: BaseRecipe) => sha256(canonicalJson(recipe)).slice(0, 32);

export function defaultCacheDir(): string {
  return process.env.KILN_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'kiln');
}

/** `sourcesFile`: the deb822 file of the apt source (recipe.apt), when there is one. */
export function mmdebstrapArgs(recipe: BaseRecipe, output: string, sourcesFile?: string): string[] {
  const mirrors = recipe.apt ? [recipe.mirror ?? DEBIAN_MIRROR, sourcesFile!] : recipe.mirror ? [recipe.mirror] : [];
  return [
    `--variant=${recipe.variant}`,
    `--mode=${process.getuid?.() === 0 ? 'root' : 'unshare'}`,
    '--format=tar',
    `--architectures=${recipe.arch}`,
    `--components=${recipe.components.join(',')}`,
    `--include=${[...recipe.packages, ...(recipe.apt?.packages ?? [])].join(',')}`,
    ...recipe.dpkgOpts.map((o) => `--dpkgopt=${o}`),
    ...recipe.customizeHooks.map((h) => `--customize-hook=${h}`),
    recipe.suite,
    output,
    ...mirrors,
  ];
}

export interface BaseResult {
  tar: string;
  key: string;
  cached: boolean;
}

/** Returns the cached base tar for this recipe, building it with mmdebstrap when absent. */
export async function ensureBase(
  recipe: BaseRecipe,
  opts: { cacheDir: string; noCache: boolean; log: (line: string) => void; aptSources?: string | undefined },
): Promise<BaseResult> {
  const key = cacheKey(recipe);
  const dir = path.join(opts.cacheDir, 'rootfs');
  const tar = path.join(dir, `${key}.tar`);
  const present = () =>
    stat(tar).then(
      (s) => s.isFile(),
      () => false,
    );
  if (!opts.noCache && (await present())) return { tar, key, cached: true };

  await mkdir(dir, { recursive: true });
  // Concurrent builds of the same base (parallel CI jobs) wait for one mmdebstrap, not run two.
  const release = await lock(path.join(dir, `${key}.lock`), opts.log);
  try {
    if (!opts.noCache && (await present())) return { tar, key, cached: true };
    return await runMmdebstrap(recipe, dir, key, tar, opts.log, opts.aptSources);
  } finally {
    await release();
  }
}

async function runMmdebstrap(
  recipe: BaseRecipe,
  dir: string,
  key: string,
  tar: string,
  log: (line: string) => void,
  aptSources?: string,
): Promise<BaseResult> {
  const partial = path.join(dir, `${key}.tar.partial-${process.pid}`);
  // mmdebstrap reads a mirror argument that is a *.sources file as deb822
  const sourcesFile = path.join(dir, `${key}.kubernetes.sources`);
  if (recipe.apt) await writeFile(sourcesFile, aptSources ?? '');
  const args = mmdebstrapArgs(recipe, partial, sourcesFile);
  log(`mmdebstrap ${args.map((a) => (a.startsWith('--customize-hook=') ? "--customize-hook='…'" : a)).join(' ')}`);
  try {
    const child = execa('mmdebstrap', args, {
      env: { SOURCE_DATE_EPOCH: String(recipe.sourceDateEpoch) },
      all: true,
      buffer: { all: true },
    });
    child.all?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (/^(I|W|E): /.test(line)) log(line);
    });
    await child;
  } catch (cause) {
    await rm(partial, { force: true });
    const output = String((cause as { all?: string }).all ?? '')
      .split('\n')
      .filter((l) => /^E: |error/i.test(l))
      .slice(-5)
      .join('\n');
    throw new ToolError('mmdebstrap', `building the ${recipe.suite} rootfs failed${output ? `:\n${output}` : ''}`, {
      hint: 'check the mirror is reachable and every package in `packages:` exists in the suite',
      cause,
    });
  }
  await writeFile(path.join(dir, `${key}.json`), `${JSON.stringify(recipe, null, 2)}\n`);
  await rename(partial, tar);
  return { tar, key, cached: false };
}

/** Installed packages and versions, from the rootfs's own dpkg status database. */
export function parseDpkgStatus(status: string): Array<{ name: string; version: string; architecture: string }> {
  return status
    .split(/\n\n+/)
    .map((para) =>
      Object.fromEntries(
        para
          .split('\n')
          .filter((l) => /^[A-Za-z-]+: /.test(l))
          .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
      ),
    )
    .filter((f) => f.Package && /install ok installed/.test(f.Status ?? ''))
    .map((f) => ({ name: f.Package!, version: f.Version!, architecture: f.Architecture! }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
