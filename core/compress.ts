// Decompression with a budget: a few kilobytes of gzip can inflate to gigabytes (a "zip bomb"),
// and a string past V8's limit crashes the reader. Every gunzip of input goes through here.
import { gunzipSync } from 'node:zlib';

/** What one decompressed input may weigh. */
export const INFLATE_BYTES = 64 * 1024 * 1024;

/** The decompressed data; 'too-large' past the budget (zlib stops there), 'not-gzip' when it is not gzip. */
export function gunzipBounded(data: Buffer, maxBytes = INFLATE_BYTES): Buffer | 'too-large' | 'not-gzip' {
  try {
    return gunzipSync(data, { maxOutputLength: maxBytes });
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? 'too-large' : 'not-gzip';
  }
}

/** How a message says the budget was passed. */
export const TOO_LARGE = `decompresses to more than ${INFLATE_BYTES / 1024 / 1024} MiB (the budget for one input)`;
