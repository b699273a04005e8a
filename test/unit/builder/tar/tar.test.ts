import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { comparePaths } from '../../../../builder/tar/order.ts';
import { encodePax, parsePax } from '../../../../builder/tar/pax.ts';
import { indexTar } from '../../../../builder/tar/read.ts';
import { writeTar, type OutEntry } from '../../../../builder/tar/write.ts';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'kiln-tar-'));
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

// security.capability for cap_net_raw+ep: binary, with bytes ≥ 0x80 that a UTF-8 round trip would mangle
const CAP = Buffer.from('0100000200200000000000000000000000000000', 'hex');
CAP[0] = 0x01;
const BINARY = Buffer.from([0x00, 0xff, 0x80, 0x0a, 0x3d, 0x20, 0xc3]);
const longDir = `usr/share/${'deep/'.repeat(30)}x`;

function sample(): OutEntry[] {
  return [
    { name: '', type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 1000 },
    { name: 'etc', type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 1000 },
    { name: 'etc/.pwd.lock', type: 'file', mode: 0o600, uid: 0, gid: 0, size: 0, mtime: 1000, body: Buffer.alloc(0) },
    { name: 'etc/hosts', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 10, mtime: 1000, body: Buffer.from('127.0.0.1\n') },
    { name: 'usr', type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 1000 },
    { name: 'usr/bin', type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 1000 },
    {
      name: 'usr/bin/ping',
      type: 'file',
      mode: 0o755,
      uid: 0,
      gid: 0,
      size: 4,
      mtime: 1000,
      body: Buffer.from('ELF!'),
      xattrs: new Map([
        ['security.capability', CAP],
        ['user.binary', BINARY],
      ]),
    },
    { name: 'usr/bin/pong', type: 'link', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 1000, linkname: 'usr/bin/ping' },
    { name: 'usr/bin/sh', type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, mtime: 1000, linkname: 'dash' },
    { name: 'usr/bin/tëst', type: 'file', mode: 0o600, uid: 1000, gid: 1000, size: 2, mtime: 1000, body: Buffer.from('hi') },
    { name: longDir, type: 'file', mode: 0o644, uid: 0, gid: 0, size: 4, mtime: 1000, body: Buffer.from('long') },
    { name: 'dev', type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 1000 },
    { name: 'dev/null', type: 'character-device', mode: 0o666, uid: 0, gid: 0, size: 0, mtime: 1000, devmajor: 1, devminor: 3 },
  ];
}

describe('pax records', () => {
  it('round-trips binary values and gets the self-counting length right', () => {
    const records: Array<[string, Buffer]> = [
      ['SCHILY.xattr.security.capability', CAP],
      ['path', Buffer.from('a'.repeat(95))], // record length crosses from 2 to 3 digits
    ];
    const encoded = encodePax(records);
    const parsed = parsePax(encoded);
    expect(parsed.get('SCHILY.xattr.security.capability')).toEqual(CAP);
    expect(parsed.get('path')?.toString()).toBe('a'.repeat(95));
    const firstLen = Number(encoded.toString('latin1').split(' ')[0]);
    expect(encoded.subarray(firstLen - 1, firstLen).toString()).toBe('\n');
  });
});

describe('tar writer and index', () => {
  it('writes what GNU tar reads back: long and non-ASCII names, links, devices, contents', () => {
    const dir = tmp();
    const file = path.join(dir, 'a.tar');
    return writeTar(file, sample()).then(() => {
      const listing = execFileSync('tar', ['-tvf', file], { encoding: 'utf8' });
      expect(listing).toContain(`./${longDir}`);
      expect(listing).toContain('./usr/bin/tëst');
      expect(listing).toMatch(/hrwxr-xr-x 0\/0 .* \.\/usr\/bin\/pong link to \.\/usr\/bin\/ping/);
      expect(listing).toMatch(/crw-rw-rw- 0\/0 +1,3 .* \.\/dev\/null/);
      expect(listing).toMatch(/-rw------- 1000\/1000 .* \.\/usr\/bin\/tëst/);
      expect(execFileSync('tar', ['-xOf', file, `./${longDir}`], { encoding: 'utf8' })).toBe('long');
      // GNU tar sees the xattrs too (SCHILY.xattr records)
      const xattrs = execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-tvvf', file, './usr/bin/ping'], { encoding: 'utf8' });
      expect(xattrs).toContain('security.capability');
    });
  });

  it('indexes its own output losslessly, binary xattrs included', async () => {
    const dir = tmp();
    const file = path.join(dir, 'a.tar');
    await writeTar(file, sample());
    const index = await indexTar(file);
    const ping = index.find((e) => e.name === 'usr/bin/ping')!;
    expect(ping.xattrs?.get('security.capability')).toEqual(CAP);
    expect(ping.xattrs?.get('user.binary')).toEqual(BINARY);
    expect(
      readFileSync(file)
        .subarray(ping.offset, ping.offset + 4)
        .toString(),
    ).toBe('ELF!');
    expect(index.find((e) => e.name === longDir)?.size).toBe(4);
    expect(index.find((e) => e.name === 'usr/bin/pong')).toMatchObject({ type: 'link', linkname: 'usr/bin/ping' });
    expect(index.find((e) => e.name === 'dev/null')).toMatchObject({ devmajor: 1, devminor: 3 });
    expect(index.map((e) => e.name)).toEqual(sample().map((e) => e.name));
  });

  it('re-packs a GNU tar archive (pax format with xattrs) through index → writer unchanged in content', async () => {
    const dir = tmp();
    const file = path.join(dir, 'a.tar');
    await writeTar(file, sample());
    const index = await indexTar(file);
    const again = path.join(dir, 'b.tar');
    await writeTar(
      again,
      index.map((e) => ({ ...e, body: e.type === 'file' ? { file, offset: e.offset } : undefined })),
    );
    expect(sha(again)).toBe(sha(file));
  });

  it('streams files larger than one chunk and reads them back byte for byte', async () => {
    const dir = tmp();
    const big = Buffer.alloc(20 * 1024 * 1024 + 123);
    for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) & 0xff;
    writeFileSync(path.join(dir, 'src.bin'), Buffer.concat([Buffer.from('prefix'), big]));
    const file = path.join(dir, 'big.tar');
    await writeTar(file, [
      {
        name: 'boot/initrd.img',
        type: 'file',
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: big.length,
        mtime: 5,
        body: { file: path.join(dir, 'src.bin'), offset: 6 },
      },
    ]);
    expect(execFileSync('tar', ['-xOf', file, './boot/initrd.img'], { maxBuffer: 64 << 20 }).equals(big)).toBe(true);
  });

  it('is deterministic: same entries, same bytes', async () => {
    const dir = tmp();
    await writeTar(path.join(dir, '1.tar'), sample());
    await writeTar(path.join(dir, '2.tar'), sample());
    expect(sha(path.join(dir, '1.tar'))).toBe(sha(path.join(dir, '2.tar')));
  });

  it('refuses a file entry whose body does not match its size', async () => {
    const dir = tmp();
    await expect(
      writeTar(path.join(dir, 'x.tar'), [
        { name: 'f', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 5, mtime: 0, body: Buffer.from('abc') },
      ]),
    ).rejects.toThrow(/header says 5/);
  });

  it('rejects a corrupt archive with the byte offset', async () => {
    const dir = tmp();
    const file = path.join(dir, 'bad.tar');
    await writeTar(file, sample());
    const bytes = readFileSync(file);
    bytes[600] = bytes[600]! ^ 0xff; // inside the second header
    writeFileSync(file, bytes);
    await expect(indexTar(file)).rejects.toThrow(/corrupt tar header at byte 512/);
  });
});

describe('archive order', () => {
  it('puts a directory before its children, and its children before a sibling sharing its prefix', () => {
    const names = ['etc/a-b', 'etc/a/x', 'etc', '', 'etc/a', 'usr', 'etc/B', 'dev/null', 'dev'];
    expect([...names].sort(comparePaths)).toEqual(['', 'dev', 'dev/null', 'etc', 'etc/B', 'etc/a', 'etc/a/x', 'etc/a-b', 'usr']);
  });

  it('matches GNU tar --sort=name on a real directory', () => {
    const dir = tmp();
    const root = path.join(dir, 'root');
    execFileSync('sh', [
      '-c',
      `mkdir -p ${root}/etc/a ${root}/etc/a-b ${root}/etc/a.d ${root}/Z && touch ${root}/etc/a/x ${root}/etc/a-b/y ${root}/etc/ab ${root}/etc/a.d/z ${root}/Z/q`,
    ]);
    const gnu = execFileSync('tar', ['--sort=name', '-cf', '-', '-C', root, '.'], { maxBuffer: 1 << 24 });
    writeFileSync(path.join(dir, 'g.tar'), gnu);
    const listed = execFileSync('tar', ['-tf', path.join(dir, 'g.tar')], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((n) => n.replace(/^\.\/?/, '').replace(/\/$/, ''));
    expect([...listed].sort(comparePaths)).toEqual(listed);
  });
});
