// Hashing both programs share: pinned hashes (Ignition's `sha256-<hex>` form), digests of bytes and
// files, verification, and URL redaction (a URL that names what was hashed may carry credentials).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { KilnError } from './errors.ts';

export interface PinnedHash {
  algorithm: 'sha256' | 'sha512';
  hex: string;
}

/** `sha256-<hex>` / `sha512-<hex>` (Ignition's form; hex lower-cased); undefined when malformed. */
export function parseHash(text: string): PinnedHash | undefined {
  const m = /^(sha256|sha512)-([0-9a-fA-F]+)$/.exec(text);
  if (!m) return undefined;
  const algorithm = m[1] as PinnedHash['algorithm'];
  return m[2]!.length === (algorithm === 'sha256' ? 64 : 128) ? { algorithm, hex: m[2]!.toLowerCase() } : undefined;
}

export function digestHex(data: Buffer | string, algorithm: PinnedHash['algorithm'] = 'sha256'): string {
  return createHash(algorithm).update(data).digest('hex');
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function verifyHash(data: Buffer, hash: PinnedHash, what: string): void {
  const actual = digestHex(data, hash.algorithm);
  if (actual !== hash.hex)
    throw new KilnError(`${what}: ${hash.algorithm} mismatch (got ${actual.slice(0, 16)}…, expected ${hash.hex.slice(0, 16)}…)`, {
      hint: 'the content changed since the hash was pinned, or the hash is for another file; recompute it with sha256sum',
    });
}

/**
 * URLs may carry credentials or tokens in user-info or the query: never log those parts. The scheme
 * is matched in any case (`HTTPS://` is a URL to fetchers); a URL that does not parse keeps only its
 * scheme, since where its credentials end cannot be told.
 */
export function redactUrl(location: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(location);
  if (!scheme) return location;
  try {
    const u = new URL(location);
    const auth = u.username || u.password ? '***@' : '';
    return `${u.protocol}//${auth}${u.host}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return `${scheme[1]!.toLowerCase()}://… (not a valid URL)`;
  }
}
