// A content-addressed store under the build cache: each blob is named by its SHA-256, so a second
// build finds what the first downloaded by checksum alone and never fetches it again.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { sha256File } from '../../core/hash.ts';

export interface Blob {
  file: string;
  sha256: string;
  size: number;
}

export class ChecksumMismatch extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`SHA-256 mismatch: expected ${expected}, got ${actual}`);
  }
}

export class BlobStore {
  constructor(readonly dir: string) {}

  file(sha256: string): string {
    return path.join(this.dir, 'sha256', sha256);
  }

  /** The blob with this checksum, re-hashed (a corrupt cache entry is dropped, not used). */
  async get(sha256: string): Promise<Blob | undefined> {
    const file = this.file(sha256);
    const st = await stat(file).catch(() => undefined);
    if (!st?.isFile()) return undefined;
    if ((await sha256File(file)) === sha256) return { file, sha256, size: st.size };
    await rm(file, { force: true });
    return undefined;
  }

  /** Stores a stream, hashing as it writes; with `expected`, a different hash stores nothing and throws ChecksumMismatch. */
  async put(source: Readable, expected?: string): Promise<Blob> {
    await mkdir(path.join(this.dir, 'sha256'), { recursive: true });
    const tmp = path.join(this.dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    try {
      source.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        size += chunk.length;
      });
      await pipeline(source, createWriteStream(tmp, { mode: 0o644 }));
      const sha256 = hash.digest('hex');
      if (expected !== undefined && sha256 !== expected) throw new ChecksumMismatch(expected, sha256);
      await rename(tmp, this.file(sha256));
      return { file: this.file(sha256), sha256, size };
    } finally {
      await rm(tmp, { force: true });
    }
  }
}
