// Same inputs, same bytes; overlay-only changes reuse the cached base; killed or invalid builds
// leave nothing under a final name.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256File } from '../../core/hash.ts';
import { indexTar } from '../../builder/tar/read.ts';
import { kiln, kilnBuild, progressEvents, repoRoot, rootfsOnlySpec, stagesEnded, tempDir, testCacheDir } from '../helpers/build.ts';
import type { SpecDoc } from '../helpers/specs.ts';

const work = tempDir('kiln-repro-it-');
const spec = rootfsOnlySpec(work);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const out = (name: string) => path.join(work, name);
const manifest = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));

function variant(name: string, edit: (doc: SpecDoc) => void): string {
  const doc = YAML.parse(readFileSync(spec, 'utf8'));
  delete doc.$schema;
  edit(doc);
  const file = path.join(work, `${name}.yaml`);
  writeFileSync(file, YAML.stringify(doc));
  return file;
}

describe('reproducible rootfs.tar', () => {
  beforeAll(async () => {
    await kilnBuild(spec, out('first'));
  });

  it('a rebuild from the cache and a --no-cache rebuild give byte-identical output', async () => {
    await kilnBuild(spec, out('cached'));
    const first = await sha256File(path.join(out('first'), 'rootfs.tar'));
    expect(await sha256File(path.join(out('cached'), 'rootfs.tar'))).toBe(first);
    // --no-cache runs mmdebstrap again against the same mirror state
    await kilnBuild(spec, out('nocache'), ['--no-cache']);
    expect(await sha256File(path.join(out('nocache'), 'rootfs.tar'))).toBe(first);
    expect(readFileSync(path.join(out('nocache'), 'manifest.json'), 'utf8')).toBe(
      readFileSync(path.join(out('first'), 'manifest.json'), 'utf8'),
    );
  });

  it('an overlay-only change reuses the cached base and changes only the overlay files', async () => {
    const changed = variant('sysctl-change', (d) => {
      d.node.sysctls = { 'vm.max_map_count': 262144 };
    });
    const t0 = Date.now();
    await kilnBuild(changed, out('overlay-change'));
    const seconds = (Date.now() - t0) / 1000;
    expect(manifest(out('overlay-change')).base.cacheKey).toBe(manifest(out('first')).base.cacheKey);
    const [a, b] = await Promise.all([
      indexTar(path.join(out('first'), 'rootfs.tar')),
      indexTar(path.join(out('overlay-change'), 'rootfs.tar')),
    ]);
    // header fields, xattrs and content hash of each entry
    const key = (tar: string) => (e: (typeof a)[number]) => {
      const content = Buffer.alloc(e.size);
      const fd = openSync(tar, 'r');
      readSync(fd, content, 0, e.size, e.offset);
      closeSync(fd);
      return JSON.stringify({
        ...e,
        offset: undefined,
        xattrs: e.xattrs ? [...e.xattrs].map(([k, v]) => [k, v.toString('hex')]) : undefined,
        sha: createHash('sha256').update(content).digest('hex'),
      });
    };
    const [keyA, keyB] = [key(path.join(out('first'), 'rootfs.tar')), key(path.join(out('overlay-change'), 'rootfs.tar'))];
    const before = new Map(a.map((e) => [e.name, keyA(e)]));
    expect(b.map((e) => e.name)).toEqual(a.map((e) => e.name));
    const differing = b.filter((e) => before.get(e.name) !== keyB(e)).map((e) => e.name);
    expect(differing.sort()).toEqual(['etc/kiln/image.json', 'etc/sysctl.d/90-kiln-kubernetes.conf']);
    console.log(`overlay-only rebuild: ${seconds.toFixed(1)} s`);
  });
});

describe('nothing half-written', () => {
  it('an invalid spec exits 2 before any work: no output directory, no cache entry', async () => {
    const bad = variant('bad', (d) => {
      d.outputs = [{ format: 'vmdk' }];
      d.node.journald.systemMaxUse = '20%';
    });
    const cache = path.join(work, 'empty-cache');
    const r = await kiln(['build', bad, '--out', out('never'), '--cache-dir', cache], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/\/outputs\/0\/format: "vmdk"/);
    expect(r.stderr).toMatch(/\/node\/journald\/systemMaxUse/);
    expect(r.stderr).toMatch(/bad\.yaml:\d+:\d+/);
    expect(existsSync(out('never'))).toBe(false);
    expect(existsSync(cache)).toBe(false);
  });

  it('a disk too small for a raw output is refused up front, naming /disk/size', async () => {
    const small = variant('small-disk', (d) => {
      d.outputs = [{ format: 'raw' }];
      d.disk = { size: '100M' };
    });
    const cache = path.join(work, 'small-disk-cache');
    const r = await kiln(['build', small, '--out', out('small'), '--cache-dir', cache], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/\/disk\/size/);
    expect(existsSync(out('small'))).toBe(false);
    expect(existsSync(cache)).toBe(false);
  });

  it('a killed build leaves no file under a final name, and the next build clears its leftovers', async () => {
    const dir = out('killed');
    mkdirSync(dir);
    // node itself (not npx), so the signal reaches the build process
    const child = execa(
      process.execPath,
      ['--import', 'tsx', path.join(repoRoot, 'builder/cli.ts'), 'build', spec, '--out', dir, '--cache-dir', testCacheDir, '--json'],
      { reject: false, buffer: false },
    );
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 600_000;
      // kill while rootfs.tar is being written into the staging directory
      const poll = setInterval(() => {
        const staging = readdirSync(dir).find((n) => n.startsWith('.kiln-staging-'));
        if (staging && existsSync(path.join(dir, staging, 'rootfs.tar'))) {
          clearInterval(poll);
          child.kill('SIGKILL');
          resolve();
        } else if (Date.now() > deadline || child.exitCode !== null) {
          clearInterval(poll);
          reject(new Error('the build never reached the pack stage'));
        }
      }, 20);
    });
    await child;
    expect(readdirSync(dir).filter((n) => !n.startsWith('.kiln-staging-'))).toEqual([]);
    await kilnBuild(spec, dir);
    expect(readdirSync(dir).sort()).toEqual(['manifest.json', 'rootfs.tar']);
  });
});

describe('progress', () => {
  it('--json prints one machine-readable event per line with stage timings', async () => {
    const r = await kiln(['build', spec, '--out', out('json'), '--cache-dir', testCacheDir, '--json']);
    const events = progressEvents(r.stdout);
    const ends = stagesEnded(r.stdout);
    expect(ends).toEqual(['validate', 'binaries', 'addons', 'images', 'rootfs', 'overlays', 'pack', 'outputs', 'manifest', 'publish']);
    expect(events.at(-1)).toMatchObject({ event: 'done', outDir: out('json') });
    for (const e of events.filter((x) => x.event === 'stage-end')) expect(typeof e.ms).toBe('number');
  });
});
