// The update bundle's manifest and its signature: the contract between `kiln build`'s update
// output (which signs) and the node (which verifies before it touches a disk). The manifest names
// the image, its Kubernetes version and every part with its size and sha256; an ed25519 signature
// over the manifest's exact bytes, by a key the node was built to trust, makes the parts
// trustworthy in turn. Node's own crypto; no parsing of anything the signature does not cover.
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { KilnError } from '../../core/errors.ts';
import { schemaProblems, Strict } from '../../core/schema.ts';

export const BUNDLE_FORMAT = 'kiln-update-v1';
/** The bundle's first two entries; the parts follow in the manifest's order. */
export const MANIFEST_ENTRY = 'manifest.json';
export const SIGNATURE_ENTRY = 'manifest.sig.json';
export const MANIFEST_MAX_BYTES = 64 * 1024;
export const SIGNATURE_MAX_BYTES = 4 * 1024;

const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });

export const PartSchema = Type.Object(
  {
    /** A plain file name (it becomes a path only under the bundle's own directory). */
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' }),
    role: Type.Union([Type.Literal('root'), Type.Literal('kernel'), Type.Literal('initrd')]),
    bytes: Type.Integer({ minimum: 1, maximum: 64 * 2 ** 30 }),
    sha256: Sha256,
  },
  Strict,
);

export const ManifestSchema = Type.Object(
  {
    format: Type.Literal(BUNDLE_FORMAT),
    kiln: Type.String({ maxLength: 64 }),
    image: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }),
    specHash: Sha256,
    kubernetes: Type.String({ pattern: '^v\\d+\\.\\d+\\.\\d+$' }),
    /** The image's SOURCE_DATE_EPOCH: bundles only move forward in it (no replay of an older one). */
    sourceDateEpoch: Type.Integer({ minimum: 0, maximum: 4102444800 }),
    parts: Type.Array(PartSchema, { minItems: 1, maxItems: 8 }),
  },
  Strict,
);
export type Manifest = Static<typeof ManifestSchema>;

export const SignatureSchema = Type.Object(
  {
    algorithm: Type.Literal('ed25519'),
    /** keyId of the signing key (see keyId). */
    keyId: Type.String({ pattern: '^[0-9a-f]{16}$' }),
    /** base64 of the 64-byte signature over the manifest entry's bytes. */
    signature: Type.String({ pattern: '^[A-Za-z0-9+/]{86}==$' }),
  },
  Strict,
);
export type Signature = Static<typeof SignatureSchema>;

/** A public key's short name: the first 16 hex digits of sha256 over its DER SubjectPublicKeyInfo. */
export function keyId(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

/** An ed25519 public key from PEM; a clear error for anything else. */
export function updatePublicKey(pem: string, file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (cause) {
    throw new KilnError('not a PEM public key', { file, cause, hint: 'use the .pub file kiln keygen wrote', exitCode: 2 });
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new KilnError(`a ${key.asymmetricKeyType} key, not ed25519`, {
      file,
      hint: 'update bundles are signed with kiln keygen’s ed25519 keys',
      exitCode: 2,
    });
  return key;
}

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new KilnError(`the bundle's ${what} is not JSON`, { hint: 'the bundle is damaged or not one kiln build wrote', exitCode: 2 });
  }
}

export interface RunningImage {
  image: string;
  specHash: string;
  sourceDateEpoch: number;
}

/**
 * The manifest, once its signature verifies against one of `trusted` and it is newer than what
 * runs. Nothing of the manifest is read before its signature checks out.
 */
export function verifyManifest(manifestBytes: Buffer, signatureBytes: Buffer, trusted: KeyObject[], running?: RunningImage): Manifest {
  const sig = parseJson(signatureBytes, SIGNATURE_ENTRY);
  const sigProblems = schemaProblems(SignatureSchema, sig, SIGNATURE_ENTRY);
  if (sigProblems.length > 0)
    throw new KilnError(`the bundle's signature is malformed: ${sigProblems[0]!.path} ${sigProblems[0]!.message}`, {
      hint: 'the bundle is damaged or not one kiln build wrote',
      exitCode: 2,
    });
  const { keyId: id, signature } = sig as Signature;
  const key = trusted.find((k) => keyId(k) === id);
  const known = trusted.map(keyId).join(', ') || 'none';
  if (!key)
    throw new KilnError(`the bundle is signed by key ${id}, which this node does not trust (it trusts: ${known})`, {
      hint: 'sign with a key the node’s image trusts (its spec’s update.trustedKeys, or its update.signingKey), or rebuild the node’s image trusting this one',
      exitCode: 2,
    });
  if (!verify(null, manifestBytes, key, Buffer.from(signature, 'base64')))
    throw new KilnError(`the bundle's manifest does not match its signature by key ${id}`, {
      hint: 'the manifest was changed after signing: rebuild the bundle',
      exitCode: 2,
    });
  const manifest = parseJson(manifestBytes, MANIFEST_ENTRY);
  const problems = schemaProblems(ManifestSchema, manifest, MANIFEST_ENTRY);
  if (problems.length > 0)
    throw new KilnError(`the bundle's manifest is not one this kiln reads: ${problems[0]!.path} ${problems[0]!.message}`, {
      hint: 'a bundle from another kiln version? build it with the kiln the node runs',
      exitCode: 2,
    });
  const m = manifest as Manifest;
  const names = new Set(m.parts.map((p) => p.name));
  if (names.size !== m.parts.length)
    throw new KilnError('the bundle names one part twice', { hint: 'the bundle is not one kiln build wrote', exitCode: 2 });
  if (running) freshness(m, running);
  return m;
}

/** An update moves forward: never to an older build, nor again to the one that runs. */
function freshness(m: Manifest, running: RunningImage): void {
  if (m.image !== running.image)
    throw new KilnError(`the bundle is of image ${m.image}; this node runs ${running.image}`, {
      hint: 'build the bundle from this node’s image spec',
      exitCode: 2,
    });
  if (m.specHash === running.specHash)
    throw new KilnError(`this node already runs that image (spec ${m.specHash.slice(0, 12)})`, { hint: 'nothing to update', exitCode: 2 });
  if (m.sourceDateEpoch <= running.sourceDateEpoch)
    throw new KilnError(
      `the bundle is built at ${m.sourceDateEpoch}, not after the running image's ${running.sourceDateEpoch}: an older bundle is never installed again`,
      { hint: 'raise sourceDateEpoch in the spec and build the bundle again', exitCode: 2 },
    );
}
