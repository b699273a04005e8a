// An OCI image layout directory packed as a reproducible tar (sorted, fixed mtime, numeric root
// owner): the same image gives the same archive bytes on every build host.
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

/** The manifest digest the layout's index.json names for its one image. */
export async function layoutDigest(dir: string): Promise<string> {
  const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as { manifests?: Array<{ digest?: string }> };
  const digests = (index.manifests ?? []).map((m) => m.digest).filter((d): d is string => typeof d === 'string');
  if (digests.length !== 1) throw new Error(`${dir}/index.json names ${digests.length} manifests, expected 1`);
  return digests[0]!;
}

async function walk(dir: string, rel = ''): Promise<Array<{ rel: string; dir: boolean }>> {
  const out: Array<{ rel: string; dir: boolean }> = [];
  for (const e of (await readdir(path.join(dir, rel), { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  )) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push({ rel: r, dir: true }, ...(await walk(dir, r)));
    else if (e.isFile()) out.push({ rel: r, dir: false });
    else throw new Error(`${path.join(dir, r)}: not a file or directory`);
  }
  return out;
}

export async function packLayout(dir: string, outFile: string, mtime: number): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, createWriteStream(outFile, { mode: 0o644 }));
  const base = { mtime: new Date(mtime * 1000), uid: 0, gid: 0, uname: '', gname: '' };
  for (const e of await walk(dir)) {
    if (e.dir) {
      pack.entry({ ...base, name: `${e.rel}/`, type: 'directory', mode: 0o755 });
      continue;
    }
    const file = path.join(dir, e.rel);
    const size = (await stat(file)).size;
    await new Promise<void>((resolve, reject) => {
      const sink = pack.entry({ ...base, name: e.rel, type: 'file', mode: 0o644, size }, (err) => (err ? reject(err) : resolve()));
      createReadStream(file).on('error', reject).pipe(sink);
    });
  }
  pack.finalize();
  await done;
}
