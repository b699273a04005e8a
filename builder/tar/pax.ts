// pax extended header records ("<len> <key>=<value>\n"), handled as bytes: xattr values are binary.

export function parsePax(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space === -1) break;
    const length = parseInt(data.subarray(pos, space).toString('ascii'), 10);
    if (!length) break;
    const record = data.subarray(space + 1, pos + length - 1); // drop the trailing newline
    const eq = record.indexOf(0x3d);
    if (eq !== -1) out.set(record.subarray(0, eq).toString('utf8'), Buffer.from(record.subarray(eq + 1)));
    pos += length;
  }
  return out;
}

export function encodePax(records: Array<[string, Buffer | string]>): Buffer {
  return Buffer.concat(
    records.map(([key, value]) => {
      const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.isBuffer(value) ? value : Buffer.from(value), Buffer.from('\n')]);
      // The length field counts its own digits.
      let length = body.length + String(body.length).length;
      if (String(length).length !== String(body.length).length) length = body.length + String(length).length;
      return Buffer.concat([Buffer.from(String(length)), body]);
    }),
  );
}

const octal = (n: number, width: number) => `${n.toString(8).padStart(width - 1, '0')}\0`;

/**
 * A ustar header block plus padded data for a pax extended header ('x'). Built by hand because
 * tar-stream only writes pax records from strings, which would mangle binary xattr values.
 */
export function paxHeaderBlocks(records: Buffer, mtime: number): Buffer {
  const header = Buffer.alloc(512);
  header.write('./PaxHeaders/entry', 0, 'ascii');
  header.write(octal(0o644, 8), 100, 'ascii');
  header.write(octal(0, 8), 108, 'ascii');
  header.write(octal(0, 8), 116, 'ascii');
  header.write(octal(records.length, 12), 124, 'ascii');
  header.write(octal(mtime, 12), 136, 'ascii');
  header.write('x', 156, 'ascii');
  header.write('ustar\x0000', 257, 'ascii');
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  const padding = Buffer.alloc((512 - (records.length % 512)) % 512);
  return Buffer.concat([header, records, padding]);
}
