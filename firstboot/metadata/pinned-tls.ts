// HTTPS to a server whose certificate must chain to one pinned CA (`kiln.tls.ca=sha256:<hex>`),
// as kubeadm's discovery does with its CA hash: a first handshake reads the chain the server
// presents and keeps the CA whose public-key hash is the pin; the request itself then goes over a
// connection verified by Node's TLS with that CA as the only trust anchor (signature, dates, and
// the URL's host against the certificate's names). A server that cannot show the pinned CA gets no
// request at all, so a seed is never sent to, nor taken from, anyone else.
import { createHash, X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { isIP } from 'node:net';
import { connect, type PeerCertificate, type DetailedPeerCertificate } from 'node:tls';
import { KilnError } from '../../core/errors.ts';
import { redactUrl } from '../../core/redact.ts';

export interface PinnedResponse {
  status: number;
  body: Buffer;
}

const spkiHash = (der: Buffer) =>
  createHash('sha256')
    .update(new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');

/** The certificates of the chain the server presented, leaf first (a self-signed root ends it). */
function chainOf(leaf: DetailedPeerCertificate): PeerCertificate[] {
  const chain: PeerCertificate[] = [];
  for (let c: DetailedPeerCertificate | undefined = leaf; c && chain.length < 8; c = c.issuerCertificate) {
    if (chain.some((seen) => seen.fingerprint256 === c!.fingerprint256)) break;
    chain.push(c);
  }
  return chain;
}

/** The pinned CA's certificate (PEM) from the chain the server at `url` presents. */
async function pinnedCa(url: URL, pin: string, timeoutMs: number): Promise<string> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const chain = await new Promise<PeerCertificate[]>((resolve, reject) => {
    const socket = connect({
      host,
      port: Number(url.port || 443),
      ...(isIP(host) ? {} : { servername: host }),
      // only to read the chain: nothing is sent on this connection, and the request that follows verifies fully
      rejectUnauthorized: false,
      timeout: timeoutMs,
    });
    socket.once('secureConnect', () => {
      const chain = chainOf(socket.getPeerCertificate(true));
      socket.destroy();
      resolve(chain);
    });
    socket.once('timeout', () => socket.destroy(new Error(`no TLS handshake within ${timeoutMs} ms`)));
    socket.once('error', reject);
  });
  const ca = chain.find((c) => c.raw && spkiHash(c.raw) === pin);
  if (!ca)
    throw new KilnError(`${redactUrl(url.href)} does not present a certificate chain to the pinned CA (kiln.tls.ca)`, {
      hint: 'the server is not the cluster’s kiln cluster serve, or serves another cluster’s certificate: check the network and the cluster DIR it serves',
    });
  return new X509Certificate(ca.raw).toString();
}

/**
 * One request over TLS verified against the pinned CA alone; the answer's body is read up to
 * `maxBytes`. Throws on any TLS or network failure (the message names the URL without its secrets).
 */
export async function pinnedRequest(
  location: string,
  pin: string,
  opts: { method?: string; body?: string; contentType?: string; timeoutMs?: number; maxBytes: number },
): Promise<PinnedResponse> {
  const url = new URL(location);
  if (url.protocol !== 'https:')
    throw new KilnError(`${redactUrl(location)} is not https:// though kiln.tls.ca pins the server's CA`, {
      hint: 'the boot server gives https:// seed and report URLs when it serves TLS',
    });
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const ca = await pinnedCa(url, pin, timeoutMs);
  return new Promise<PinnedResponse>((resolve, reject) => {
    const req = request(
      url,
      {
        method: opts.method ?? 'GET',
        ca,
        timeout: timeoutMs,
        headers:
          opts.body === undefined
            ? {}
            : { 'content-type': opts.contentType ?? 'application/json', 'content-length': Buffer.byteLength(opts.body) },
      },
      (res) => {
        const parts: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > opts.maxBytes) res.destroy(new Error(`more than the ${opts.maxBytes} bytes kiln accepts`));
          else parts.push(chunk);
        });
        res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
        res.once('error', reject);
      },
    );
    req.once('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.once('error', reject);
    req.end(opts.body);
  });
}
