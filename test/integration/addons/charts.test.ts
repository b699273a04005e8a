// Charts baked from a Helm repository on loopback: verified against the index's digest or the
// spec's pin; a pinned chart in the cache needs no network at all.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalogue, type Addon } from '../../../builder/addons/catalogue.ts';
import { bakeChart } from '../../../builder/addons/charts.ts';
import { BlobStore } from '../../../builder/binaries/blobs.ts';
import { KilnError } from '../../../core/errors.ts';
import { tempDir } from '../../helpers/build.ts';
import { makeChartRepo } from '../../helpers/charts.ts';
import { serveStatic, type StaticServer } from '../../helpers/http.ts';

const work = tempDir('kiln-charts-');
const at = { file: 'spec.yaml', path: '/addons/0' };
let server: StaticServer;
let addon: Addon;
let repo: string;
let sha: string;

beforeAll(async () => {
  addon = (await loadCatalogue()).get('metrics-server')!;
  sha = makeChartRepo(path.join(work, 'repo'), 'metrics-server', addon.chart.version);
  makeChartRepo(path.join(work, 'lying'), 'metrics-server', addon.chart.version, { digest: 'a'.repeat(64) });
  server = await serveStatic(work, '/charts');
  repo = `http://127.0.0.1:${server.port}/charts/repo`;
});

afterAll(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

const fail = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as KilnError,
  );

describe('bakeChart', () => {
  it("downloads the catalogue's chart version from the repository, verified against the index", async () => {
    server.requests.length = 0;
    const store = new BlobStore(path.join(work, 'cache-1'));
    const chart = await bakeChart(addon, { repository: repo }, store, at, () => {});
    expect(chart.sha256).toBe(sha);
    expect(chart.url).toBe(`${repo}/metrics-server-${addon.chart.version}.tgz`);
    expect(server.requests).toEqual(['GET /charts/repo/index.yaml', `GET /charts/repo/metrics-server-${addon.chart.version}.tgz`]);
  });

  it('refuses an archive that is not what the index says, and a pin the index contradicts', async () => {
    const lying = await fail(
      bakeChart(
        addon,
        { repository: `http://127.0.0.1:${server.port}/charts/lying` },
        new BlobStore(path.join(work, 'cache-2')),
        at,
        () => {},
      ),
    );
    expect(lying).toBeInstanceOf(KilnError);
    expect(lying!.path).toBe('/addons/0');
    expect(lying!.message).toContain(`SHA-256 mismatch: expected ${'a'.repeat(64)}, got `);
    const pinned = await fail(
      bakeChart(addon, { repository: repo, pin: 'b'.repeat(64) }, new BlobStore(path.join(work, 'cache-3')), at, () => {}),
    );
    expect(pinned!.message).toBe(`addon metrics-server: the spec pins sha256 ${'b'.repeat(64)}, the repository index says ${sha}`);
  });

  it('a pinned chart already in the cache is used without asking the repository', async () => {
    const store = new BlobStore(path.join(work, 'cache-4'));
    await bakeChart(addon, { repository: repo, pin: sha }, store, at, () => {});
    server.requests.length = 0;
    const again = await bakeChart(addon, { repository: 'http://127.0.0.1:9/unreachable', pin: sha }, store, at, () => {});
    expect(again.sha256).toBe(sha);
    expect(server.requests).toEqual([]);
  });

  it('names the missing version and the unreachable repository', async () => {
    const missing = await fail(
      bakeChart(
        { ...addon, chart: { ...addon.chart, version: '0.0.1' } },
        { repository: repo },
        new BlobStore(path.join(work, 'cache-5')),
        at,
        () => {},
      ),
    );
    expect(missing!.message).toBe(`addon metrics-server: the repository has no metrics-server 0.0.1 (newest: ${addon.chart.version})`);
    const down = await fail(
      bakeChart(addon, { repository: 'http://127.0.0.1:9/charts' }, new BlobStore(path.join(work, 'cache-6')), at, () => {}),
    );
    expect(down!.message).toMatch(/^addon metrics-server: http:\/\/127\.0\.0\.1:9\/charts\/index\.yaml: /);
    expect(down!.hint).toMatch(/pin sha256 and build once online/);
  });
});
