// Reading what a URL names: http(s) through fetch, file:// from disk. Nothing here parses.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { fileURLToPath } from 'node:url';

export class FetchError extends Error {}

/** The body of `url` as a stream; throws FetchError on a non-2xx answer or a missing file. */
export async function openUrl(url: string): Promise<Readable> {
  if (url.startsWith('file://')) {
    const stream = createReadStream(fileURLToPath(url));
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', (e) =>
        reject(new FetchError(`${url}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : e.message}`, { cause: e })),
      );
    });
    return stream;
  }
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(10 * 60_000) });
  } catch (cause) {
    throw new FetchError(
      `${url}: ${(cause as Error).cause instanceof Error ? ((cause as Error).cause as Error).message : (cause as Error).message}`,
      { cause },
    );
  }
  if (!res.ok || !res.body) throw new FetchError(`${url}: HTTP ${res.status} ${res.statusText}`);
  return Readable.fromWeb(res.body as WebReadableStream);
}

/** A small text document (a checksum file); refuses anything over `limit` bytes. */
export async function fetchText(url: string, limit = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of await openUrl(url)) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new FetchError(`${url}: larger than ${limit} bytes; not a checksum file`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
