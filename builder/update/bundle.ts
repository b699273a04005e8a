// The update bundle a node installs into its other root slot: one tar with the manifest first, its
// ed25519 signature second, then the parts in the manifest's order (a node can verify the
// signature before it reads a byte of any part). Deterministic: fixed headers, SOURCE_DATE_EPOCH
// as every mtime, the parts as given.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { KilnError } from '../../core/errors.ts';
import { sha256File } from '../../core/hash.ts';
import { BUNDLE_FORMAT, keyId, MANIFEST_ENTRY, SIGNATURE_ENTRY, type Manifest, type Signature } from '../../node/update/manifest.ts';
import { writeTar, type OutEntry } from '../tar/write.ts';

export interface UpdateKeys {
  /** PKCS#8 PEM: kept by whoever builds bundles, never in an image. */
  privatePem: string;
  /** SPKI PEM: baked into images, which then accept bundles signed by the private key. */
  publicPem: string;
  keyId: string;
}

export function generateUpdateKeys(): UpdateKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    keyId: keyId(publicKey),
  };
}

/** An ed25519 private key from PEM; a clear error for anything else. */
export function updatePrivateKey(pem: string, file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (cause) {
    throw new KilnError('not a PEM private key', { file, cause, hint: 'use the .key file kiln keygen wrote', exitCode: 2 });
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new KilnError(`a ${key.asymmetricKeyType} key, not ed25519`, { file, hint: 'sign with a key kiln keygen wrote', exitCode: 2 });
  return key;
}

/** The signature entry for these exact manifest bytes. */
export function signManifest(manifestBytes: Buffer, key: KeyObject): Buffer {
  const signature: Signature = {
    algorithm: 'ed25519',
    keyId: keyId(createPublicKey(key)),
    signature: sign(null, manifestBytes, key).toString('base64'),
  };
  return Buffer.from(`${JSON.stringify(signature, null, 2)}\n`);
}

export interface BundlePart {
  name: string;
  role: Manifest['parts'][number]['role'];
  file: string;
}

/** Writes the signed bundle to `out` (atomically: a half-written bundle never has the final name). */
export async function writeBundle(
  out: string,
  about: Omit<Manifest, 'format' | 'parts'>,
  parts: BundlePart[],
  key: KeyObject,
): Promise<Manifest> {
  const described: Manifest['parts'] = [];
  for (const p of parts) described.push({ name: p.name, role: p.role, bytes: (await stat(p.file)).size, sha256: await sha256File(p.file) });
  const manifest: Manifest = { format: BUNDLE_FORMAT, ...about, parts: described };
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  const signatureBytes = signManifest(manifestBytes, key);
  const entry = (name: string, size: number, body: OutEntry['body']): OutEntry => ({
    name,
    type: 'file',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size,
    mtime: about.sourceDateEpoch,
    body,
  });
  const temp = path.join(path.dirname(out), `.${path.basename(out)}.partial`);
  try {
    await writeTar(temp, [
      entry(MANIFEST_ENTRY, manifestBytes.length, manifestBytes),
      entry(SIGNATURE_ENTRY, signatureBytes.length, signatureBytes),
      ...parts.map((p, i) => entry(p.name, described[i]!.bytes, { file: p.file, offset: 0 })),
    ]);
    await rename(temp, out);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return manifest;
}
