// Fetching over a real loopback HTTP server: pinned hashes, optional files, redaction.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchBytes } from '../../../../firstboot/metadata/fetch.ts';
import { parseHash } from '../../../../core/hash.ts';
import { redactUrl } from '../../../../core/redact.ts';
import { serveStatic, type StaticServer } from '../../../helpers/http.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-fetch-'));
const body = Buffer.from('#cloud-config\nhostname: fetched\n');
const sha256 = createHash('sha256').update(body).digest('hex');
let server: StaticServer;
let base: string;

beforeAll(async () => {
  writeFileSync(path.join(dir, 'user-data'), body);
  server = await serveStatic(dir, '/seed');
  base = `http://127.0.0.1:${server.port}/seed`;
});
afterAll(() => server.close());

describe('fetchBytes', () => {
  it('returns the body when the pinned hash matches', async () => {
    expect(await fetchBytes(`${base}/user-data`, { hash: parseHash(`sha256-${sha256}`)! })).toEqual(body);
  });

  it('refuses a body whose hash differs, naming both hashes', async () => {
    const wrong = parseHash(`sha256-${'0'.repeat(64)}`)!;
    await expect(fetchBytes(`${base}/user-data`, { hash: wrong })).rejects.toThrow(
      /sha256 mismatch \(got [0-9a-f]{16}…, expected 0{16}…\)/,
    );
  });

  it('treats a 404 as absent for optional seed files, and as an error otherwise', async () => {
    expect(await fetchBytes(`${base}/network-config`, { optional: true })).toBeUndefined();
    await expect(fetchBytes(`${base}/network-config`, { attempts: 1 })).rejects.toThrow(/cannot fetch .*network-config/);
  });

  it('gives up after the attempts it was allowed when nothing listens', async () => {
    const started = Date.now();
    await expect(fetchBytes('http://127.0.0.1:9/none', { attempts: 2, timeoutMs: 1000 })).rejects.toThrow(/cannot fetch/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('parses only well-formed sha256/sha512 hashes', () => {
    expect(parseHash(`sha512-${'a'.repeat(128)}`)).toEqual({ algorithm: 'sha512', hex: 'a'.repeat(128) });
    expect(parseHash(`sha256-${'a'.repeat(63)}`)).toBeUndefined();
    expect(parseHash(`md5-${'a'.repeat(32)}`)).toBeUndefined();
    // upper-case hex is Ignition's too: accepted, compared lower-cased
    expect(parseHash(`sha256-${'A'.repeat(64)}`)).toEqual({ algorithm: 'sha256', hex: 'a'.repeat(64) });
    expect(parseHash(`sha256-${'G'.repeat(64)}`)).toBeUndefined();
  });

  it('redacts credentials and query strings', () => {
    expect(redactUrl('https://u:p@h.example/x.ign?token=1')).toBe('https://***@h.example/x.ign?…');
    expect(redactUrl('/srv/x.ign')).toBe('/srv/x.ign');
    // any case of scheme, and a URL that does not parse, keep no credentials
    expect(redactUrl('HTTPS://u:s3cret@h.example/x?token=abc')).toBe('https://***@h.example/x?…');
    expect(redactUrl('http://admin:pw@[::1/x')).toBe('http://…');
  });
});
