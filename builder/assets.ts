// Files kiln ships with itself (overlays/). In the single-file binary they are embedded at bundle
// time (scripts/dist.mjs defines __KILN_ASSETS__); from a source checkout they are read from disk.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

declare const __KILN_ASSETS__: Record<string, { mode: number; data: string }> | undefined;

export interface Asset {
  /** Path relative to the repository root, e.g. `overlays/node-tuning/etc/fstab.hbs`. */
  path: string;
  mode: number;
  data: Buffer;
  /** Set for symbolic links (their target); data is empty then. */
  symlink?: string;
}

const embedded = typeof __KILN_ASSETS__ === 'object' ? __KILN_ASSETS__ : undefined;

export function repoRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
}

/** Every asset under `dir` (relative to the repo root), sorted by path. */
export async function listAssets(dir: string): Promise<Asset[]> {
  const prefix = `${dir.replace(/\/+$/, '')}/`;
  if (embedded) {
    return Object.keys(embedded)
      .filter((p) => p.startsWith(prefix))
      .sort()
      .map((p) => ({ path: p, mode: embedded[p]!.mode, data: Buffer.from(embedded[p]!.data, 'base64') }));
  }
  return readTree(repoRoot(), dir);
}

/** Reads a directory tree from disk as assets (also used for user overlays). Sorted by path. */
export async function readTree(root: string, dir: string): Promise<Asset[]> {
  const { stat, readlink } = await import('node:fs/promises');
  const out: Asset[] = [];
  const entries = await readdir(path.join(root, dir), { recursive: true, withFileTypes: true });
  for (const e of entries) {
    const abs = path.join(e.parentPath, e.name);
    const rel = path.relative(root, abs).split(path.sep).join('/');
    if (e.isSymbolicLink()) out.push({ path: rel, mode: 0o777, data: Buffer.alloc(0), symlink: await readlink(abs) });
    else if (e.isFile()) out.push({ path: rel, mode: (await stat(abs)).mode & 0o7777, data: await readFile(abs) });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
