// The cluster PKI: CAs as kubeadm makes them (checked with openssl, an outside implementation),
// kubeadm's discovery hash against openssl's own pipeline, token and certificate-key formats.
import { execFileSync, execSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  caPairProblem,
  discoveryHash,
  generateCa,
  generateCertificateKey,
  generateToken,
  type CaPair,
  type KeyAlgorithm,
} from '../../../../builder/cluster/pki.ts';
import { BootstrapToken } from '../../../../node/config/schema.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-pki-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const pemFile = (name: string, text: string) => {
  const file = path.join(tmp, name);
  writeFileSync(file, text);
  return file;
};
const openssl = (args: string[], input?: string) => execFileSync('openssl', args, { encoding: 'utf8', input });

const cas: Partial<Record<KeyAlgorithm, CaPair>> = {};
beforeAll(async () => {
  cas['rsa-2048'] = await generateCa('kubernetes', 'rsa-2048');
  cas['ecdsa-p256'] = await generateCa('kubernetes', 'ecdsa-p256');
});

describe.each(['rsa-2048', 'ecdsa-p256'] as const)('a %s cluster CA', (algorithm) => {
  const ca = () => cas[algorithm]!;
  const text = () => openssl(['x509', '-in', pemFile(`${algorithm}.crt`, ca().cert), '-noout', '-text']);

  it('is self-signed for CN=kubernetes, as kubeadm names it', () => {
    expect(text()).toMatch(/Issuer: CN\s?=\s?kubernetes\n/);
    expect(text()).toMatch(/Subject: CN\s?=\s?kubernetes\n/);
    expect(text()).toMatch(/DNS:kubernetes/);
    // openssl verifies the signature with the certificate's own key
    expect(
      openssl(['verify', '-CAfile', pemFile(`${algorithm}-self.crt`, ca().cert), pemFile(`${algorithm}-leaf.crt`, ca().cert)]),
    ).toMatch(/: OK/);
  });

  it('is a CA that may sign certificates: basicConstraints CA:TRUE and keyCertSign, both critical', () => {
    expect(text()).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:TRUE\n/);
    expect(text()).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment, Certificate Sign\n/);
    expect(text()).toMatch(/X509v3 Subject Key Identifier/);
  });

  it('is valid for ten years from (just before) now', () => {
    const cert = new X509Certificate(ca().cert);
    const [from, to] = [Date.parse(cert.validFrom), Date.parse(cert.validTo)];
    expect(Date.now() - from).toBeGreaterThan(0);
    expect(Date.now() - from).toBeLessThan(10 * 60_000);
    expect((to - from) / (24 * 3600_000)).toBeCloseTo(3650, 0);
  });

  it('has the key type kubeadm expects, in the PEM type kubeadm itself writes', () => {
    if (algorithm === 'rsa-2048') {
      expect(text()).toMatch(/Public-Key: \(2048 bit\)/);
      expect(text()).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
      expect(ca().key).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    } else {
      expect(text()).toMatch(/ASN1 OID: prime256v1/);
      expect(text()).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
      expect(ca().key).toMatch(/^-----BEGIN EC PRIVATE KEY-----\n/);
    }
    // the key is the certificate's: openssl derives the same public key from both
    const fromKey = openssl(['pkey', '-pubout'], ca().key);
    const fromCert = openssl(['x509', '-pubkey', '-noout'], ca().cert);
    expect(fromKey).toBe(fromCert);
  });

  it("discovery hash = sha256 of the DER SubjectPublicKeyInfo, as openssl's pipeline computes it", () => {
    const file = pemFile(`${algorithm}-hash.crt`, ca().cert);
    const hex = execSync(`openssl x509 -in ${file} -pubkey -noout | openssl pkey -pubin -outform der | sha256sum`, {
      encoding: 'utf8',
    }).split(' ')[0];
    expect(discoveryHash(ca().cert)).toBe(`sha256:${hex}`);
  });

  it('a stored pair is usable; a foreign key or a non-CA is not', () => {
    expect(caPairProblem(ca())).toBeUndefined();
    const other = algorithm === 'rsa-2048' ? cas['ecdsa-p256']! : cas['rsa-2048']!;
    expect(caPairProblem({ cert: ca().cert, key: other.key })).toBe('the key does not belong to the certificate');
    expect(caPairProblem({ cert: 'not a cert', key: ca().key })).toBe('the certificate does not parse');
    expect(caPairProblem({ cert: ca().cert, key: 'not a key' })).toBe('the key does not parse');
  });
});

describe('each CA is new', () => {
  it('two CAs have different keys, serials and hashes', async () => {
    const again = await generateCa('kubernetes', 'ecdsa-p256');
    const [a, b] = [new X509Certificate(cas['ecdsa-p256']!.cert), new X509Certificate(again.cert)];
    expect(a.serialNumber).not.toBe(b.serialNumber);
    expect(discoveryHash(again.cert)).not.toBe(discoveryHash(cas['ecdsa-p256']!.cert));
    expect(createPrivateKey(again.key).export({ format: 'der', type: 'pkcs8' })).not.toEqual(
      createPrivateKey(cas['ecdsa-p256']!.key).export({ format: 'der', type: 'pkcs8' }),
    );
  });

  it('other CAs get their own common name (front-proxy-ca, etcd-ca)', async () => {
    const fp = await generateCa('front-proxy-ca', 'ecdsa-p256');
    expect(new X509Certificate(fp.cert).subject).toBe('CN=front-proxy-ca');
  });
});

describe('bootstrap token and certificate key', () => {
  const tokens = Array.from({ length: 500 }, generateToken);
  const keys = Array.from({ length: 50 }, generateCertificateKey);

  it("tokens match kubeadm's format (and the node config's pattern)", () => {
    const pattern = new RegExp(BootstrapToken.pattern as string);
    for (const t of tokens) {
      expect(t).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
      expect(t).toMatch(pattern);
    }
  });

  it('tokens are random: all different, and every character of [a-z0-9] turns up', () => {
    expect(new Set(tokens).size).toBe(tokens.length);
    const seen = new Set(tokens.join('').replace('.', ''));
    for (const c of 'abcdefghijklmnopqrstuvwxyz0123456789') expect(seen.has(c), `never saw "${c}"`).toBe(true);
  });

  it('certificate keys are 32 random bytes as 64 hex digits', () => {
    for (const k of keys) expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
