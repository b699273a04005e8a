// TEST ONLY. The secrets of token discovery and certificate upload, as Kubernetes computes them:
// the detached JWS that signs cluster-info (k8s.io/cluster-bootstrap) and the AES-256-GCM sealing
// of the kubeadm-certs Secret (kubeadm's cryptoutil).
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const b64url = (data: string) => Buffer.from(data).toString('base64url');

/** A bootstrap token "id.secret" split in its parts. */
export function splitToken(token: string): { id: string; secret: string } {
  const [id = '', secret = ''] = token.split('.');
  return { id, secret };
}

/** ComputeDetachedSignature: a compact HS256 JWS of `content` (key: the token secret, kid: its id) with the payload left out. */
export function detachedJws(content: string, tokenId: string, tokenSecret: string): string {
  const header = b64url(JSON.stringify({ alg: 'HS256', kid: tokenId }));
  const signature = createHmac('sha256', tokenSecret)
    .update(`${header}.${b64url(content)}`)
    .digest('base64url');
  return `${header}..${signature}`;
}

/** DetachedTokenIsValid: the signature recomputed must be the one given. */
export function detachedJwsValid(jws: string, content: string, tokenId: string, tokenSecret: string): boolean {
  const want = Buffer.from(detachedJws(content, tokenId, tokenSecret));
  const got = Buffer.from(jws);
  return got.length === want.length && timingSafeEqual(got, want);
}

const NONCE = 12;
const TAG = 16;

/** EncryptBytes: Go's gcm.Seal(nonce, nonce, data, nil), i.e. nonce ‖ ciphertext ‖ tag. */
export function seal(data: Buffer, key: Buffer): Buffer {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  return Buffer.concat([nonce, cipher.update(data), cipher.final(), cipher.getAuthTag()]);
}

/** DecryptBytes; fails with Go's messages. */
export function open(sealed: Buffer, key: Buffer): Buffer {
  if (sealed.length < NONCE) throw new Error('size of data is less than the nonce');
  if (sealed.length < NONCE + TAG) throw new Error('cipher: message authentication failed');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(NONCE, sealed.length - TAG)), decipher.final()]);
  } catch {
    throw new Error('cipher: message authentication failed');
  }
}
