// The build, as one readable pipeline: spec → rootfs → overlays → rootfs.tar → outputs → manifest.
// Each stage is a small named function over one context object. Everything that can be checked
// is checked in `validate`, before the first side effect.
import { rename, rm, stat, access, constants, readFile } from 'node:fs/promises';
import path from 'node:path';
import { KilnError, ToolError } from '../core/errors.ts';
import { addonsOf, bakeAddons, type BakedAddon } from './addons/resolve.ts';
import { preflightBinaries, resolveBinaries, type InstalledBinary } from './binaries/resolve.ts';
import { firstbootBinary, type FirstbootBinary } from './firstboot.ts';
import { preloadImages, type PreloadedImage } from './images/preload.ts';
import { makeStagingDir, writeFileAtomic } from '../core/fs.ts';
import { sha256File } from '../core/hash.ts';
import { convertersFor, type Artifact } from './outputs/formats.ts';
import { WorkArea } from './outputs/work.ts';
import { overlayOps } from './overlays/registry.ts';
import type { OverlayOps } from './overlays/types.ts';
import { findOnPath } from './host/tools.ts';
import type { Reporter } from './progress.ts';
import { baseView, composeRootfs, EMPTY_BASE } from './rootfs/compose.ts';
import { deb822 } from './rootfs/apt-source.ts';
import { baseRecipe, ensureBase, parseDpkgStatus, type BaseResult } from './rootfs/mmdebstrap.ts';
import type { ResolvedSpec } from './spec/defaults.ts';
import { loadSpecFile } from './spec/load.ts';
import { indexTar, type IndexedEntry } from './tar/read.ts';
import { writeTar } from './tar/write.ts';
import { KILN_VERSION } from '../core/version.ts';

export interface BuildOptions {
  specFile: string;
  outDir: string;
  cacheDir: string;
  noCache: boolean;
  reporter: Reporter;
}

interface BuildContext {
  opts: BuildOptions;
  log: (message: string) => void;
  spec?: ResolvedSpec;
  staging?: string;
  base?: BaseResult;
  firstboot?: FirstbootBinary;
  binaries?: InstalledBinary[];
  images?: PreloadedImage[];
  addons?: BakedAddon[];
  entries?: IndexedEntry[];
  overlays?: Array<{ name: string; ops: OverlayOps }>;
  rootfsTar?: string;
  packages?: Array<{ name: string; version: string; architecture: string }>;
  artifacts?: Array<Artifact & { size: number; sha256: string }>;
  timings: Record<string, number>;
}

type Stage = [name: string, run: (ctx: BuildContext) => Promise<string | void>];

async function validate(ctx: BuildContext): Promise<string> {
  const spec = (ctx.spec = await loadSpecFile(ctx.opts.specFile));
  const converters = convertersFor(spec.outputs);
  for (const c of converters) c.validate?.(spec);
  const tools = [
    'mmdebstrap',
    ...(spec.images.preload.length || spec.images.kubernetes || spec.addons.length ? ['skopeo'] : []),
    ...converters.flatMap((c) => c.tools),
  ];
  const missing = (await Promise.all(tools.map(async (t) => ((await findOnPath(t)) ? undefined : t)))).filter(Boolean);
  if (missing.length)
    throw new ToolError(missing.join(', '), 'not installed', {
      hint: 'run scripts/host-deps (or `kiln doctor` to see what each tool is for)',
    });
  // Render every overlay now (against an empty base) so a template or overlay-path error
  // stops the build before mmdebstrap runs.
  await overlayOps({ spec, base: EMPTY_BASE });
  preflightBinaries(spec);
  await addonsOf(spec);
  const out = path.resolve(ctx.opts.outDir);
  const outStat = await stat(out).catch(() => undefined);
  if (outStat && !outStat.isDirectory())
    throw new KilnError(`${out} exists and is not a directory`, { hint: 'choose another --out', exitCode: 2 });
  if (outStat)
    await access(out, constants.W_OK).catch((cause) => {
      throw new KilnError(`${out} is not writable`, { cause, exitCode: 2 });
    });
  return `spec ${spec.name} (${spec.hash.slice(0, 12)}), outputs: ${spec.outputs.join(', ')}`;
}

// Before mmdebstrap: a binary that fails its checksum stops the build in seconds, not minutes.
async function binaries(ctx: BuildContext): Promise<string> {
  ctx.binaries = await resolveBinaries(ctx.spec!, ctx.opts.cacheDir, ctx.log);
  if (!ctx.spec!.kubernetes.source)
    ctx.log(
      `kubernetes.source not set: ${ctx.spec!.kubernetes.components.join(', ')} are not installed (name a release or bundle to bake them in)`,
    );
  return ctx.binaries.length
    ? ctx.binaries.map((b) => `${path.posix.basename(b.path)} ${(b.size / 2 ** 20).toFixed(1)} MiB`).join(', ')
    : 'none';
}

async function addons(ctx: BuildContext): Promise<string> {
  ctx.addons = await bakeAddons(ctx.spec!, ctx.opts.cacheDir, ctx.log);
  return ctx.addons.length ? ctx.addons.map((a) => `${a.addon.name} ${a.addon.chart.version}`).join(', ') : 'none';
}

async function images(ctx: BuildContext): Promise<string> {
  ctx.images = await preloadImages(
    ctx.spec!,
    ctx.binaries!,
    ctx.opts.cacheDir,
    ctx.log,
    ctx.addons!.map((a) => a.addon),
  );
  return ctx.images.length ? ctx.images.map((i) => `${i.ref} ${(i.size / 2 ** 20).toFixed(1)} MiB`).join(', ') : 'none';
}

async function rootfs(ctx: BuildContext): Promise<string> {
  // the agent every image carries is found (or built from source) while mmdebstrap runs
  [ctx.base, ctx.firstboot] = await Promise.all([
    ensureBase(baseRecipe(ctx.spec!), {
      cacheDir: ctx.opts.cacheDir,
      noCache: ctx.opts.noCache,
      log: ctx.log,
      aptSources: deb822(ctx.spec!),
    }),
    firstbootBinary(ctx.opts.cacheDir, ctx.log),
  ]);
  return `${ctx.base.cached ? 'cache hit' : 'built'} ${ctx.base.key.slice(0, 12)}; kiln-firstboot ${ctx.firstboot.origin}`;
}

async function overlays(ctx: BuildContext): Promise<string> {
  ctx.entries = await indexTar(ctx.base!.tar);
  const view = baseView(ctx.base!.tar, ctx.entries);
  ctx.overlays = await overlayOps({
    spec: ctx.spec!,
    base: view,
    firstboot: await readFile(ctx.firstboot!.path),
    binaries: ctx.binaries!,
    images: ctx.images!,
    addons: ctx.addons!,
  });
  ctx.packages = parseDpkgStatus(await view.readText('var/lib/dpkg/status'));
  const files = ctx.overlays.reduce((n, o) => n + o.ops.files.length, 0);
  return `${ctx.overlays.length} overlays, ${files} paths over ${ctx.entries.length} base entries`;
}

async function pack(ctx: BuildContext): Promise<string> {
  const view = baseView(ctx.base!.tar, ctx.entries!);
  const entries = composeRootfs({
    baseTar: ctx.base!.tar,
    base: ctx.entries!,
    overlays: ctx.overlays!,
    sourceDateEpoch: ctx.spec!.sourceDateEpoch,
    groupFile: await view.readText('etc/group'),
  });
  ctx.staging = await makeStagingDir(path.resolve(ctx.opts.outDir));
  ctx.rootfsTar = path.join(ctx.staging, 'rootfs.tar');
  await writeTar(ctx.rootfsTar, entries);
  return `${entries.length} entries`;
}

async function outputs(ctx: BuildContext): Promise<string> {
  const work = new WorkArea(ctx.spec!, ctx.rootfsTar!, path.join(ctx.staging!, 'work'), ctx.log);
  const produced = new Map<string, Artifact[]>();
  try {
    for (const converter of convertersFor(ctx.spec!.outputs)) {
      const t0 = Date.now();
      produced.set(
        converter.format,
        await converter.convert({ spec: ctx.spec!, rootfsTar: ctx.rootfsTar!, stagingDir: ctx.staging!, work, produced, log: ctx.log }),
      );
      ctx.log(`${converter.format}: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    }
  } finally {
    await work.cleanup();
  }
  ctx.artifacts = await Promise.all(
    ctx
      .spec!.outputs.flatMap((format) => produced.get(format) ?? [])
      .map(async (a) => {
        const file = path.join(ctx.staging!, a.path);
        return { ...a, size: (await stat(file)).size, sha256: await sha256File(file) };
      }),
  );
  return ctx.artifacts.map((a) => `${a.path} ${(a.size / 2 ** 20).toFixed(0)} MiB`).join(', ');
}

async function manifest(ctx: BuildContext): Promise<string> {
  const spec = ctx.spec!;
  const doc = {
    kilnVersion: KILN_VERSION,
    name: spec.name,
    specHash: spec.hash,
    sourceDateEpoch: spec.sourceDateEpoch,
    base: { ...spec.base, cacheKey: ctx.base!.key },
    kubernetes: spec.kubernetes,
    binaries: ctx.binaries!.map(({ path: p, sha256, size, origin }) => ({ path: p, sha256, size, origin })),
    // size: what each preloaded image adds to the image
    images: ctx.images!.map(({ ref, digest, size, path: p }) => ({ ref, digest, size, path: p })),
    addons: ctx.addons!.map(({ addon, chart }) => ({
      name: addon.name,
      chart: `${addon.chart.name}-${addon.chart.version}`,
      sha256: chart.sha256,
      size: chart.size,
      origin: chart.url,
    })),
    runtime: { engine: spec.runtime.engine, sandboxImage: spec.runtime.sandboxImage },
    overlays: ctx.overlays!.map((o) => o.name),
    packages: ctx.packages,
    artifacts: ctx.artifacts,
  };
  await writeFileAtomic(path.join(ctx.staging!, 'manifest.json'), `${JSON.stringify(doc, null, 2)}\n`);
  return `${ctx.packages!.length} packages, ${ctx.artifacts!.length} artifacts`;
}

async function publish(ctx: BuildContext): Promise<string> {
  const out = path.resolve(ctx.opts.outDir);
  // Artifacts first (a bundle such as pxe/ moves as one directory), manifest last: a manifest
  // under its final name means a complete build.
  const tops = [...new Set([...ctx.artifacts!.map((a) => a.path.split('/')[0]!), 'rootfs.tar'])];
  for (const name of tops) {
    await rm(path.join(out, name), { recursive: true, force: true });
    await rename(path.join(ctx.staging!, name), path.join(out, name));
  }
  await rename(path.join(ctx.staging!, 'manifest.json'), path.join(out, 'manifest.json'));
  await rm(ctx.staging!, { recursive: true, force: true });
  return out;
}

export const STAGES: Stage[] = [
  ['validate', validate],
  ['binaries', binaries],
  ['addons', addons],
  ['images', images],
  ['rootfs', rootfs],
  ['overlays', overlays],
  ['pack', pack],
  ['outputs', outputs],
  ['manifest', manifest],
  ['publish', publish],
];

export async function build(opts: BuildOptions): Promise<{ outDir: string; timings: Record<string, number>; spec: ResolvedSpec }> {
  const started = Date.now();
  let current = '';
  const now = () => new Date().toISOString();
  const ctx: BuildContext = {
    opts,
    timings: {},
    log: (message) => opts.reporter.emit({ event: 'log', stage: current, time: now(), message }),
  };
  try {
    for (const [name, run] of STAGES) {
      current = name;
      const t0 = Date.now();
      opts.reporter.emit({ event: 'stage-start', stage: name, time: now() });
      const detail = await run(ctx);
      ctx.timings[name] = Date.now() - t0;
      opts.reporter.emit({ event: 'stage-end', stage: name, time: now(), ms: ctx.timings[name]!, ...(detail ? { detail } : {}) });
    }
  } catch (error) {
    if (ctx.staging) await rm(ctx.staging, { recursive: true, force: true });
    opts.reporter.emit({ event: 'error', stage: current, time: now(), message: error instanceof Error ? error.message : String(error) });
    throw error;
  }
  opts.reporter.emit({ event: 'done', time: now(), ms: Date.now() - started, outDir: path.resolve(opts.outDir) });
  return { outDir: path.resolve(opts.outDir), timings: ctx.timings, spec: ctx.spec! };
}
