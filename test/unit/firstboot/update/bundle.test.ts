// Update bundles end to end without a VM: kiln's writer signs them (ed25519, Node's crypto), the
// node's reader verifies the signature, freshness and every part before a sink sees a byte, and
// refuses a tampered part, a tampered manifest, an unknown key, a truncated file, a replayed older
// bundle and a reordered or extra entry, each with its own clear message.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { generateUpdateKeys, signManifest, updatePrivateKey, writeBundle } from '../../../../builder/update/bundle.ts';
import { writeTar } from '../../../../builder/tar/write.ts';
import { runProgram } from '../../../../core/cli.ts';
import { readBundle, type ManifestPart } from '../../../../firstboot/update/bundle.ts';
import { KILN } from '../../../../builder/program.ts';
import { keyId, updatePublicKey, type RunningImage } from '../../../../node/update/manifest.ts';

const dir = path.join(os.tmpdir(), `kiln-bundle-test-${process.pid}`);
mkdirSync(dir, { recursive: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const signer = generateUpdateKeys();
const key = updatePrivateKey(signer.privatePem, 'update.key');
const trusted: KeyObject[] = [updatePublicKey(signer.publicPem, 'update.pub')];
const RUNNING: RunningImage = { image: 'node', specHash: 'a'.repeat(64), sourceDateEpoch: 1_747_699_200 };
const ABOUT = { kiln: '0.1.0', image: 'node', specHash: 'b'.repeat(64), kubernetes: 'v1.31.5', sourceDateEpoch: 1_750_000_000 };

// parts with recognisable bytes: 300 KiB of root (crosses tar-stream's chunks), a kernel, an initrd
const partFiles = {
  root: path.join(dir, 'root.img.zst'),
  kernel: path.join(dir, 'vmlinuz'),
  initrd: path.join(dir, 'initrd.img'),
};
writeFileSync(partFiles.root, Buffer.alloc(300 * 1024, 'r'));
writeFileSync(partFiles.kernel, 'kernel bytes\n');
writeFileSync(partFiles.initrd, Buffer.alloc(5000, 'i'));
const PARTS = [
  { name: 'root.img.zst', role: 'root' as const, file: partFiles.root },
  { name: 'vmlinuz', role: 'kernel' as const, file: partFiles.kernel },
  { name: 'initrd.img', role: 'initrd' as const, file: partFiles.initrd },
];

async function bundle(name: string, about = ABOUT): Promise<string> {
  const file = path.join(dir, name);
  await writeBundle(file, about, PARTS, key);
  return file;
}

/** A sink that keeps what it was given, part by part. */
function collecting(): { sink: (p: ManifestPart, data: Readable) => Promise<void>; got: Map<string, Buffer> } {
  const got = new Map<string, Buffer>();
  return {
    got,
    sink: async (part, data) => {
      const chunks: Buffer[] = [];
      for await (const c of data) chunks.push(c as Buffer);
      got.set(part.name, Buffer.concat(chunks));
    },
  };
}

/** Flips one byte `at` bytes into the first occurrence of `marker` in the file. */
function flip(file: string, marker: string, at = 0): void {
  const data = readFileSync(file);
  const i = data.indexOf(marker);
  expect(i).toBeGreaterThan(-1);
  data[i + at] = data[i + at]! ^ 0x01;
  writeFileSync(file, data);
}

describe('update bundles', () => {
  it('verify and hand each part, byte for byte, to the sink; the manifest names image, versions and hashes', async () => {
    const file = await bundle('good.kub');
    const { sink, got } = collecting();
    const manifest = await readBundle(file, trusted, RUNNING, sink);
    expect(manifest).toMatchObject({ format: 'kiln-update-v1', image: 'node', kubernetes: 'v1.31.5' });
    expect(manifest.parts.map((p) => [p.name, p.role, p.bytes])).toEqual([
      ['root.img.zst', 'root', 300 * 1024],
      ['vmlinuz', 'kernel', 13],
      ['initrd.img', 'initrd', 5000],
    ]);
    for (const p of PARTS) expect(got.get(p.name)?.equals(readFileSync(p.file)), p.name).toBe(true);
    // the same inputs give the same bundle bytes (ed25519 signatures are deterministic)
    expect(readFileSync(await bundle('again.kub')).equals(readFileSync(file))).toBe(true);
  });

  it('refuse a tampered part after reading it, with the sink told nothing is to be used', async () => {
    const file = await bundle('tampered-part.kub');
    flip(file, 'kernel bytes');
    const { sink, got } = collecting();
    await expect(readBundle(file, trusted, RUNNING)).rejects.toThrow(
      "the bundle's vmlinuz does not match its sha256 in the signed manifest",
    );
    await expect(readBundle(file, trusted, RUNNING, sink)).rejects.toThrow(/vmlinuz does not match its sha256/);
    expect([...got.keys()]).toEqual(['root.img.zst', 'vmlinuz']); // the root came first and was whole; vmlinuz is the throw
  });

  it('refuse a manifest changed after signing before any part is read', async () => {
    const file = await bundle('tampered-manifest.kub');
    flip(file, '"kubernetes": "v1.31.5"', 20); // v1.31.5 → v1.31.4: same length, still valid JSON
    const { sink, got } = collecting();
    await expect(readBundle(file, trusted, RUNNING, sink)).rejects.toThrow(/manifest does not match its signature by key [0-9a-f]{16}/);
    expect(got.size).toBe(0);
  });

  it('refuse a bundle signed by a key the node does not trust, naming both', async () => {
    const file = await bundle('good.kub');
    const other = generateUpdateKeys();
    const error = await readBundle(file, [createPublicKey(other.publicPem)], RUNNING).catch((e: Error) => e);
    expect((error as Error).message).toBe(
      `the bundle is signed by key ${signer.keyId}, which this node does not trust (it trusts: ${other.keyId})`,
    );
    expect(keyId(trusted[0]!)).toBe(signer.keyId);
  });

  it('refuse a truncated file, whether it ends inside a part or before one', async () => {
    const inside = await bundle('cut-inside.kub');
    truncateSync(inside, statSync(inside).size - 6000); // into the initrd
    await expect(readBundle(inside, trusted, RUNNING)).rejects.toThrow(/not a whole tar archive|ends before its part/);
    const before = await bundle('cut-before.kub');
    truncateSync(before, 1536); // the manifest and no more
    await expect(readBundle(before, trusted, RUNNING)).rejects.toThrow(/not a whole tar archive|ends before its manifest/);
  });

  it('refuse to go back: an older build, the image that runs, another image', async () => {
    const file = await bundle('good.kub');
    await expect(readBundle(file, trusted, { ...RUNNING, sourceDateEpoch: ABOUT.sourceDateEpoch })).rejects.toThrow(
      /an older bundle is never installed again/,
    );
    await expect(readBundle(file, trusted, { ...RUNNING, specHash: ABOUT.specHash })).rejects.toThrow(/already runs that image/);
    await expect(readBundle(file, trusted, { ...RUNNING, image: 'edge' })).rejects.toThrow(
      'the bundle is of image node; this node runs edge',
    );
  });

  it('refuse entries out of the signed order, or one the manifest does not list', async () => {
    const good = await bundle('good.kub');
    const { sink } = collecting();
    const manifest = await readBundle(good, trusted, RUNNING, sink);
    const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
    const entry = (name: string, body: Buffer) => ({
      name,
      type: 'file' as const,
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: body.length,
      mtime: 0,
      body,
    });
    const signed = [entry('manifest.json', manifestBytes), entry('manifest.sig.json', signManifest(manifestBytes, key))];
    const parts = PARTS.map((p) => entry(p.name, readFileSync(p.file)));
    const swapped = path.join(dir, 'swapped.kub');
    await writeTar(swapped, [...signed, parts[1]!, parts[0]!, parts[2]!]);
    await expect(readBundle(swapped, trusted, RUNNING)).rejects.toThrow(
      'the bundle\'s part 1 is "vmlinuz", not the manifest\'s root.img.zst',
    );
    const extra = path.join(dir, 'extra.kub');
    await writeTar(extra, [...signed, ...parts, entry('evil.sh', Buffer.from('#!/bin/sh\n'))]);
    await expect(readBundle(extra, trusted, RUNNING)).rejects.toThrow(
      'the bundle holds "evil.sh", which its signed manifest does not list',
    );
    const unsigned = path.join(dir, 'unsigned.kub');
    await writeTar(unsigned, [signed[0]!, ...parts]);
    await expect(readBundle(unsigned, trusted, RUNNING)).rejects.toThrow(
      `the bundle's second entry is "root.img.zst", not manifest.sig.json`,
    );
  });
});

describe('kiln keygen', () => {
  const run = async (argv: string[]) => {
    let out = '';
    const capture = (chunk: unknown) => ((out += String(chunk)), true);
    const o = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    const e = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    try {
      return { code: await runProgram(KILN, argv), out };
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
  };

  it('writes the private key 0600 and the public key 0644, and never overwrites either', async () => {
    const keys = path.join(dir, 'keys');
    const first = await run(['keygen', '--out', keys]);
    expect(first.code, first.out).toBe(0);
    expect((statSync(path.join(keys, 'update.key')).mode & 0o777).toString(8)).toBe('600');
    expect((statSync(path.join(keys, 'update.pub')).mode & 0o777).toString(8)).toBe('644');
    const pub = updatePublicKey(readFileSync(path.join(keys, 'update.pub'), 'utf8'), 'update.pub');
    expect(first.out).toContain(`id ${keyId(pub)}`);
    const before = readFileSync(path.join(keys, 'update.key'));
    const again = await run(['keygen', '--out', keys]);
    expect(again.code).toBe(2);
    expect(again.out).toMatch(/update\.key: exists; a key is never overwritten/);
    expect(again.out).not.toMatch(/\n\s+at /);
    expect(readFileSync(path.join(keys, 'update.key')).equals(before)).toBe(true);
    expect((await run(['keygen', '--out', keys, '--name', '../x'])).code).toBe(2);
  });

  it('signs with what it wrote: a bundle from the new key verifies against its .pub', async () => {
    const keys = path.join(dir, 'keys');
    const own = updatePrivateKey(readFileSync(path.join(keys, 'update.key'), 'utf8'), 'update.key');
    const file = path.join(dir, 'own.kub');
    await writeBundle(file, ABOUT, PARTS, own);
    const pub = updatePublicKey(readFileSync(path.join(keys, 'update.pub'), 'utf8'), 'update.pub');
    await expect(readBundle(file, [pub], RUNNING)).resolves.toMatchObject({ image: 'node' });
    expect(() => updatePublicKey(readFileSync(path.join(keys, 'update.key'), 'utf8'), 'update.key')).not.toThrow(); // a private PEM yields its public key
    expect(() => updatePrivateKey(readFileSync(path.join(keys, 'update.pub'), 'utf8'), 'update.pub')).toThrow(/not a PEM private key/);
  });
});
