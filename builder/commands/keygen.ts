// `kiln keygen --out DIR [--name NAME]`: the ed25519 key pair update bundles are signed with.
// NAME.key (0600) stays with whoever builds bundles; NAME.pub goes into image specs (update.keys),
// so their nodes accept bundles the key signed. Existing files are never overwritten.
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { KilnError } from '../../core/errors.ts';
import { mkdirs, writeFileAtomic } from '../../core/fs.ts';
import { writeOut } from '../../core/output.ts';
import { generateUpdateKeys } from '../update/bundle.ts';

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export async function keygenCommand(positionals: string[], opts: Record<string, unknown>): Promise<number> {
  const usage = 'kiln keygen --out keys [--name update]';
  if (positionals.length > 0) throw new KilnError('keygen takes no arguments', { hint: usage, exitCode: 2 });
  if (typeof opts.out !== 'string' || opts.out === '') throw new KilnError('--out DIR is required', { hint: usage, exitCode: 2 });
  const name = typeof opts.name === 'string' ? opts.name : 'update';
  if (!NAME.test(name))
    throw new KilnError(`--name ${JSON.stringify(name)} is not a plain file name`, {
      hint: 'letters, digits, . _ -, e.g. --name update-2027',
      exitCode: 2,
    });
  const keyFile = path.join(opts.out, `${name}.key`);
  const pubFile = path.join(opts.out, `${name}.pub`);
  for (const file of [keyFile, pubFile])
    if (
      await access(file, constants.F_OK).then(
        () => true,
        () => false,
      )
    )
      throw new KilnError('exists; a key is never overwritten', {
        file,
        hint: 'give another --name (a node trusts every key its image lists, so old and new can overlap)',
        exitCode: 2,
      });
  const keys = generateUpdateKeys();
  await mkdirs(opts.out, 0o700);
  await writeFileAtomic(keyFile, keys.privatePem, 0o600);
  await writeFileAtomic(pubFile, keys.publicPem, 0o644);
  writeOut(
    `${keyFile}: ed25519 private key (keep it off the nodes)\n${pubFile}: its public key, id ${keys.keyId}: nodes whose image trusts it accept the update bundles its key signs\n`,
  );
  return 0;
}
