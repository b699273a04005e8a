// Directories, files and links, in Ignition's order: directories first so files land in them,
// links last so their targets exist.
import { renameNics } from './system.ts';
import { writeFileAtomic } from '../../core/fs.ts';
import { readFile } from 'node:fs/promises';
import type { Contents } from '../../node/model.ts';
import type { ApplyContext } from './context.ts';
import { makeDirectory, makeLink, readIds, resolveOwner, under } from './fs.ts';

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
    // a file holding a token or key is never group- or world-readable, whatever the metadata said
    await writeFileAtomic(target, data, f.secret ? f.mode & 0o700 : f.mode, resolveOwner(ids, f.user, f.group));
  }
  // an Ignition config carries its networkd .link files (NIC names by MAC) as plain files: renamed now, not next boot
  if (ctx.model.files.some((f) => /^\/etc\/systemd\/network\/[^/]+\.link$/.test(f.path))) await renameNics(ctx);
  return `${ctx.model.files.length} file${ctx.model.files.length === 1 ? '' : 's'}`;
}

export async function applyLinks(ctx: ApplyContext): Promise<string> {
  for (const l of ctx.model.links) await makeLink(under(ctx.root, l.path), l.target, l.hard, ctx.root);
  return `${ctx.model.links.length} link${ctx.model.links.length === 1 ? '' : 's'}`;
}
