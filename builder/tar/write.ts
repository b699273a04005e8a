// Writes tar entries with tar-stream, in the order given, with pax records we encode ourselves
// (binary-safe xattrs). Names are written GNU-style: `./etc/hosts`, directories with a trailing slash.
import { createWriteStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { encodePax, paxHeaderBlocks } from './pax.ts';
import type { TarHeader } from './read.ts';

export type EntryBody = Buffer | { file: string; offset: number };

export interface OutEntry extends TarHeader {
  body?: EntryBody;
}

const CHUNK = 8 * 1024 * 1024;

async function readExactly(fh: FileHandle, offset: number, length: number, name: string): Promise<Buffer> {
  const data = Buffer.alloc(length);
  const { bytesRead } = await fh.read(data, 0, length, offset);
  if (bytesRead !== length) throw new Error(`tar writer: ${name}: short read`);
  return data;
}

const isAscii = (s: string) => /^[\x20-\x7e]*$/.test(s);

function tarName(e: TarHeader): string {
  if (e.name === '') return './';
  return `./${e.name}${e.type === 'directory' ? '/' : ''}`;
}

/** Whether ustar's 100-byte name (+155 prefix) holds this path, as tar-stream splits it. */
function fitsUstar(name: string): boolean {
  if (!isAscii(name)) return false;
  if (name.length <= 100) return true;
  const cut = name.lastIndexOf('/', name.length - 2);
  for (let i = name.indexOf('/'); i !== -1 && i <= cut; i = name.indexOf('/', i + 1)) {
    if (i <= 155 && name.length - i - 1 <= 100) return true;
  }
  return false;
}

export async function writeTar(outFile: string, entries: Iterable<OutEntry>): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, createWriteStream(outFile, { mode: 0o644 }));
  const handles = new Map<string, FileHandle>();
  const add = (header: tar.Header, body?: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body) pack.entry(header, body, cb);
      else pack.entry(header, cb);
    });
  try {
    for (const e of entries) {
      const name = tarName(e);
      const records: Array<[string, Buffer | string]> = [];
      if (!fitsUstar(name)) records.push(['path', name]);
      if (e.linkname && (!isAscii(e.linkname) || Buffer.byteLength(e.linkname) > 100))
        records.push(['linkpath', e.type === 'link' ? `./${e.linkname}` : e.linkname]);
      for (const [key, value] of [...(e.xattrs ?? [])].sort(([a], [b]) => (a < b ? -1 : 1))) records.push([`SCHILY.xattr.${key}`, value]);
      const mtime = new Date(e.mtime * 1000);
      if (records.length > 0) {
        // Between entries (the previous one has completed) the pack stream takes raw blocks.
        pack.push(paxHeaderBlocks(encodePax(records), e.mtime));
      }
      const header = {
        name: records.some(([k]) => k === 'path') ? './@PaxPath' : name,
        type: e.type,
        mode: e.mode,
        uid: e.uid,
        gid: e.gid,
        uname: '',
        gname: '',
        size: e.type === 'file' ? e.size : 0,
        mtime,
        ...(e.linkname
          ? { linkname: records.some(([k]) => k === 'linkpath') ? '@PaxLink' : e.type === 'link' ? `./${e.linkname}` : e.linkname }
          : {}),
        ...(e.devmajor !== undefined ? { devmajor: e.devmajor, devminor: e.devminor } : {}),
      } as tar.Header;
      if (e.type !== 'file') {
        await add(header);
      } else if (e.size === 0) {
        await add(header, Buffer.alloc(0)); // a file sink without a body waits for one forever
      } else if (Buffer.isBuffer(e.body)) {
        if (e.body.length !== e.size) throw new Error(`tar writer: ${e.name}: body is ${e.body.length} bytes, header says ${e.size}`);
        await add(header, e.body);
      } else if (e.body) {
        const src = e.body;
        let fh = handles.get(src.file);
        if (!fh) handles.set(src.file, (fh = await open(src.file, 'r')));
        if (e.size <= CHUNK) {
          await add(header, await readExactly(fh, src.offset, e.size, e.name));
        } else {
          // Large files (kernels, initrds, images) are copied in chunks; tar-stream's sink is a
          // streamx Writable, so wait on its own 'drain' rather than node's stream.pipeline.
          const sink = pack.entry(header);
          const finished = new Promise<void>((resolve, reject) => {
            sink.on('finish', resolve);
            sink.on('error', reject);
          });
          for (let done = 0; done < e.size;) {
            const n = Math.min(CHUNK, e.size - done);
            const chunk = await readExactly(fh, src.offset + done, n, e.name);
            done += n;
            if (!sink.write(chunk)) await new Promise<void>((resolve) => sink.once('drain', () => resolve()));
          }
          sink.end(undefined as unknown as Buffer);
          await finished;
        }
      } else {
        throw new Error(`tar writer: ${e.name}: file entry without a body`);
      }
    }
    pack.finalize();
    await done;
  } catch (error) {
    pack.destroy(error as Error);
    await done.catch(() => undefined);
    throw error;
  } finally {
    await Promise.all([...handles.values()].map((h) => h.close()));
  }
}
