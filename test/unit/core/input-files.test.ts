// Reading what a user (or a tamperer) left on disk: special files, loops, huge files and corrupt
// state are exit-2 errors naming the file, never a hang, an out-of-memory or a stack trace.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { afterAll, describe, expect, it } from 'vitest';
import { KilnError, ValidationError } from '../../../core/errors.ts';
import { INPUT_BYTES, mkdirs, readInputFile } from '../../../core/fs.ts';
import { readStateFile } from '../../../core/json.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const opts = { what: 'the spec', hint: 'give a file' };

async function refusal(file: string): Promise<KilnError> {
  const t0 = Date.now();
  const error = await readInputFile(file, opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(Date.now() - t0).toBeLessThan(2000);
  expect(error).toBeInstanceOf(KilnError);
  expect((error as KilnError).exitCode).toBe(2);
  expect((error as KilnError).file).toBe(file);
  return error as KilnError;
}

describe('readInputFile', () => {
  it('reads a regular file, and a symlink to one', async () => {
    writeFileSync(path.join(dir, 'a.yaml'), 'a: 1\n');
    symlinkSync('a.yaml', path.join(dir, 'link.yaml'));
    expect(await readInputFile(path.join(dir, 'link.yaml'), opts)).toBe('a: 1\n');
  });

  it('refuses /dev/zero behind a symlink, a FIFO, a directory, a loop and a missing file', async () => {
    symlinkSync('/dev/zero', path.join(dir, 'zero'));
    execFileSync('mkfifo', [path.join(dir, 'fifo')]);
    mkdirSync(path.join(dir, 'sub'));
    symlinkSync('loop-b', path.join(dir, 'loop-a'));
    symlinkSync('loop-a', path.join(dir, 'loop-b'));
    expect((await refusal(path.join(dir, 'zero'))).message).toMatch(/not a regular file/);
    expect((await refusal(path.join(dir, 'fifo'))).message).toMatch(/not a regular file/);
    expect((await refusal(path.join(dir, 'sub'))).message).toMatch(/is a directory/);
    expect((await refusal(path.join(dir, 'loop-a'))).message).toMatch(/ELOOP/);
    expect((await refusal(path.join(dir, 'missing'))).message).toMatch(/does not exist/);
    expect(await readInputFile(path.join(dir, 'missing'), { ...opts, optional: true })).toBeUndefined();
  });

  it('refuses a file past the size budget without reading it', async () => {
    const big = path.join(dir, 'big.yaml');
    writeFileSync(big, '');
    truncateSync(big, INPUT_BYTES + 1); // sparse: nothing is really written
    expect((await refusal(big)).message).toMatch(/more than the 16777216/);
  });
});

describe('readStateFile', () => {
  const schema = Type.Object({ image: Type.String(), seed: Type.Union([Type.Literal('nocloud'), Type.Literal('ignition')]) });
  const remedy = 'remove it and run up again';
  const attempt = async (name: string, text: string) => {
    writeFileSync(path.join(dir, name), text);
    try {
      await readStateFile(path.join(dir, name), schema, remedy);
    } catch (error) {
      return error as ValidationError;
    }
    throw new Error('accepted');
  };

  it('reads a good one, and nothing for a missing one', async () => {
    writeFileSync(path.join(dir, 'state.json'), '{"image": "/x.qcow2", "seed": "nocloud"}');
    expect(await readStateFile(path.join(dir, 'state.json'), schema, remedy)).toEqual({ image: '/x.qcow2', seed: 'nocloud' });
    expect(await readStateFile(path.join(dir, 'none.json'), schema, remedy)).toBeUndefined();
  });

  it.each([
    ['truncated', '{"image": "/x.qc', /^JSON syntax error at line 1:\d+: a string is not closed$/, ''],
    ['null', 'null', /object/, ''],
    ['a wrong field', '{"image": "/x", "seed": "pxe"}', /is not one of: nocloud, ignition/, '/seed'],
  ])('refuses one that is %s with the file, the field and the remedy', async (_what, text, message, at) => {
    const e = await attempt('bad.json', text);
    expect(e).toBeInstanceOf(ValidationError);
    expect(e.exitCode).toBe(2);
    const p = e.problems[0]!;
    expect(p).toMatchObject({ file: path.join(dir, 'bad.json'), path: at, message: expect.stringMatching(message) });
    expect(p.hint).toContain(remedy);
  });

  it('refuses a directory or FIFO in its place without blocking', async () => {
    mkdirSync(path.join(dir, 'state-dir.json'));
    execFileSync('mkfifo', [path.join(dir, 'state-fifo.json')]);
    await expect(readStateFile(path.join(dir, 'state-dir.json'), schema, remedy)).rejects.toThrow(/is a directory/);
    await expect(readStateFile(path.join(dir, 'state-fifo.json'), schema, remedy)).rejects.toThrow(/is not a regular file/);
  });
});

describe('mkdirs', () => {
  it("makes a path one component at a time, and refuses /proc at once (node's recursive mkdir never returns there)", async () => {
    await mkdirs(path.join(dir, 'x/y/z'));
    await mkdirs(path.join(dir, 'x/y/z'));
    const t0 = Date.now();
    const error = await mkdirs('/proc/kiln-mkdirs/a').catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(error).toBeInstanceOf(KilnError);
    expect((error as KilnError).message).toBe('cannot create the directory /proc/kiln-mkdirs (ENOENT)');
    writeFileSync(path.join(dir, 'plain'), '');
    await expect(mkdirs(path.join(dir, 'plain/sub'))).rejects.toThrow(/plain \(a file is in the way\)|plain \(ENOTDIR\)/);
  });
});
