// Directories, files and links, in Ignition's order: directories first so files land in them,
// links last so their targets exist.
import { gunzipSync } from 'node:zlib';
import { readFile } from 'node:fs/promises';
import type { Contents } from '../model.ts';
import type { ApplyContext } from './context.ts';
import { makeDirectory, makeLink, readIds, resolveOwner, under, writeAtomic } from './fs.ts';

/** Contents are inline by now: the resolver fetched and verified every remote source. */
function bytes(c: Contents): Buffer {
  if (c.kind !== 'inline') throw new Error(`internal: ${c.url} was not fetched before apply`);
  return c.data;
}

export async function applyDirectories(ctx: ApplyContext): Promise<string> {
  const ids = readIds(ctx.root);
  for (const d of ctx.model.directories) await makeDirectory(under(ctx.root, d.path), d.mode, resolveOwner(ids, d.user, d.group));
  return `${ctx.model.directories.length} director${ctx.model.directories.length === 1 ? 'y' : 'ies'}`;
}

export async function applyFiles(ctx: ApplyContext): Promise<string> {
  const ids = readIds(ctx.root);
  for (const f of ctx.model.files) {
    const target = under(ctx.root, f.path);
    const base = f.contents ? bytes(f.contents) : await readFile(target).catch(() => Buffer.alloc(0));
    const data = Buffer.concat([base, ...f.append.map(bytes)]);
    await writeAtomic(target, data, f.mode, resolveOwner(ids, f.user, f.group));
  }
  return `${ctx.model.files.length} file${ctx.model.files.length === 1 ? '' : 's'}`;
}

export async function applyLinks(ctx: ApplyContext): Promise<string> {
  for (const l of ctx.model.links) await makeLink(under(ctx.root, l.path), l.target, l.hard, ctx.root);
  return `${ctx.model.links.length} link${ctx.model.links.length === 1 ? '' : 's'}`;
}

/** Remote contents arrive compressed when the source said so. */
export function decompress(data: Buffer, compression: 'gzip' | undefined): Buffer {
  return compression === 'gzip' ? gunzipSync(data) : data;
}
