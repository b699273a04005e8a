// Fetching, kept apart from parsing: bytes from a URL or a file, bounded in size and time, and
// verified against a pinned hash when one is given.
import { KilnError } from '../../core/errors.ts';
import { readInputBytes } from '../../core/fs.ts';
import { verifyHash, type PinnedHash } from '../../core/hash.ts';
import { redactUrl } from '../../core/redact.ts';
import { pinnedRequest } from './pinned-tls.ts';

const MAX_BYTES = 64 * 2 ** 20;

export interface FetchOptions {
  hash?: PinnedHash;
  /** Whole attempts before giving up; the network may still be coming up. */
  attempts?: number;
  timeoutMs?: number;
  /** A missing file or HTTP 404 returns undefined instead of failing (optional seed files). */
  optional?: boolean;
  /** https only, verified against this CA alone (the hex of kiln.tls.ca's sha256 pin). */
  tlsPin?: string;
}

/** One GET: status and body, bounded; the pinned CA's TLS when there is a pin, else fetch's own. */
async function getOnce(url: string, opts: FetchOptions): Promise<{ status: number; body?: Buffer }> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  if (opts.tlsPin) return pinnedRequest(url, opts.tlsPin, { timeoutMs, maxBytes: MAX_BYTES });
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  if (!res.ok) {
    await res.body?.cancel();
    return { status: res.status };
  }
  const length = Number(res.headers.get('content-length') ?? 0);
  if (length > MAX_BYTES) throw new Error(`${length} bytes is more than the ${MAX_BYTES} kiln accepts`);
  const body = Buffer.from(await res.arrayBuffer());
  if (body.length > MAX_BYTES) throw new Error(`more than the ${MAX_BYTES} bytes kiln accepts`);
  return { status: res.status, body };
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
      const res = await getOnce(url, opts);
      if (res.status === 404 && opts.optional) return undefined;
      if (res.status < 200 || res.status > 299 || !res.body) throw new Error(`HTTP ${res.status}`);
      return res.body;
    } catch (cause) {
      if (cause instanceof KilnError) throw cause; // a server that cannot show the pinned CA: no retry makes it
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
