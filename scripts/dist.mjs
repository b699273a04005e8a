#!/usr/bin/env node
// `npm run dist`: builds self-contained executables (Node 20 single-executable applications).
//
// For each entry in ENTRIES whose source exists:
//   1. esbuild bundles the TypeScript entry into one CommonJS file (SEA runs CommonJS only), with
//      __KILN_VERSION__ and __KILN_ASSETS__ (every file under overlays/, base64) defined in;
//   2. @yao-pkg/pkg's sea() injects the bundle into a copy of this node binary (postject);
//   3. the result is checked (`<exe> --version` must print `<name> <version>`) and renamed into place.
// Everything is written under a temporary name in dist/ first, so dist/<name> is always either the
// previous complete executable or the new one.
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** What to build; entries whose source is missing are skipped. `<output> --version` must print exactly `<name> <version>`. */
const ENTRIES = [
  { name: 'kiln', entry: 'builder/cli.ts', output: 'dist/kiln' },
  { name: 'kiln-firstboot', entry: 'firstboot/cli.ts', output: 'dist/kiln-firstboot' },
];

/** Directories whose files are embedded as assets (see builder/assets.ts). */
const ASSET_DIRS = ['overlays'];

class DistError extends Error {}

/** Throws, so `finally` blocks still remove temporary files; reported by the catch at the bottom. */
function fail(message) {
  throw new DistError(message);
}

/** Every regular file under `dir` as {path relative to root: {mode, data: base64}}, like readTree() in builder/assets.ts. */
async function collectAssets(dir) {
  const out = {};
  const abs = path.join(root, dir);
  if (!existsSync(abs)) return out;
  const entries = await readdir(abs, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath ?? e.path, e.name));
  for (const file of files.sort()) {
    const rel = path.relative(root, file).split(path.sep).join('/');
    out[rel] = { mode: (await stat(file)).mode & 0o7777, data: (await readFile(file)).toString('base64') };
  }
  return out;
}

/** esbuild: `entry` (relative to the repo root, or absolute) → one CommonJS file for node 20. */
export async function bundle(entry, outfile, define) {
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: false,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'silent',
    // import.meta does not exist in CommonJS: give its properties CommonJS meanings. In a SEA,
    // __filename is the executable itself.
    banner: { js: 'var __kiln_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
    define: {
      ...define,
      'import.meta.url': '__kiln_import_meta_url',
      'import.meta.filename': '__filename',
      'import.meta.dirname': '__dirname',
    },
  });
  for (const w of result.warnings) process.stderr.write(`dist: esbuild warning: ${w.text} (${w.location?.file}:${w.location?.line})\n`);
  // Any other use of import.meta would be `{}` at run time: refuse rather than ship a crash.
  const bad = result.warnings.filter((w) => w.id === 'empty-import-meta');
  if (bad.length > 0) fail(`${entry}: import.meta used in a way the CommonJS bundle cannot support (see warnings above)`);
}

/** Runs pkg's SEA builder and makes sure it really produced `output` (it swallows bake errors). */
async function makeSea(bundleFile, output) {
  // pkg runs `node --experimental-sea-config` and `npx postject` with its cwd in os.tmpdir().
  // - `node` must be this node: the blob has to match the binary it is injected into.
  // - npx looks for local bins only in node_modules/.bin of the cwd and its parents (not on PATH),
  //   so point TMPDIR into the repo's node_modules; offline, so a miss fails fast instead of
  //   trying the registry.
  const tmpRoot = path.join(root, 'node_modules', '.cache', 'kiln-dist');
  await mkdir(tmpRoot, { recursive: true });
  const saved = { ...process.env };
  Object.assign(process.env, {
    PATH: [path.join(root, 'node_modules', '.bin'), path.dirname(process.execPath), process.env.PATH].join(path.delimiter),
    TMPDIR: tmpRoot,
    npm_config_offline: 'true',
    npm_config_update_notifier: 'false',
  });
  try {
    const { default: sea } = require(path.join(root, 'node_modules/@yao-pkg/pkg/lib-es5/sea.js'));
    await sea(bundleFile, {
      // pkg resolves `output` against its temp cwd: pass it absolute.
      targets: [{ nodeRange: 'node20', platform: 'linux', arch: 'x64', output }],
      useLocalNode: true,
      seaConfig: { disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: false },
    });
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    await rm(tmpRoot, { recursive: true, force: true });
  }
  let st;
  try {
    st = await stat(output);
  } catch {
    fail(`pkg sea() did not produce ${path.relative(root, output)} (postject failed? try: npx postject --help)`);
  }
  if (!st.isFile() || st.size === 0) fail(`${output} is not a non-empty file`);
  if ((st.mode & 0o111) === 0) await chmod(output, st.mode | 0o755);
}

function verify(exe, name, version) {
  const r = spawnSync(exe, ['--version'], { encoding: 'utf8', cwd: '/', timeout: 60_000 });
  const expected = `${name} ${version}`;
  if (r.error || r.status !== 0 || r.stdout.trim() !== expected) {
    fail(
      `${exe} --version: expected "${expected}", got status ${r.status}${r.error ? ` (${r.error.message})` : ''}\n` +
        `stdout: ${r.stdout ?? ''}\nstderr: ${r.stderr ?? ''}`,
    );
  }
  if (r.stderr.trim() !== '') fail(`${exe} --version wrote to stderr (SEA warning not suppressed?):\n${r.stderr}`);
}

/** The esbuild `define`s every bundle gets: version and embedded assets. */
export async function bundleDefines() {
  const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
  const assets = {};
  for (const dir of ASSET_DIRS) Object.assign(assets, await collectAssets(dir));
  const define = {
    __KILN_VERSION__: JSON.stringify(pkg.version),
    // An object, even when empty: builder/assets.ts switches to embedded mode on `typeof === 'object'`.
    __KILN_ASSETS__: JSON.stringify(assets),
  };
  return { define, assets };
}

/** Waits for /tmp/kiln-dist/lock (a dead holder's lock is taken over). */
async function lockBundleDir() {
  const { open, readFile: read, unlink } = await import('node:fs/promises');
  await mkdir('/tmp/kiln-dist', { recursive: true });
  const lock = '/tmp/kiln-dist/lock';
  for (let i = 0; i < 1200; i++) {
    try {
      const fh = await open(lock, 'wx');
      await fh.write(String(process.pid));
      await fh.close();
      return () => unlink(lock).catch(() => {});
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      const holder = Number(await read(lock, 'utf8').catch(() => '0'));
      let alive = holder > 0;
      try {
        if (alive) process.kill(holder, 0);
      } catch {
        alive = false;
      }
      if (!alive) await unlink(lock).catch(() => {});
      else await new Promise((r) => setTimeout(r, 250));
    }
  }
  fail('timed out waiting for /tmp/kiln-dist/lock (another dist build?)');
}

/** `--only NAME` builds one entry; `--out FILE` puts it elsewhere (the builder caches kiln-firstboot). */
function parseCli(argv) {
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--only') opts.only = argv[++i];
    else if (argv[i] === '--out') opts.out = argv[++i];
    else fail(`unknown argument ${argv[i]} (usage: dist.mjs [--only NAME [--out FILE]])`);
  }
  if (opts.out && !opts.only) fail('--out needs --only NAME');
  return opts;
}

async function main() {
  const cli = parseCli(process.argv.slice(2));
  if (process.platform !== 'linux' || process.arch !== 'x64') fail(`builds linux-x64 executables from the local node; this is ${process.platform}-${process.arch}`);
  if (Number(process.versions.node.split('.')[0]) < 20) fail(`needs node >= 20 (this is ${process.version})`);
  const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
  const { define, assets } = await bundleDefines();
  const entries = ENTRIES.filter((e) => existsSync(path.join(root, e.entry)) && (!cli.only || e.name === cli.only)).map((e) => (cli.out ? { ...e, output: path.resolve(cli.out) } : e));
  if (entries.length === 0) fail(cli.only ? `no entry named ${cli.only}` : 'no entry point found');

  for (const e of entries) {
    const started = Date.now();
    const output = path.resolve(root, e.output);
    await mkdir(path.dirname(output), { recursive: true });
    const tmp = path.join(path.dirname(output), `.${path.basename(output)}.tmp-${process.pid}`);
    // The SEA blob records the bundle's path: a fixed one keeps the executable's bytes reproducible,
    // and a lock keeps two builds on this machine from sharing it.
    const bundleFile = `/tmp/kiln-dist/${e.name}.cjs`;
    const unlock = await lockBundleDir();
    let embedded = 0;
    try {
      await bundle(e.entry, bundleFile, define);
      // esbuild drops __KILN_ASSETS__ when nothing the entry imports reads assets.
      const text = await readFile(bundleFile, 'utf8');
      embedded = Object.keys(assets).filter((p) => text.includes(JSON.stringify(p))).length;
      await makeSea(bundleFile, tmp);
      verify(tmp, e.name, pkg.version);
      await rename(tmp, output);
    } finally {
      await rm(bundleFile, { force: true });
      await rm(tmp, { force: true });
      await unlock();
    }
    const size = (await stat(output)).size;
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    process.stdout.write(`dist: ${path.relative(root, output)} (${(size / 1048576).toFixed(1)} MiB, ${embedded} of ${Object.keys(assets).length} assets embedded, ${seconds}s)\n`);
  }
}

// Run as a script (`node scripts/dist.mjs`); importing it (tests) only exposes the helpers.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((error) => {
    process.stderr.write(`dist: ${error instanceof DistError ? error.message : (error?.stack ?? String(error))}\n`);
    process.exitCode = 1;
  });
}
