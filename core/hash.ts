// Hashing both programs share: pinned hashes (Ignition's `sha256-<hex>` form), digests of bytes and
// files, and verification.
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
