// TEST ONLY. The API server's serving certificate as kubeadm's certs phase makes it: signed by the
// cluster CA, valid for kubeadm's names and addresses (certs.GetAPIServerAltNames).
import 'reflect-metadata'; // @peculiar/x509's dependency injection (tsyringe) needs the Reflect API
import * as x509 from '@peculiar/x509';
import { createPrivateKey, createPublicKey, randomBytes, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface AltNames {
  dns: string[];
  ips: string[];
}

/** kubeadm's SANs of apiserver.crt: the kubernetes Service names, the node, the Service IP, the advertise address, the endpoint host, certSANs. */
export function apiserverAltNames(o: {
  nodeName: string;
  dnsDomain: string;
  serviceIp?: string | undefined;
  advertiseAddress: string;
  endpointHost?: string | undefined;
  certSANs?: string[];
}): AltNames {
  const all = [
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    `kubernetes.default.svc.${o.dnsDomain}`,
    o.nodeName,
    o.serviceIp,
    o.advertiseAddress,
    o.endpointHost,
    ...(o.certSANs ?? []),
  ];
  const names = [...new Set(all.filter((n): n is string => Boolean(n)))];
  return { dns: names.filter((n) => isIP(n) === 0), ips: names.filter((n) => isIP(n) !== 0) };
}

export interface SigningCa {
  cert: X509Certificate;
  key: KeyObject;
}

/** A CA that can sign: a CA certificate and its own private key; undefined for the stand-in's stubs (or a mismatch). */
export function loadSigningCa(certPem: string, keyPem: string): SigningCa | undefined {
  try {
    const cert = new X509Certificate(certPem);
    const key = createPrivateKey(keyPem);
    const mine = createPublicKey(key).export({ type: 'spki', format: 'der' });
    return cert.ca && mine.equals(cert.publicKey.export({ type: 'spki', format: 'der' })) ? { cert, key } : undefined;
  } catch {
    return undefined;
  }
}

/** How WebCrypto signs with the CA's key (kubeadm's CAs: RSA, or ECDSA P-256/P-384). */
function signingAlgorithm(key: KeyObject): { import: RsaHashedImportParams | EcKeyImportParams; sign: Algorithm & { hash: string } } {
  if (key.asymmetricKeyType === 'rsa')
    return { import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, sign: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } };
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType === 'ec' && (curve === 'prime256v1' || curve === 'secp384r1')) {
    const p384 = curve === 'secp384r1';
    return { import: { name: 'ECDSA', namedCurve: p384 ? 'P-384' : 'P-256' }, sign: { name: 'ECDSA', hash: p384 ? 'SHA-384' : 'SHA-256' } };
  }
  throw new Error(`the CA key is ${key.asymmetricKeyType} ${curve ?? ''}: the stand-in signs with RSA or ECDSA P-256/P-384 CAs only`);
}

// kubeadm: CertificateValidityPeriod (a year) and CertificateBackdate (5 minutes)
const VALIDITY_MS = 365 * 24 * 3600 * 1000;
const BACKDATE_MS = 5 * 60 * 1000;

/** apiserver.crt and apiserver.key (an ECDSA P-256 key, SEC1 PEM) for `alt`, signed by `ca`. */
export async function signServingCert(ca: SigningCa, alt: AltNames, now = new Date()): Promise<{ cert: string; key: string }> {
  const alg = signingAlgorithm(ca.key);
  const caKey = await webcrypto.subtle.importKey('pkcs8', ca.key.export({ type: 'pkcs8', format: 'der' }), alg.import, false, ['sign']);
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const caCert = new x509.X509Certificate(ca.cert.raw);
  const caKeyId = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // a positive INTEGER
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    subject: 'CN=kube-apiserver',
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + VALIDITY_MS),
    signingAlgorithm: alg.sign,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.BasicConstraintsExtension(false, undefined, true),
      caKeyId ? new x509.AuthorityKeyIdentifierExtension(caKeyId) : await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
      new x509.SubjectAlternativeNameExtension([
        ...alt.dns.map((value) => ({ type: 'dns' as const, value })),
        ...alt.ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ type: 'sec1', format: 'pem' }) as string;
  return { cert: `${cert.toString('pem').replace(/\r\n/g, '\n').trimEnd()}\n`, key };
}
