// Ignition resources (`contents`, `append` entries) → kiln Contents. data: URLs are decoded,
// decompressed and verified now; http(s) URLs stay remote and must be pinned by a hash
// (kiln policy: nothing unverified is written to a node).
import { gunzipBounded, TOO_LARGE } from '../../../core/compress.ts';
import { digestHex, parseHash, type PinnedHash } from '../../../core/hash.ts';
import { redactUrl } from '../../../core/redact.ts';
import type { Contents } from '../../model.ts';
import type { Report } from '../../../core/problem.ts';
import type { IgnitionResource } from './schema.ts';

const HASH_HINT =
  'use "sha256-<64 hex digits>" or "sha512-<128 hex digits>" (Ignition\'s <type>-<value> form), e.g. "sha256-" followed by the first field of `sha256sum FILE`';
/** Decodes an RFC 2397 data URL (base64 or percent-encoded); the media type is ignored. */
export function decodeDataUrl(url: string): { data: Buffer } | { error: string; hint: string } {
  const comma = url.indexOf(',');
  if (!url.startsWith('data:') || comma < 0)
    return { error: 'a data: URL needs a comma before its data', hint: 'write data:,<percent-encoded text> or data:;base64,<base64>' };
  const params = url.slice(5, comma).split(';');
  const base64 = params.length > 1 && params.at(-1)!.toLowerCase() === 'base64';
  const bytes = percentDecode(url.slice(comma + 1));
  if (!bytes)
    return {
      error: 'the data: URL has a "%" not followed by two hex digits',
      hint: 'percent-encode "%" itself as %25 (e.g. with `jq -sRr @uri`), or use ;base64',
    };
  if (!base64) return { data: bytes };
  const text = bytes.toString('latin1');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0)
    return {
      error: 'the data: URL is marked ;base64 but its data is not padded standard base64',
      hint: 'encode with `base64 -w0 FILE` (standard alphabet, "=" padding, no line breaks)',
    };
  return { data: Buffer.from(text, 'base64') };
}

function percentDecode(text: string): Buffer | undefined {
  const raw = Buffer.from(text, 'utf8');
  if (!text.includes('%')) return raw;
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== 0x25) {
      out.push(raw[i]!);
      continue;
    }
    const hex = raw.subarray(i + 1, i + 3).toString('latin1');
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
    out.push(parseInt(hex, 16));
    i += 2;
  }
  return Buffer.from(out);
}

const FETCHABLE_HINT =
  'serve it over https with verification.hash, or inline it as a data: URL (butane does this with `local:` and --files-dir)';

/**
 * A resource at `base` (JSON path) as kiln Contents; undefined when it has no source or a problem
 * was reported. Ignition checks a declared hash of inline data too, after decompression.
 */
export function contentsOf(resource: IgnitionResource, base: string, r: Report): Contents | undefined {
  const { source, compression, verification, httpHeaders } = resource;
  const hashText = verification?.hash ?? undefined;
  let ok = true;
  const fail = (path: string, message: string, hint: string) => {
    r.error(`${base}${path}`, message, hint);
    ok = false;
  };

  if (httpHeaders && httpHeaders.length > 0)
    fail(
      '/httpHeaders',
      'kiln does not send httpHeaders',
      'remote contents are pinned by hash and need no credentials: serve them without authentication, or inline them as a data: URL',
    );
  let gzip = false;
  if (compression === 'gzip') gzip = true;
  else if (compression)
    fail('/compression', `unsupported compression "${compression}"`, 'Ignition supports "gzip" only (or null for uncompressed data)');
  let hash: PinnedHash | undefined;
  if (hashText) {
    hash = parseHash(hashText);
    if (!hash) fail('/verification/hash', `"${hashText}" is not a valid hash`, HASH_HINT);
  }
  if (source === undefined || source === null) {
    if (compression || hashText)
      fail('/source', 'compression or verification without a source', 'add the source URL, or remove compression and verification');
    return undefined;
  }

  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(source)?.[1]?.toLowerCase();
  if (scheme === 'data') {
    const decoded = decodeDataUrl(source);
    if ('error' in decoded) return void fail('/source', decoded.error, decoded.hint);
    let data = decoded.data;
    if (gzip) {
      const inflated = gunzipBounded(data);
      if (inflated === 'too-large')
        return void fail('/source', `the data ${TOO_LARGE}`, 'serve big files from an http(s) source pinned by a hash');
      if (inflated === 'not-gzip')
        return void fail(
          '/source',
          'compression is "gzip" but the data is not gzip',
          'compress with `gzip -9 < FILE | base64 -w0` and use data:;base64,…, or drop compression',
        );
      data = inflated;
    }
    if (hash) {
      const actual = digestHex(data, hash.algorithm);
      if (actual !== hash.hex)
        fail(
          '/verification/hash',
          `hash mismatch: the data: URL's contents hash to ${hash.algorithm}-${actual}`,
          `Ignition verifies inline data against a declared hash too (the hash of the ${gzip ? 'decompressed ' : ''}contents); fix the hash or the data`,
        );
    }
    return ok ? { kind: 'inline', data } : undefined;
  }
  if (scheme === 'http' || scheme === 'https') {
    let url: URL | undefined;
    try {
      url = new URL(source);
    } catch {
      /* reported below */
    }
    if (!url?.hostname) return void fail('/source', `"${redactUrl(source)}" is not a valid URL`, 'e.g. https://example.com/files/app.conf');
    if (!hashText)
      fail(
        '/verification/hash',
        `remote source ${redactUrl(source)} is not pinned by a hash`,
        'kiln writes remote contents only when pinned: add "verification": {"hash": "sha256-<hex>"} (of the decompressed contents when compression is set)',
      );
    return ok ? { kind: 'remote', url: source, ...(hash ? { hash } : {}), ...(gzip ? { compression: 'gzip' as const } : {}) } : undefined;
  }
  if (scheme && ['tftp', 's3', 'gs', 'arn'].includes(scheme))
    return void fail('/source', `kiln fetches only data:, http: and https: sources, not ${scheme}:`, FETCHABLE_HINT);
  return void fail(
    '/source',
    `"${source.slice(0, 40)}" is not a URL kiln can read`,
    `${FETCHABLE_HINT}; Ignition needs a full URL, not a path`,
  );
}
