import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateUpdateKeys } from '../../../../builder/update/bundle.ts';
import { signingKey, trustedKeys } from '../../../../builder/update/keys.ts';
import type { ResolvedSpec } from '../../../../builder/spec/defaults.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const a = generateUpdateKeys();
const b = generateUpdateKeys();
const write = (name: string, text: string, mode = 0o644) => {
  writeFileSync(path.join(dir, name), text);
  chmodSync(path.join(dir, name), mode);
};
write('a.key', a.privatePem, 0o600);
write('a.pub', a.publicPem);
write('b.pub', b.publicPem);
write('rsa.pub', generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }) as string);
const spec = (update: ResolvedSpec['update']) => ({ dir, update }) as ResolvedSpec;

describe('the update keys a spec names', () => {
  it('bakes the trusted keys by id, each once, or else the signing key’s public half', async () => {
    expect((await trustedKeys(spec({ trustedKeys: ['a.pub', 'b.pub'] }))).map((k) => k.keyId)).toEqual([a.keyId, b.keyId]);
    const own = await trustedKeys(spec({ signingKey: 'a.key', trustedKeys: [] }));
    expect(own).toEqual([{ keyId: a.keyId, pem: a.publicPem }]);
    expect(await trustedKeys(spec({ trustedKeys: [] }))).toEqual([]);
    expect(await signingKey(spec({ trustedKeys: [] }))).toBeUndefined();
  });

  it('names the field and file of a key that is missing, of the wrong kind or not a key', async () => {
    await expect(trustedKeys(spec({ trustedKeys: ['a.pub', 'gone.pub'] }))).rejects.toMatchObject({
      path: '/update/trustedKeys/1',
      file: path.join(dir, 'gone.pub'),
      message: 'cannot read a trusted update key: it does not exist',
    });
    await expect(trustedKeys(spec({ trustedKeys: ['rsa.pub'] }))).rejects.toMatchObject({
      path: '/update/trustedKeys/0',
      message: 'a rsa key, not ed25519',
    });
    await expect(signingKey(spec({ signingKey: 'a.pub', trustedKeys: [] }))).rejects.toMatchObject({
      path: '/update/signingKey',
      message: 'not a PEM private key',
      exitCode: 2,
    });
  });

  it('refuses a signing key others can read, without a word of its contents', async () => {
    chmodSync(path.join(dir, 'a.key'), 0o640);
    const error = (await signingKey(spec({ signingKey: 'a.key', trustedKeys: [] })).then(
      () => new Error('no error'),
      (e: unknown) => e,
    )) as Error & { hint: string };
    chmodSync(path.join(dir, 'a.key'), 0o600);
    expect(error.message).toBe('the update signing key is readable by others (mode 0640)');
    expect(error.hint).toBe('whoever reads it can sign updates every node accepts: chmod 600 a.key');
    expect(`${error.message} ${error.hint}`).not.toContain(a.privatePem.split('\n')[1]!);
  });
});
