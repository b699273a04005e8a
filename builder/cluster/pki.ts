// The cluster's secrets: CAs as kubeadm makes them, the bootstrap token, the certificate key.
// Certificates come from @peculiar/x509 over Node's WebCrypto; randomness from crypto.randomBytes.
import 'reflect-metadata'; // @peculiar/x509's dependency injection (tsyringe) needs the Reflect API
import * as x509 from '@peculiar/x509';
import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { caCertHash } from '../../node/config/parse.ts';
export { caPairProblem } from '../../node/config/pki.ts';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export type KeyAlgorithm = 'rsa-2048' | 'ecdsa-p256';

export interface CaPair {
  /** PEM certificate. */
  cert: string;
  /** PEM private key (PKCS#1 for RSA, SEC1 for EC: what kubeadm itself writes). */
  key: string;
}

/** The CAs kubeadm would create, by file stem under pki/ and their common names. */
export const CAS = {
  ca: { file: 'ca', commonName: 'kubernetes' },
  frontProxy: { file: 'front-proxy-ca', commonName: 'front-proxy-ca' },
  etcd: { file: 'etcd/ca', commonName: 'etcd-ca' },
} as const;
export type CaName = keyof typeof CAS;

// kubeadm: CACertificateValidityPeriod (10 years of 365 days) and CertificateBackdate (5 minutes)
const VALIDITY_MS = 10 * 365 * 24 * 3600 * 1000;
const BACKDATE_MS = 5 * 60 * 1000;

const ALGORITHMS: Record<
  KeyAlgorithm,
  { generate: RsaHashedKeyGenParams | EcKeyGenParams; sign: Algorithm & { hash?: string }; export: 'pkcs1' | 'sec1' }
> = {
  'rsa-2048': {
    generate: {
      name: 'RSASSA-PKCS1-v1_5',
      hash: 'SHA-256',
      publicExponent: new Uint8Array([1, 0, 1]),
      modulusLength: 2048,
    } as RsaHashedKeyGenParams,
    sign: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    export: 'pkcs1',
  },
  'ecdsa-p256': { generate: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' }, export: 'sec1' },
};

/** A self-signed CA as kubeadm's pkiutil makes it: CA:TRUE, keyCertSign, the CN as DNS SAN, 10 years. */
export async function generateCa(commonName: string, algorithm: KeyAlgorithm, now = new Date()): Promise<CaPair> {
  const alg = ALGORITHMS[algorithm];
  const keys = (await webcrypto.subtle.generateKey(alg.generate, true, ['sign', 'verify'])) as CryptoKeyPair;
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // a positive INTEGER
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: `CN=${commonName}`,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + VALIDITY_MS),
    signingAlgorithm: alg.sign,
    keys,
    extensions: [
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.keyCertSign,
        true,
      ),
      new x509.BasicConstraintsExtension(true, undefined, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: commonName }]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ type: alg.export, format: 'pem' }) as string;
  return { cert: cert.toString('pem').replace(/\r\n/g, '\n').trimEnd() + '\n', key };
}

/** kubeadm's --discovery-token-ca-cert-hash: "sha256:" + hex SHA-256 of the CA's DER SubjectPublicKeyInfo. */
export function discoveryHash(certPem: string): string {
  const hash = caCertHash(certPem);
  if (!hash) throw new Error('discoveryHash: not a PEM certificate');
  return hash;
}

const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** `n` characters of [a-z0-9], uniformly: bytes ≥ 252 (7 × 36) are drawn again. */
function randomString(n: number): string {
  let out = '';
  while (out.length < n) for (const b of randomBytes(n)) if (b < 252 && out.length < n) out += TOKEN_ALPHABET[b % 36];
  return out;
}

/** A kubeadm bootstrap token, "[a-z0-9]{6}.[a-z0-9]{16}" (id.secret). */
export const generateToken = (): string => `${randomString(6)}.${randomString(16)}`;

/** kubeadm's certificate key: an AES-256 key as 64 hex digits. */
export const generateCertificateKey = (): string => randomBytes(32).toString('hex');

export const TOKEN_PATTERN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;
export const CERTIFICATE_KEY_PATTERN = /^[0-9a-f]{64}$/;

/** How long a boot server's certificate lives: it is issued afresh at every start (the pin is on the CA). */
const SERVING_VALIDITY_MS = 365 * 24 * 3600 * 1000;

/**
 * A TLS server certificate for `host` (an IP address or a DNS name), signed by the cluster CA:
 * ECDSA P-256, serverAuth, a year. The chain (leaf, then CA) is what the server presents, so a node
 * that pins the CA's hash (kiln.tls.ca) finds the CA in it.
 */
export async function issueServingCertificate(ca: CaPair, host: string, now = new Date()): Promise<{ chain: string; key: string }> {
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = createPrivateKey(ca.key);
  const caAlg = ALGORITHMS[caKey.asymmetricKeyType === 'rsa' ? 'rsa-2048' : 'ecdsa-p256'];
  const signingKey = await webcrypto.subtle.importKey(
    'pkcs8',
    caKey.export({ type: 'pkcs8', format: 'der' }),
    caAlg.generate.name === 'ECDSA' ? caAlg.generate : { name: caAlg.generate.name, hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const leaf = ALGORITHMS['ecdsa-p256'];
  const keys = (await webcrypto.subtle.generateKey(leaf.generate, true, ['sign', 'verify'])) as CryptoKeyPair;
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    subject: 'CN=kiln-cluster-serve',
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + SERVING_VALIDITY_MS),
    signingAlgorithm: caAlg.sign,
    publicKey: keys.publicKey,
    signingKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: isIP(host) ? 'ip' : 'dns', value: host }]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }) as string;
  const pem = (c: x509.X509Certificate) => c.toString('pem').replace(/\r\n/g, '\n').trimEnd() + '\n';
  return { chain: pem(cert) + pem(caCert), key };
}
