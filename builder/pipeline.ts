// The build, as one readable pipeline: spec → rootfs → overlays → rootfs.tar → outputs → manifest.
// Each stage is a small named function that takes what the stage before it returned and returns
// what the next one needs (Checked → … → Rootfs → Overlaid → Packed → Outputs → Manifested →
// Published), so nothing is read before the stage that makes it has run. Everything that can be
// checked is checked in `validate`, before the first side effect.
import { rename, rm, stat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ToolError } from '../core/errors.ts';
import { addonsOf, bakeAddons, type BakedAddon } from './addons/resolve.ts';
import { preflightBinaries, resolveBinaries, type InstalledBinary } from './binaries/resolve.ts';
import { firstbootBinary, type FirstbootBinary } from './firstboot.ts';
import { preloadImages, type PreloadedImage } from './images/preload.ts';
import { checkOutputDir, makeStagingDir, writeFileAtomic } from '../core/fs.ts';
import { sha256File } from '../core/hash.ts';
import type { Artifact, Converter } from './outputs/converter.ts';
import type { OutputFormat } from './outputs/format-names.ts';
import { convertersFor } from './outputs/formats.ts';
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

/** What every stage may use besides its input. */
interface BuildEnv {
  opts: BuildOptions;
  log: (message: string) => void;
  /** Registers what to undo should a later stage fail (the staging directory). */
  onFailure: (undo: () => Promise<void>) => void;
}

/** validate: the spec, checked against the host, and where the build goes. */
interface Checked {
  spec: ResolvedSpec;
  /** The output directory, absolute. */
  outDir: string;
  converters: Converter[];
}

interface WithBinaries extends Checked {
  binaries: InstalledBinary[];
}

interface WithAddons extends WithBinaries {
  addons: BakedAddon[];
}

/** What the rootfs gets besides Debian packages (binaries, addons, preloaded images), all in the cache. */
interface Ingredients extends WithAddons {
  images: PreloadedImage[];
}

/** rootfs: the Debian base (mmdebstrap, cached) and the agent every image carries. */
interface Rootfs extends Ingredients {
  base: BaseResult;
  firstboot: FirstbootBinary;
}

/** overlays: what goes over the base, rendered against it, and the packages it holds. */
interface Overlaid extends Rootfs {
  entries: IndexedEntry[];
  overlays: Array<{ name: string; ops: OverlayOps }>;
  packages: Array<{ name: string; version: string; architecture: string }>;
}

/** pack: the finished rootfs.tar, in a staging directory beside the output directory. */
interface Packed extends Overlaid {
  staging: string;
  rootfsTar: string;
}

type BuiltArtifact = Artifact & { size: number; sha256: string };

/** outputs: every artifact the spec asks for, in the staging directory. */
interface Outputs extends Packed {
  artifacts: BuiltArtifact[];
}

/** manifest: manifest.json beside the artifacts, still in the staging directory. */
interface Manifested extends Outputs {
  manifest: string;
}

/** publish: everything under its final name. */
interface Published {
  spec: ResolvedSpec;
  outDir: string;
}

/** What a stage hands on, and the line its `stage-end` event shows. */
interface Staged<T> {
  next: T;
  detail: string;
}

type StageFn<In, Out> = (input: In, env: BuildEnv) => Promise<Staged<Out>>;

/** An ordered list of named stages, typed end to end: each takes what the one before it returned. */
class Stages<In, Out> {
  private constructor(private readonly list: ReadonlyArray<readonly [name: string, run: StageFn<never, unknown>]>) {}

  static first<In, Out>(name: string, run: StageFn<In, Out>): Stages<In, Out> {
    return new Stages([[name, run]]);
  }

  then<Next>(name: string, run: StageFn<Out, Next>): Stages<In, Next> {
    return new Stages([...this.list, [name, run]]);
  }

  get names(): string[] {
    return this.list.map(([name]) => name);
  }

  /** Runs the stages in order; `around` wraps each one (progress events, timings) and gets its detail. */
  async run(input: In, env: BuildEnv, around: (name: string, stage: () => Promise<string>) => Promise<void>): Promise<Out> {
    let value: unknown = input;
    for (const [name, run] of this.list)
      await around(name, async () => {
        const { next, detail } = await run(value as never, env);
        value = next;
        return detail;
      });
    return value as Out;
  }
}

async function validate(opts: BuildOptions): Promise<Staged<Checked>> {
  const spec = await loadSpecFile(opts.specFile);
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
  const out = path.resolve(opts.outDir);
  await checkOutputDir(out, 'choose another --out');
  return {
    next: { spec, outDir: out, converters },
    detail: `spec ${spec.name} (${spec.hash.slice(0, 12)}), outputs: ${spec.outputs.join(', ')}`,
  };
}

// Before mmdebstrap: a binary that fails its checksum stops the build in seconds, not minutes.
async function binaries(checked: Checked, env: BuildEnv): Promise<Staged<WithBinaries>> {
  const { spec } = checked;
  const binaries = await resolveBinaries(spec, env.opts.cacheDir, env.log);
  if (!spec.kubernetes.source)
    env.log(
      `kubernetes.source not set: ${spec.kubernetes.components.join(', ')} are not installed (name a release or bundle to bake them in)`,
    );
  return {
    next: { ...checked, binaries },
    detail: binaries.length
      ? binaries.map((b) => `${path.posix.basename(b.path)} ${(b.size / 2 ** 20).toFixed(1)} MiB`).join(', ')
      : 'none',
  };
}

async function addons(prev: WithBinaries, env: BuildEnv): Promise<Staged<WithAddons>> {
  const addons = await bakeAddons(prev.spec, prev.binaries, env.opts.cacheDir, env.log);
  return {
    next: { ...prev, addons },
    detail: addons.length ? addons.map((a) => `${a.addon.name} ${a.addon.chart.version} (${a.images.length} images)`).join(', ') : 'none',
  };
}

async function images(prev: WithAddons, env: BuildEnv): Promise<Staged<Ingredients>> {
  const images = await preloadImages(prev.spec, prev.binaries, env.opts.cacheDir, env.log, prev.addons);
  return {
    next: { ...prev, images },
    detail: images.length ? images.map((i) => `${i.ref} ${(i.size / 2 ** 20).toFixed(1)} MiB`).join(', ') : 'none',
  };
}

async function rootfs(ingredients: Ingredients, env: BuildEnv): Promise<Staged<Rootfs>> {
  const { spec } = ingredients;
  // the agent every image carries is found (or built from source) while mmdebstrap runs
  const [base, firstboot] = await Promise.all([
    ensureBase(baseRecipe(spec), {
      cacheDir: env.opts.cacheDir,
      noCache: env.opts.noCache,
      log: env.log,
      aptSources: deb822(spec),
    }),
    firstbootBinary(env.opts.cacheDir, env.log),
  ]);
  return {
    next: { ...ingredients, base, firstboot },
    detail: `${base.cached ? 'cache hit' : 'built'} ${base.key.slice(0, 12)}; kiln-firstboot ${firstboot.origin}`,
  };
}

async function overlays(rootfs: Rootfs): Promise<Staged<Overlaid>> {
  const entries = await indexTar(rootfs.base.tar);
  const view = baseView(rootfs.base.tar, entries);
  const overlays = await overlayOps({
    spec: rootfs.spec,
    base: view,
    firstboot: await readFile(rootfs.firstboot.path),
    binaries: rootfs.binaries,
    images: rootfs.images,
    addons: rootfs.addons,
  });
  const packages = parseDpkgStatus(await view.readText('var/lib/dpkg/status'));
  const files = overlays.reduce((n, o) => n + o.ops.files.length, 0);
  return {
    next: { ...rootfs, entries, overlays, packages },
    detail: `${overlays.length} overlays, ${files} paths over ${entries.length} base entries`,
  };
}

async function pack(overlaid: Overlaid, env: BuildEnv): Promise<Staged<Packed>> {
  const { base, entries: baseEntries } = overlaid;
  const view = baseView(base.tar, baseEntries);
  const entries = composeRootfs({
    baseTar: base.tar,
    base: baseEntries,
    overlays: overlaid.overlays,
    sourceDateEpoch: overlaid.spec.sourceDateEpoch,
    groupFile: await view.readText('etc/group'),
  });
  const staging = await makeStagingDir(overlaid.outDir);
  env.onFailure(() => rm(staging, { recursive: true, force: true }));
  const rootfsTar = path.join(staging, 'rootfs.tar');
  await writeTar(rootfsTar, entries);
  return { next: { ...overlaid, staging, rootfsTar }, detail: `${entries.length} entries` };
}

async function outputs(packed: Packed, env: BuildEnv): Promise<Staged<Outputs>> {
  const { spec, rootfsTar, staging } = packed;
  const work = new WorkArea(spec, rootfsTar, path.join(staging, 'work'), env.log);
  const produced = new Map<OutputFormat, Artifact[]>();
  try {
    for (const converter of packed.converters) {
      const t0 = Date.now();
      produced.set(converter.format, await converter.convert({ spec, rootfsTar, stagingDir: staging, work, produced, log: env.log }));
      env.log(`${converter.format}: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    }
  } finally {
    await work.cleanup();
  }
  const artifacts = await Promise.all(
    spec.outputs
      .flatMap((format) => produced.get(format as OutputFormat) ?? [])
      .map(async (a): Promise<BuiltArtifact> => {
        const file = path.join(staging, a.path);
        return { ...a, size: (await stat(file)).size, sha256: await sha256File(file) };
      }),
  );
  return {
    next: { ...packed, artifacts },
    detail: artifacts.map((a) => `${a.path} ${(a.size / 2 ** 20).toFixed(0)} MiB`).join(', '),
  };
}

async function manifest(outputs: Outputs): Promise<Staged<Manifested>> {
  const { spec, packages, artifacts } = outputs;
  const doc = {
    kilnVersion: KILN_VERSION,
    name: spec.name,
    specHash: spec.hash,
    sourceDateEpoch: spec.sourceDateEpoch,
    base: { ...spec.base, cacheKey: outputs.base.key },
    kubernetes: spec.kubernetes,
    binaries: outputs.binaries.map(({ path: p, sha256, size, origin }) => ({ path: p, sha256, size, origin })),
    // size: what each preloaded image adds to the image
    images: outputs.images.map(({ ref, digest, size, path: p }) => ({ ref, digest, size, path: p })),
    addons: outputs.addons.map(({ addon, chart }) => ({
      name: addon.name,
      chart: `${addon.chart.name}-${addon.chart.version}`,
      sha256: chart.sha256,
      size: chart.size,
      origin: chart.url,
    })),
    runtime: { engine: spec.runtime.engine, sandboxImage: spec.runtime.sandboxImage },
    overlays: outputs.overlays.map((o) => o.name),
    packages,
    artifacts,
  };
  const file = path.join(outputs.staging, 'manifest.json');
  await writeFileAtomic(file, `${JSON.stringify(doc, null, 2)}\n`);
  return { next: { ...outputs, manifest: file }, detail: `${packages.length} packages, ${artifacts.length} artifacts` };
}

async function publish({ spec, outDir, staging, artifacts, manifest }: Manifested): Promise<Staged<Published>> {
  // Artifacts first (a bundle such as pxe/ moves as one directory), manifest last: a manifest
  // under its final name means a complete build.
  const tops = [...new Set([...artifacts.map((a) => a.path.split('/')[0]!), 'rootfs.tar'])];
  for (const name of tops) {
    await rm(path.join(outDir, name), { recursive: true, force: true });
    await rename(path.join(staging, name), path.join(outDir, name));
  }
  await rename(manifest, path.join(outDir, 'manifest.json'));
  await rm(staging, { recursive: true, force: true });
  return { next: { spec, outDir }, detail: outDir };
}

export const STAGES = Stages.first('validate', validate)
  .then('binaries', binaries)
  .then('addons', addons)
  .then('images', images)
  .then('rootfs', rootfs)
  .then('overlays', overlays)
  .then('pack', pack)
  .then('outputs', outputs)
  .then('manifest', manifest)
  .then('publish', publish);

export async function build(opts: BuildOptions): Promise<{ outDir: string; timings: Record<string, number>; spec: ResolvedSpec }> {
  const started = Date.now();
  const timings: Record<string, number> = {};
  const undo: Array<() => Promise<void>> = [];
  let current = '';
  const now = () => new Date().toISOString();
  const env: BuildEnv = {
    opts,
    log: (message) => opts.reporter.emit({ event: 'log', stage: current, time: now(), message }),
    onFailure: (fn) => undo.push(fn),
  };
  let published: Published;
  try {
    published = await STAGES.run(opts, env, async (name, stage) => {
      current = name;
      const t0 = Date.now();
      opts.reporter.emit({ event: 'stage-start', stage: name, time: now() });
      const detail = await stage();
      const ms = (timings[name] = Date.now() - t0);
      opts.reporter.emit({ event: 'stage-end', stage: name, time: now(), ms, ...(detail ? { detail } : {}) });
    });
  } catch (error) {
    for (const fn of undo.reverse()) await fn();
    opts.reporter.emit({ event: 'error', stage: current, time: now(), message: error instanceof Error ? error.message : String(error) });
    throw error;
  }
  opts.reporter.emit({ event: 'done', time: now(), ms: Date.now() - started, outDir: published.outDir });
  return { outDir: published.outDir, timings, spec: published.spec };
}
