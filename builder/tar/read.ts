// Indexes a tar file without reading file contents: each entry's header and where its data lives.
// Random access (rather than tar-stream's sequential extract) lets the writer re-order entries, and
// pax records stay raw bytes so binary xattrs such as security.capability survive intact.
import { open } from 'node:fs/promises';
import { parsePax } from './pax.ts';

export type EntryType = 'file' | 'link' | 'symlink' | 'character-device' | 'block-device' | 'directory' | 'fifo';

export interface TarHeader {
  /** Path without leading `./` or `/`, no trailing slash; "" is the root directory. */
  name: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes from `SCHILY.xattr.*` pax records, values as raw bytes. */
  xattrs?: Map<string, Buffer>;
}

export interface IndexedEntry extends TarHeader {
  /** Byte offset of the entry's data in the tar file. */
  offset: number;
}

const TYPES: Record<string, EntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'link',
  '2': 'symlink',
  '3': 'character-device',
  '4': 'block-device',
  '5': 'directory',
  '6': 'fifo',
};

function normalizeName(raw: string): string {
  return raw
    .replace(/^(\.\/|\/)+/, '')
    .replace(/^\.$/, '')
    .replace(/\/+$/, '');
}

function field(block: Buffer, start: number, length: number): string {
  const raw = block.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

function octal(block: Buffer, start: number, length: number): number {
  // GNU base-256 for values that do not fit in octal
  if (block[start]! & 0x80) {
    let value = 0;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + block[i]!;
    return value;
  }
  const text = field(block, start, length).trim();
  return text ? parseInt(text, 8) : 0;
}

function checksumOk(block: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  return sum === octal(block, 148, 8);
}

export async function indexTar(file: string): Promise<IndexedEntry[]> {
  const fh = await open(file, 'r');
  const entries: IndexedEntry[] = [];
  try {
    const block = Buffer.alloc(512);
    let pos = 0;
    let pax: Map<string, Buffer> | undefined;
    let longName: string | undefined;
    let longLink: string | undefined;
    for (;;) {
      const { bytesRead } = await fh.read(block, 0, 512, pos);
      if (bytesRead < 512 || block.every((b) => b === 0)) break;
      if (!checksumOk(block)) throw new Error(`${file}: corrupt tar header at byte ${pos}`);
      const typeflag = String.fromCharCode(block[156]!);
      let size = octal(block, 124, 12);
      const dataOffset = pos + 512;
      const readData = async () => {
        const data = Buffer.alloc(size);
        await fh.read(data, 0, size, dataOffset);
        return data;
      };
      if (typeflag === 'x') pax = parsePax(await readData());
      else if (typeflag === 'g') {
        // global pax headers carry nothing a rootfs needs
      } else if (typeflag === 'L') longName = (await readData()).toString('utf8').replace(/\0+$/, '');
      else if (typeflag === 'K') longLink = (await readData()).toString('utf8').replace(/\0+$/, '');
      else {
        const type = TYPES[typeflag];
        if (!type) throw new Error(`${file}: unsupported tar entry type "${typeflag}" at byte ${pos}`);
        const prefix = field(block, 345, 155);
        const ustarName = prefix ? `${prefix}/${field(block, 0, 100)}` : field(block, 0, 100);
        const paxText = (k: string) => pax?.get(k)?.toString('utf8');
        if (paxText('size')) size = Number(paxText('size'));
        const xattrs = new Map(
          [...(pax ?? [])].filter(([k]) => k.startsWith('SCHILY.xattr.')).map(([k, v]) => [k.slice('SCHILY.xattr.'.length), v]),
        );
        const linkname = paxText('linkpath') ?? longLink ?? field(block, 157, 100);
        entries.push({
          name: normalizeName(paxText('path') ?? longName ?? ustarName),
          type,
          mode: octal(block, 100, 8) & 0o7777,
          uid: paxText('uid') ? Number(paxText('uid')) : octal(block, 108, 8),
          gid: paxText('gid') ? Number(paxText('gid')) : octal(block, 116, 8),
          size: type === 'file' ? size : 0,
          mtime: Math.floor(Number(paxText('mtime') ?? octal(block, 136, 12))),
          ...(linkname ? { linkname: type === 'link' ? normalizeName(linkname) : linkname } : {}),
          ...(type === 'character-device' || type === 'block-device'
            ? { devmajor: octal(block, 329, 8), devminor: octal(block, 337, 8) }
            : {}),
          ...(xattrs.size ? { xattrs } : {}),
          offset: dataOffset,
        });
        pax = undefined;
        longName = undefined;
        longLink = undefined;
      }
      pos = dataOffset + Math.ceil(size / 512) * 512;
    }
  } finally {
    await fh.close();
  }
  return entries;
}
