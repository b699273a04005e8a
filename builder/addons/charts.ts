// Helm charts baked into the image: found in their repository's index.yaml, downloaded and
// verified against the digest the index publishes (or the sha256 the spec pins, which also lets a
// cached chart be reused with no network at all).
import { KilnError, ValidationError } from '../../core/errors.ts';
import { readYaml } from '../../core/yaml.ts';
import { type BlobStore, ChecksumMismatch, type Blob } from '../binaries/blobs.ts';
import { FetchError, fetchText, openUrl } from '../binaries/fetch.ts';
import type { Addon } from './catalogue.ts';

export interface BakedChart extends Blob {
  /** Where it was downloaded from (or "cache" when the pinned blob was already there). */
  url: string;
}

interface IndexEntry {
  version?: unknown;
  digest?: unknown;
  urls?: unknown;
}

/** The chart's download URL and digest from a repository index (pure). */
export function findInIndex(
  indexText: string,
  repository: string,
  name: string,
  version: string,
): { url: string; sha256: string } | { error: string } {
  let index: { entries?: Record<string, IndexEntry[]> };
  try {
    // failsafe: every scalar a string (a digest of digits only must not become a number); the
    // shared reader bounds aliases and nesting (the index comes from the network)
    index = readYaml(indexText, 'index.yaml', { failsafe: true }).value as typeof index;
  } catch (e) {
    const first = e instanceof ValidationError ? e.problems[0] : undefined;
    if (!first) throw e;
    return { error: `index.yaml ${first.line === undefined ? '' : `line ${first.line}: `}${first.message}` };
  }
  const versions = index?.entries?.[name];
  if (!Array.isArray(versions)) return { error: `the repository has no chart ${name}` };
  const entry = versions.find((e) => e?.version === version);
  if (!entry)
    return {
      error: `the repository has no ${name} ${version} (newest: ${versions
        .slice(0, 3)
        .map((e) => String(e?.version))
        .join(', ')})`,
    };
  if (typeof entry.digest !== 'string' || !/^[0-9a-f]{64}$/.test(entry.digest))
    return { error: `the index gives ${name} ${version} no sha256 digest` };
  const urls = Array.isArray(entry.urls) ? entry.urls.filter((u): u is string => typeof u === 'string') : [];
  if (urls.length === 0) return { error: `the index gives ${name} ${version} no download URL` };
  return { url: new URL(urls[0]!, `${repository}/`).href, sha256: entry.digest };
}

/** `repository` overrides the catalogue's (a site's mirror of the chart repository). */
export async function bakeChart(
  addon: Addon,
  opts: { pin?: string | undefined; repository?: string | undefined },
  store: BlobStore,
  at: { file: string; path: string },
  log: (m: string) => void,
): Promise<BakedChart> {
  const { name, version } = addon.chart;
  const repository = opts.repository ?? addon.chart.repository;
  const pin = opts.pin;
  const fail = (message: string, hint: string, cause?: unknown) =>
    new KilnError(`addon ${addon.name}: ${message}`, { ...at, hint, cause, exitCode: 2 });
  if (pin) {
    const hit = await store.get(pin);
    if (hit) return { ...hit, url: 'cache' };
  }
  try {
    const found = findInIndex(await fetchText(`${repository}/index.yaml`, 64 * 2 ** 20), repository, name, version);
    if ('error' in found) throw fail(found.error, `the catalogue pins ${name} ${version} from ${repository}`);
    if (pin && pin !== found.sha256)
      throw fail(
        `the spec pins sha256 ${pin}, the repository index says ${found.sha256}`,
        'the chart was republished or the pin is for another version: check before changing the pin',
      );
    const hit = await store.get(found.sha256);
    if (hit) return { ...hit, url: found.url };
    log(`downloading ${found.url}`);
    return { ...(await store.put(await openUrl(found.url), found.sha256)), url: found.url };
  } catch (cause) {
    if (cause instanceof KilnError) throw cause;
    if (cause instanceof ChecksumMismatch)
      throw fail(
        `${cause.message} for ${name}-${version}.tgz`,
        'the download is not what the repository index says: nothing was installed',
        cause,
      );
    if (cause instanceof FetchError)
      throw fail(
        cause.message,
        'check that this machine reaches the chart repository, or pin sha256 and build once online to fill the cache',
        cause,
      );
    throw cause;
  }
}
