// What a node knows before it takes an update: the keys its image trusts (baked by the update-keys
// overlay, each file named by its key's id) and the image it runs (/etc/kiln/image.json). Both are
// read under `root` with the input reader's limits, and a key file whose name is not its key's id
// is refused: a renamed or swapped key is a tampered image, not a key to trust.
import type { KeyObject } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { KilnError } from '../../core/errors.ts';
import { readInputFile } from '../../core/fs.ts';
import { readStateFile } from '../../core/json.ts';
import { IMAGE_JSON, UPDATE_KEYS_DIR } from '../../node/layout.ts';
import { keyId, updatePublicKey, type RunningImage } from '../../node/update/manifest.ts';

const MAX_KEYS = 16;
const KEY_FILE = /^([0-9a-f]{16})\.pub$/;

/** The public keys this node's image trusts for update bundles (none: it takes no bundle). */
export async function trustedUpdateKeys(root: string): Promise<KeyObject[]> {
  const dir = path.join(root, UPDATE_KEYS_DIR);
  const names = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw new KilnError(`cannot list ${dir}: ${e.code}`, { cause: e, exitCode: 2, hint: 'the image’s update keys are unreadable' });
  });
  const files = names.filter((n) => KEY_FILE.test(n)).sort();
  if (files.length > MAX_KEYS)
    throw new KilnError(`${dir} holds ${files.length} keys, more than the ${MAX_KEYS} an image bakes`, {
      exitCode: 2,
      hint: 'the image was tampered with',
    });
  const keys: KeyObject[] = [];
  for (const name of files) {
    const file = path.join(dir, name);
    const pem = await readInputFile(file, { what: 'a trusted update key', hint: 'the image was tampered with', maxBytes: 16 * 1024 });
    const key = updatePublicKey(pem!, file);
    if (keyId(key) !== KEY_FILE.exec(name)![1])
      throw new KilnError(`holds key ${keyId(key)}, not the key its name says`, { file, exitCode: 2, hint: 'the image was tampered with' });
    keys.push(key);
  }
  return keys;
}

const RunningSchema = Type.Object({
  name: Type.String(),
  specHash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  sourceDateEpoch: Type.Integer({ minimum: 0 }),
  kubernetesVersion: Type.String(),
});

/** The image this node runs, as its image.json says; the freshness check compares bundles with it. */
export async function runningImage(root: string): Promise<RunningImage & { kubernetes: string }> {
  const file = path.join(root, IMAGE_JSON);
  const remedy = 'the image’s own record is missing or damaged: reinstall the node';
  const facts = await readStateFile<Static<typeof RunningSchema>>(file, RunningSchema, remedy);
  if (!facts) throw new KilnError('the image record is missing', { file, hint: remedy, exitCode: 2 });
  return { image: facts.name, specHash: facts.specHash, sourceDateEpoch: facts.sourceDateEpoch, kubernetes: facts.kubernetesVersion };
}
