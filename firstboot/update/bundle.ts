// Reading an update bundle on the node: the manifest and its signature come first and must verify
// against a key the image trusts (and be newer than what runs) before a byte of any part is read;
// each part must then be the manifest's next one, of its size, with its sha256. A bundle is read
// twice: once to verify every part (nothing is written), then again into the slot, hashed again
// on the way (the file could change between the two reads).
import { createHash, type KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { KilnError } from '../../core/errors.ts';
import {
  MANIFEST_ENTRY,
  MANIFEST_MAX_BYTES,
  SIGNATURE_ENTRY,
  SIGNATURE_MAX_BYTES,
  verifyManifest,
  type Manifest,
  type RunningImage,
} from '../../node/update/manifest.ts';

export type ManifestPart = Manifest['parts'][number];

/** Where a verified bundle's parts go (the inactive slot): each part's bytes, in order. */
export type PartSink = (part: ManifestPart, data: Readable) => Promise<void>;

const damaged = (message: string, hint = 'the bundle is damaged or not one kiln build wrote: fetch or build it again') =>
  new KilnError(message, { hint, exitCode: 2 });

async function readSmall(entry: AsyncIterable<unknown>, limit: number, what: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of entry) {
    size += (chunk as Buffer).length;
    if (size > limit) throw damaged(`the bundle's ${what} is larger than ${limit} bytes`);
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

const entryName = (header: tar.Header) => header.name.replace(/^\.\//, '');

/**
 * Reads the bundle at `file`: returns its manifest once the signature and every part verify. With
 * `sink`, each part's bytes go there as they are read; a throw then means the sink's copy is not
 * to be used.
 */
export async function readBundle(
  file: string,
  trusted: KeyObject[],
  running: RunningImage | undefined,
  sink?: PartSink,
): Promise<Manifest> {
  const extract = tar.extract();
  const input = createReadStream(file);
  const feeding = pipeline(input, extract).catch((cause: Error) => {
    throw damaged(`the bundle ${file} is not a whole tar archive (${cause.message})`, 'a truncated download? fetch it again');
  });
  let manifestBytes: Buffer | undefined;
  let manifest: Manifest | undefined;
  let index = 0;
  try {
    for await (const entry of extract) {
      const name = entryName(entry.header);
      if (index === 0) {
        if (name !== MANIFEST_ENTRY) throw damaged(`the bundle starts with ${JSON.stringify(name)}, not ${MANIFEST_ENTRY}`);
        manifestBytes = await readSmall(entry, MANIFEST_MAX_BYTES, MANIFEST_ENTRY);
      } else if (index === 1) {
        if (name !== SIGNATURE_ENTRY) throw damaged(`the bundle's second entry is ${JSON.stringify(name)}, not ${SIGNATURE_ENTRY}`);
        manifest = verifyManifest(manifestBytes!, await readSmall(entry, SIGNATURE_MAX_BYTES, SIGNATURE_ENTRY), trusted, running);
      } else {
        const part = manifest!.parts[index - 2];
        if (!part) throw damaged(`the bundle holds ${JSON.stringify(name)}, which its signed manifest does not list`);
        if (name !== part.name || entry.header.type !== 'file')
          throw damaged(`the bundle's part ${index - 1} is ${JSON.stringify(name)}, not the manifest's ${part.name}`);
        if (entry.header.size !== part.bytes)
          throw damaged(`the bundle's ${part.name} is ${entry.header.size} bytes, not the manifest's ${part.bytes}`);
        const hash = createHash('sha256');
        const hashed = async function* () {
          for await (const chunk of entry) {
            hash.update(chunk as Buffer);
            yield chunk as Buffer;
          }
        };
        if (sink) await sink(part, Readable.from(hashed()));
        else for await (const chunk of hashed()) void chunk;
        if (hash.digest('hex') !== part.sha256)
          throw damaged(
            `the bundle's ${part.name} does not match its sha256 in the signed manifest`,
            'the part was changed after signing, or the file is damaged: nothing of it is used',
          );
      }
      index++;
    }
    await feeding;
  } catch (error) {
    input.destroy();
    await feeding.catch(() => {});
    if (error instanceof KilnError) throw error;
    throw damaged(`the bundle ${file} is not a whole tar archive (${(error as Error).message})`, 'a truncated download? fetch it again');
  }
  if (!manifest) throw damaged(`the bundle ${file} ends before its manifest and signature`, 'a truncated download? fetch it again');
  if (index - 2 < manifest.parts.length)
    throw damaged(`the bundle ${file} ends before its part ${manifest.parts[index - 2]!.name}`, 'a truncated download? fetch it again');
  return manifest;
}
