// Checks of the PKI material a node config or a cluster directory carries: pure (node:crypto only).
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';

/** Why a CA pair cannot be used, or undefined when it can: a CA certificate, in date, and its own key. */
export function caPairProblem(pair: { cert: string; key: string }): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pair.cert);
  } catch {
    return 'the certificate does not parse';
  }
  if (!cert.ca) return 'the certificate is not a CA (basicConstraints CA:FALSE)';
  if (Date.parse(cert.validTo) <= Date.now()) return `the certificate expired on ${cert.validTo}`;
  try {
    const mine = createPublicKey(createPrivateKey(pair.key)).export({ type: 'spki', format: 'der' });
    if (!mine.equals(cert.publicKey.export({ type: 'spki', format: 'der' }))) return 'the key does not belong to the certificate';
  } catch {
    return 'the key does not parse';
  }
  return undefined;
}
