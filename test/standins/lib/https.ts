// TEST ONLY. The stand-ins' HTTPS client (kubeadm's client-go, in short): one request, a short
// timeout so a join never hangs, and failures worded as Go's net/http and crypto/x509 word them.
import https from 'node:https';
import { isIP } from 'node:net';

export interface HttpReply {
  status: number;
  body: string;
}

export interface HttpOptions {
  method?: 'GET' | 'POST';
  /** The CA the server must be verified against (and valid for the URL's host); without it the server is not verified. */
  ca?: string;
  /** A bearer token (a bootstrap token "id.secret"). */
  token?: string;
  body?: string;
  timeoutMs?: number;
}

export const TIMEOUT_MS = 5000;

export function httpsRequest(url: string, opts: HttpOptions = {}): Promise<HttpReply> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'kubeadm/kiln-test-standin' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    // no agent: no pooled connection outlives the request
    const req = https.request(
      url,
      {
        method,
        headers,
        agent: false,
        timeout: opts.timeoutMs ?? TIMEOUT_MS,
        rejectUnauthorized: opts.ca !== undefined,
        ...(opts.ca ? { ca: opts.ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => reject(goError(method, url, e)));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (e) => reject(goError(method, url, e)));
    req.end(opts.body);
  });
}

const UNKNOWN_AUTHORITY = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
]);

/** Go's *url.Error for a failed request: `Get "URL": <why>`. */
function goError(method: string, url: string, e: Error & { code?: string; cert?: { subjectaltname?: string } }): Error {
  const { host, hostname } = new URL(url);
  const target = hostname.replace(/^\[|\]$/g, '');
  const verb = method[0] + method.slice(1).toLowerCase();
  const dial: Record<string, string> = {
    ECONNREFUSED: 'connect: connection refused',
    EHOSTUNREACH: 'connect: no route to host',
    ENETUNREACH: 'connect: network is unreachable',
    ETIMEDOUT: 'i/o timeout',
  };
  let why = e.message;
  if (e.code && dial[e.code]) why = `dial tcp ${host}: ${dial[e.code]}`;
  else if (e.code && UNKNOWN_AUTHORITY.has(e.code))
    why = 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
  else if (e.code === 'CERT_HAS_EXPIRED' || e.code === 'CERT_NOT_YET_VALID')
    why = 'tls: failed to verify certificate: x509: certificate has expired or is not yet valid';
  else if (e.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    // crypto/x509's HostnameError lists the certificate's IP SANs for an IP host, its DNS SANs otherwise
    const sans = (e.cert?.subjectaltname ?? '').split(', ').map((s) => s.split(':'));
    const kind = isIP(target) ? 'IP Address' : 'DNS';
    const valid = sans.filter(([k]) => k === kind).map((s) => s.slice(1).join(':'));
    why = `tls: failed to verify certificate: x509: ${valid.length ? `certificate is valid for ${valid.join(', ')}, not ${target}` : `certificate is not valid for any names, but wanted to match ${target}`}`;
  } else if (e.code === 'ECONNRESET') why = 'EOF';
  return new Error(`${verb} "${url}": ${why}`);
}

/** The message of a Kubernetes Status body (client-go's error for a failed request), or a plain one. */
export function statusMessage(reply: HttpReply): string {
  try {
    const status = JSON.parse(reply.body) as { kind?: string; message?: string };
    if (status.kind === 'Status' && status.message) return status.message;
  } catch {
    // not JSON: fall through
  }
  return `the server responded with the status code ${reply.status} but did not return more information`;
}
