// Fetching, kept apart from parsing: bytes from a URL or a file, bounded in size and time, and
// verified against a pinned hash when one is given.
import { KilnError } from '../../core/errors.ts';
import { readInputBytes } from '../../core/fs.ts';
import { verifyHash, type PinnedHash } from '../../core/hash.ts';
import { redactUrl } from '../../core/redact.ts';

const MAX_BYTES = 64 * 2 ** 20;

export interface FetchOptions {
  hash?: PinnedHash;
  /** Whole attempts before giving up; the network may still be coming up. */
  attempts?: number;
  timeoutMs?: number;
  /** A missing file or HTTP 404 returns undefined instead of failing (optional seed files). */
  optional?: boolean;
}

/** http(s)://, file:// or an absolute path. */
export async function fetchBytes(location: string, opts: FetchOptions = {}): Promise<Buffer | undefined> {
  const data = /^https?:\/\//.test(location) ? await fetchHttp(location, opts) : await readLocal(location, opts);
  if (data && opts.hash) verifyHash(data, opts.hash, redactUrl(location));
  return data;
}

async function readLocal(location: string, opts: FetchOptions): Promise<Buffer | undefined> {
  const file = location.startsWith('file://') ? decodeURIComponent(new URL(location).pathname) : location;
  // a seed file that is a directory, a FIFO, /dev/zero or a symlink loop is bad input (exit 2), bounded
  return readInputBytes(file, {
    what: 'metadata file',
    hint: 'check the path given on the kernel command line or in the seed',
    optional: opts.optional,
    maxBytes: MAX_BYTES,
  });
}

async function fetchHttp(url: string, opts: FetchOptions): Promise<Buffer | undefined> {
  const attempts = opts.attempts ?? 5;
  let last: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000), redirect: 'follow' });
      if (res.status === 404 && opts.optional) return undefined;
      if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
      const length = Number(res.headers.get('content-length') ?? 0);
      if (length > MAX_BYTES) throw new Error(`${length} bytes is more than the ${MAX_BYTES} kiln accepts`);
      const body = Buffer.from(await res.arrayBuffer());
      if (body.length > MAX_BYTES) throw new Error(`more than the ${MAX_BYTES} bytes kiln accepts`);
      return body;
    } catch (cause) {
      last = cause;
      // 4xx other than 404-optional will not get better by waiting
      if (/^HTTP 4/.test((cause as Error).message)) break;
      if (attempt < attempts) await new Promise((r) => setTimeout(r, Math.min(500 * 2 ** attempt, 8000)));
    }
  }
  throw new KilnError(`cannot fetch ${redactUrl(url)}`, {
    cause: last,
    hint: 'check the URL and that the server is reachable from the node',
  });
}
