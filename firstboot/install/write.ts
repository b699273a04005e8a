// Writing kiln's disk image to the install disk so that a failure at any point leaves the disk
// unbootable rather than half-written and bootable: the old partition tables (both GPT copies and
// the MBR) are zeroed first, the image streams in with its first and last MiB (where the partition
// tables are) held back, its sha256 must match the pin once the last byte is written and synced, and
// only then does `commit` write the held-back ends. No read-back pass: reading the device through
// the page cache proves nothing about the media and doubled the install's time (coreos-installer,
// flatcar-install and Talos verify the stream the same way).
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { KilnError } from '../../core/errors.ts';
import type { PinnedHash } from '../../core/hash.ts';

/** The MiB at each end: the MBR and primary GPT at the start, the backup GPT at the end. */
export const END_BYTES = 2 ** 20;
const WRITE_CHUNK = 4 * 2 ** 20;

export interface WrittenImage {
  /** The image's first MiB: what the partition table is read from before it is on the disk. */
  head: Buffer;
  /** Writes the held-back ends and syncs: the disk is bootable from here on. */
  commit(): Promise<void>;
  close(): Promise<void>;
}

async function zeroEnds(handle: FileHandle, size: number): Promise<void> {
  const zeros = Buffer.alloc(Math.min(END_BYTES, size));
  await handle.write(zeros, 0, zeros.length, 0);
  if (size > END_BYTES) await handle.write(zeros, 0, Math.min(END_BYTES, size - END_BYTES), Math.max(END_BYTES, size - END_BYTES));
  await handle.sync();
}

/**
 * Streams `bytes` bytes of image from `source` onto `device` (a block device of `deviceSize` bytes
 * as lsblk told, or a file in tests), verifying `hash` on the way. Throws, with the
 * disk unbootable, on any mismatch.
 */
export async function writeImage(
  source: AsyncIterable<Uint8Array> | Readable,
  bytes: number,
  hash: PinnedHash,
  device: string,
  deviceSize: number,
): Promise<WrittenImage> {
  if (bytes < 2 * END_BYTES)
    throw new KilnError(`the disk image is ${bytes} bytes, too small to be one`, { hint: 'check kiln.install.image' });
  // O_EXCL on a block device: refused while anything (a mount, another writer) holds it; no-op on a file
  const handle = await open(device, constants.O_RDWR | constants.O_EXCL).catch((e: NodeJS.ErrnoException) => {
    throw new KilnError(`cannot open ${device} to write: ${e.code}`, { cause: e, hint: 'is it in use (mounted, or part of an array)?' });
  });
  try {
    if (deviceSize < bytes)
      throw new KilnError(`${device} holds ${deviceSize} bytes, less than the image's ${bytes}`, { hint: 'name a bigger disk' });
    await zeroEnds(handle, deviceSize);
    const head = Buffer.alloc(END_BYTES);
    const tail = Buffer.alloc(END_BYTES);
    const tailStart = bytes - END_BYTES;
    const digest = createHash(hash.algorithm);
    let offset = 0;
    let pending: Buffer[] = [];
    let pendingAt = END_BYTES;
    let pendingBytes = 0;
    const flush = async () => {
      if (pendingBytes === 0) return;
      const data = Buffer.concat(pending, pendingBytes);
      await handle.write(data, 0, data.length, pendingAt);
      pendingAt += data.length;
      pending = [];
      pendingBytes = 0;
    };
    for await (const raw of source) {
      // fetch's body yields Uint8Arrays: a Buffer view over the same bytes
      const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
      if (offset + chunk.length > bytes)
        throw new KilnError(`the disk image is longer than the ${bytes} bytes announced`, {
          hint: 'the server sent more than its Content-Length',
        });
      digest.update(chunk);
      let at = 0;
      while (at < chunk.length) {
        const pos = offset + at;
        if (pos < END_BYTES) {
          const n = Math.min(END_BYTES - pos, chunk.length - at);
          chunk.copy(head, pos, at, at + n);
          at += n;
        } else if (pos >= tailStart) {
          chunk.copy(tail, pos - tailStart, at);
          at = chunk.length;
        } else {
          const n = Math.min(tailStart - pos, chunk.length - at);
          pending.push(chunk.subarray(at, at + n));
          pendingBytes += n;
          at += n;
          if (pendingBytes >= WRITE_CHUNK) await flush();
        }
      }
      offset += chunk.length;
    }
    await flush();
    if (offset !== bytes)
      throw new KilnError(`the disk image ended after ${offset} of its ${bytes} bytes`, {
        hint: 'the download was cut short: boot again to retry',
      });
    const got = digest.digest('hex');
    if (got !== hash.hex)
      throw new KilnError(`the disk image's ${hash.algorithm} is ${got}, not the pinned ${hash.hex}`, {
        hint: 'the image on the server is not the one the boot script pinned (rebuilt since?): restart kiln cluster serve',
      });
    await handle.sync();
    return {
      head,
      async commit() {
        await handle.write(tail, 0, tail.length, tailStart);
        await handle.sync();
        await handle.write(head, 0, head.length, 0);
        await handle.sync();
      },
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
