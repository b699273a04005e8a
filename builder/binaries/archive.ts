// Members out of a .tar, .tar.gz or .tgz (release tarballs of crictl, helm, the Cilium CLI, and
// kiln's own bundles), streamed into the blob store.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import type { BlobStore, Blob } from './blobs.ts';

export class ArchiveError extends Error {}

async function isGzip(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(2);
    await fh.read(head, 0, 2, 0);
    return head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** Regular-file members `pick` accepts (names without a leading ./), each stored as a blob. */
export async function readArchive(file: string, pick: (member: string) => boolean, store: BlobStore): Promise<Map<string, Blob>> {
  const found = new Map<string, Blob>();
  const names: string[] = [];
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const name = header.name.replace(/^\.\//, '');
    names.push(name);
    if (header.type === 'file' && pick(name)) {
      store.put(stream as unknown as Readable).then((blob) => (found.set(name, blob), next()), next);
    } else {
      stream.on('end', () => next());
      stream.resume();
    }
  });
  try {
    const gz = await isGzip(file);
    await (gz ? pipeline(createReadStream(file), createGunzip(), extract) : pipeline(createReadStream(file), extract));
  } catch (cause) {
    throw new ArchiveError(`${file} is not a readable tar archive: ${(cause as Error).message}`, { cause });
  }
  if (names.length === 0) throw new ArchiveError(`${file} is an empty or unreadable tar archive`);
  return found;
}

/** One member, or an ArchiveError naming what the archive holds instead. */
export async function extractMember(file: string, member: string, store: BlobStore): Promise<Blob> {
  const found = await readArchive(file, (n) => n === member, store);
  const blob = found.get(member);
  if (!blob) throw new ArchiveError(`has no file ${member}`);
  return blob;
}
