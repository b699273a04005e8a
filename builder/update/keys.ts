// The update keys a spec names: the private key that signs the update output (it stays on the
// build host, and must be readable by its owner alone, as ssh insists for its keys) and the public
// keys baked into the image as the only signers whose bundles the node accepts. Read once, checked
// before any work; an error names the file and never quotes its bytes.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { KilnError } from '../../core/errors.ts';
import { readInputFile } from '../../core/fs.ts';
import { keyId, updatePublicKey } from '../../node/update/manifest.ts';
import type { ResolvedSpec } from '../spec/defaults.ts';
import { updatePrivateKey } from './bundle.ts';

const KEY_BYTES = 16 * 1024;

/** A public key the image trusts: its id names the file it is baked as. */
export interface TrustedKey {
  keyId: string;
  pem: string;
}

/** Errors of one key file carry the spec field that named it (loadSpecFile locates it in the spec). */
const within = <T>(field: string, read: () => Promise<T>): Promise<T> =>
  read().catch((e: unknown) => {
    if (!(e instanceof KilnError)) throw e;
    throw new KilnError(e.message, { file: e.file, path: field, hint: e.hint, exitCode: 2, cause: e });
  });

/** The signing key, or undefined when the spec names none. */
export async function signingKey(spec: ResolvedSpec): Promise<KeyObject | undefined> {
  const name = spec.update.signingKey;
  if (name === undefined) return undefined;
  const file = path.resolve(spec.dir, name);
  return within('/update/signingKey', async () => {
    const pem = await readInputFile(file, {
      what: 'the update signing key',
      hint: 'name the .key file kiln keygen wrote',
      maxBytes: KEY_BYTES,
    });
    const key = updatePrivateKey(pem!, file);
    const mode = (await stat(file)).mode & 0o777;
    if (mode & 0o077)
      throw new KilnError(`the update signing key is readable by others (mode ${mode.toString(8).padStart(4, '0')})`, {
        file,
        hint: `whoever reads it can sign updates every node accepts: chmod 600 ${name}`,
        exitCode: 2,
      });
    return key;
  });
}

/** The public keys to bake: trustedKeys as named, or the signing key's public half. */
export async function trustedKeys(spec: ResolvedSpec): Promise<TrustedKey[]> {
  const keys: KeyObject[] = [];
  for (const [i, name] of spec.update.trustedKeys.entries()) {
    const file = path.resolve(spec.dir, name);
    keys.push(
      await within(`/update/trustedKeys/${i}`, async () => {
        const pem = await readInputFile(file, {
          what: 'a trusted update key',
          hint: 'name a .pub file kiln keygen wrote',
          maxBytes: KEY_BYTES,
        });
        return updatePublicKey(pem!, file);
      }),
    );
  }
  if (keys.length === 0) {
    const own = await signingKey(spec);
    if (own) keys.push(createPublicKey(own));
  }
  const baked = keys.map((k) => ({ keyId: keyId(k), pem: k.export({ type: 'spki', format: 'pem' }) as string }));
  return baked.filter((k, i) => baked.findIndex((o) => o.keyId === k.keyId) === i);
}
