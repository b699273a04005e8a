// `npm run dist` builds dist/kiln, a single executable that needs neither node nor the repository.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { copyFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTree } from '../../builder/assets.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const version = (JSON.parse(await readFile(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version;

let dir: string;

/** Runs `./kiln ARGS` in `dir` with no node, no node_modules and no repository in reach. */
function kiln(...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(path.join(dir, 'kiln'), args, { cwd: dir, encoding: 'utf8', env: { PATH: '/nonexistent', HOME: dir }, timeout: 60_000 });
}

beforeAll(async () => {
  const started = Date.now();
  // not spawnSync: a worker blocked past vitest's 60 s RPC deadline fails the whole run
  const r = await execa(process.execPath, [path.join(repo, 'scripts/dist.mjs')], { cwd: repo, reject: false });
  expect(r.exitCode, `scripts/dist.mjs failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
  console.log(`npm run dist: ${((Date.now() - started) / 1000).toFixed(1)}s — ${r.stdout.trim().split('\n').at(-1)}`);
  dir = await mkdtemp(path.join(tmpdir(), 'kiln-dist-'));
  await copyFile(path.join(repo, 'dist/kiln'), path.join(dir, 'kiln'));
  await copyFile(path.join(repo, 'dist/kiln-firstboot'), path.join(dir, 'kiln-firstboot'));
  spawnSync('chmod', ['755', path.join(dir, 'kiln'), path.join(dir, 'kiln-firstboot')]);
  await cp(path.join(repo, 'test/fixtures/firstboot/vm/nocloud'), path.join(dir, 'seed'), { recursive: true });
  await cp(path.join(repo, 'test/fixtures/firstboot/malformed/ign-spec-2-2'), path.join(dir, 'bad-seed'), { recursive: true });
  await copyFile(path.join(repo, 'images/debian-bookworm.yaml'), path.join(dir, 'spec.yaml'));
  await writeFile(
    path.join(dir, 'bad.yaml'),
    'apiVersion: kiln.dev/v1alpha1\nkind: Image\nname: Not_A_Name\nbase: {distro: debian, suite: bookworm, arch: amd64}\n',
  );
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('dist/kiln outside the repository', () => {
  it('is not inside the repository', () => {
    expect(path.relative(repo, dir).startsWith('..')).toBe(true);
  });

  it('--version prints the package version (define applied) and no SEA warning', () => {
    const r = kiln('--version');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`kiln ${version}\n`);
    expect(r.stderr).toBe('');
  });

  it('validates the default spec', () => {
    const r = kiln('validate', 'spec.yaml');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^spec\.yaml: valid/);
  });

  it('prints the image schema as JSON', () => {
    const r = kiln('schema', 'image');
    expect(r.status, r.stderr).toBe(0);
    const schema = JSON.parse(r.stdout) as { properties?: Record<string, unknown> };
    expect(schema.properties).toHaveProperty('base');
  });

  it('exits 2 on an invalid spec, with the problems on stderr', () => {
    const r = kiln('validate', 'bad.yaml');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml: \d+ problems?/);
  });

  it('exits 2 on an unknown command', () => {
    expect(kiln('no-such-command').status).toBe(2);
  });
});

describe('dist/kiln-firstboot outside the repository', () => {
  const firstboot = (...args: string[]) =>
    spawnSync(path.join(dir, 'kiln-firstboot'), args, {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin', HOME: dir },
      timeout: 60_000,
    });

  it('--version prints exactly "kiln-firstboot <version>"', () => {
    const r = firstboot('--version');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`kiln-firstboot ${version}\n`);
    expect(r.stderr).toBe('');
  });

  it('validates a NoCloud seed directory, and refuses a broken Ignition config with exit 2', () => {
    const ok = firstboot('validate', 'seed');
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/seed: valid/);
    const bad = firstboot('validate', '--json', 'bad-seed/config.ign');
    expect(bad.status).toBe(2);
    const result = JSON.parse(bad.stdout) as { valid: boolean; problems: Array<{ message: string }> };
    expect(result.valid).toBe(false);
    expect(result.problems[0]!.message).toMatch(/2\.x/);
  });
});

describe('bundling (scripts/dist.mjs bundle())', () => {
  it('embeds overlays/ and addons/ and survives import.meta.url in CommonJS', async () => {
    // The same bundle() and defines as dist/kiln, on a probe that reads the assets; run with plain
    // node from a directory outside the repo, so reading from disk would find nothing.
    const distScript = path.join(repo, 'scripts/dist.mjs');
    const { bundle, bundleDefines } = await import(distScript);
    const { define } = await bundleDefines();
    const probeDir = await mkdtemp(path.join(tmpdir(), 'kiln-probe-'));
    try {
      const assetsTs = path.join(repo, 'builder/assets.ts');
      await writeFile(
        path.join(probeDir, 'probe.ts'),
        `import { listAssets, repoRoot } from ${JSON.stringify(assetsTs)};
         import { createHash } from 'node:crypto';
         (async () => {
           const assets = [...(await listAssets('overlays')), ...(await listAssets('addons'))];
           const out = assets.map((a) => ({ path: a.path, mode: a.mode, sha256: createHash('sha256').update(a.data).digest('hex') }));
           process.stdout.write(JSON.stringify({ root: repoRoot(), assets: out }));
         })();`,
      );
      await bundle(path.join(probeDir, 'probe.ts'), path.join(probeDir, 'probe.cjs'), define);
      const r = spawnSync(process.execPath, ['probe.cjs'], { cwd: probeDir, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const got = JSON.parse(r.stdout) as { root: string; assets: Array<{ path: string; mode: number; sha256: string }> };
      expect(got.root).toBe(path.dirname(probeDir)); // import.meta.url = the bundle's own file URL
      const onDisk = [...(await readTree(repo, 'overlays').catch(() => [])), ...(await readTree(repo, 'addons').catch(() => []))].map(
        (a) => ({
          path: a.path,
          mode: a.mode,
          sha256: createHash('sha256').update(a.data).digest('hex'),
        }),
      );
      expect(onDisk.filter((a) => a.path.startsWith('overlays/')).length, 'overlays/ has files to embed').toBeGreaterThan(0);
      expect(onDisk.filter((a) => a.path.startsWith('addons/')).length, 'addons/ has files to embed').toBeGreaterThan(0);
      expect(got.assets).toEqual(onDisk);
    } finally {
      await rm(probeDir, { recursive: true, force: true });
    }
  });
});
