// Composes the final rootfs entry list: the cached base tar's entries, minus what overlays remove,
// plus what they add, in archive order, with owners numeric and mtimes clamped to SOURCE_DATE_EPOCH.
import path from 'node:path';
import { KilnError } from '../../core/errors.ts';
import type { BaseView, FileOp, OverlayOps } from '../overlays/types.ts';
import { comparePaths } from '../tar/order.ts';
import type { IndexedEntry } from '../tar/read.ts';
import type { OutEntry } from '../tar/write.ts';

export function baseView(baseTar: string, entries: IndexedEntry[]): BaseView & { readBuffer(p: string): Promise<Buffer> } {
  const byName = new Map(entries.map((e) => [e.name, e]));
  const readBuffer = async (p: string) => {
    const e = byName.get(p);
    if (!e || e.type !== 'file') throw new Error(`${p} is not a file in the base rootfs`);
    const { open } = await import('node:fs/promises');
    const fh = await open(baseTar, 'r');
    try {
      const buf = Buffer.alloc(e.size);
      await fh.read(buf, 0, e.size, e.offset);
      return buf;
    } finally {
      await fh.close();
    }
  };
  return {
    has: (p) => byName.has(p),
    list: (dir) =>
      entries
        .filter((e) => path.posix.dirname(e.name) === dir)
        .map((e) => e.name)
        .sort(),
    readText: async (p) => (await readBuffer(p)).toString('utf8'),
    readBuffer,
  };
}

/** A view with nothing in it: lets overlays render before the base exists, to fail early. */
export const EMPTY_BASE: BaseView = { has: () => false, list: () => [], readText: async () => '' };

function globToRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]*')}$`,
  );
}

function groupIds(groupFile: string): Map<string, number> {
  return new Map(
    groupFile
      .split('\n')
      .map((l) => l.split(':'))
      .filter((f) => f.length >= 3)
      .map((f) => [f[0]!, Number(f[2])]),
  );
}

export interface ComposeInput {
  baseTar: string;
  base: IndexedEntry[];
  overlays: Array<{ name: string; ops: OverlayOps }>;
  sourceDateEpoch: number;
  /** Contents of the base /etc/group, for group names in overlay ops. */
  groupFile: string;
}

export function composeRootfs(input: ComposeInput): OutEntry[] {
  const { baseTar, sourceDateEpoch } = input;
  const groups = groupIds(input.groupFile);
  const entries = new Map<string, OutEntry>();
  const baseByName = new Map<string, IndexedEntry>();
  for (const e of input.base) {
    baseByName.set(e.name, e);
    entries.set(e.name, { ...e, body: e.type === 'file' ? { file: baseTar, offset: e.offset } : undefined });
  }

  for (const { ops } of input.overlays) {
    for (const glob of ops.remove) {
      const re = globToRegExp(glob);
      for (const name of [...entries.keys()]) if (re.test(name)) entries.delete(name);
    }
    for (const op of ops.files) place(entries, op, groups, sourceDateEpoch);
  }

  relinkHardLinks(entries, baseByName, baseTar);

  return [...entries.values()]
    .map((e) => ({ ...e, mtime: Math.min(e.mtime, sourceDateEpoch) }))
    .sort((a, b) => comparePaths(a.name, b.name));
}

function place(entries: Map<string, OutEntry>, op: FileOp, groups: Map<string, number>, mtime: number): void {
  const fail = (message: string, hint: string) => {
    throw new KilnError(`overlay ${op.overlay}: ${op.path}: ${message}`, { hint });
  };
  if (!op.path || op.path.startsWith('/') || op.path.split('/').includes('..'))
    fail('not a relative path inside the rootfs', 'overlay paths are relative to /');
  const gid = typeof op.group === 'string' ? groups.get(op.group) : (op.group ?? 0);
  if (gid === undefined)
    fail(`group "${op.group}" does not exist in the base rootfs`, 'add the package that creates the group, or use a numeric gid');

  // Parents: create missing directories; refuse to write through a symlink (e.g. /lib → usr/lib).
  const parts = op.path.split('/');
  for (let i = 1; i < parts.length; i++) {
    const dir = parts.slice(0, i).join('/');
    const existing = entries.get(dir);
    if (existing?.type === 'symlink')
      fail(`parent ${dir} is a symlink in the base rootfs`, `write to the path it points to (${existing.linkname}) instead`);
    if (existing && existing.type !== 'directory') fail(`parent ${dir} is not a directory`, 'remove it first or choose another path');
    if (!existing) entries.set(dir, { name: dir, type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtime });
  }

  const existing = entries.get(op.path);
  if (op.type === 'directory') {
    if (existing && existing.type !== 'directory') fail('exists and is not a directory', 'remove it in the same overlay first');
    entries.set(op.path, {
      ...(existing ?? { name: op.path, size: 0, mtime }),
      type: 'directory',
      mode: op.mode,
      uid: op.uid ?? 0,
      gid: gid!,
      xattrs: existing?.xattrs,
    });
    return;
  }
  if (existing?.type === 'directory') fail('exists as a directory in the base rootfs', 'an overlay file cannot replace a directory');
  const base = { name: op.path, mode: op.mode, uid: op.uid ?? 0, gid: gid!, mtime };
  if (op.type === 'symlink') entries.set(op.path, { ...base, type: 'symlink', size: 0, linkname: op.target });
  else if (op.source) entries.set(op.path, { ...base, type: 'file', size: op.source.size, body: { file: op.source.file, offset: 0 } });
  else entries.set(op.path, { ...base, type: 'file', size: op.data!.length, body: op.data! });
}

/**
 * Hard links must follow the file they link to in the archive. After sorting, a link can come
 * before its target, and overlays may have replaced the target: make the first surviving member
 * of each link group carry the data and link the others to it.
 */
function relinkHardLinks(entries: Map<string, OutEntry>, base: Map<string, IndexedEntry>, baseTar: string): void {
  const groups = new Map<string, string[]>();
  for (const e of entries.values()) if (e.type === 'link') groups.set(e.linkname!, [...(groups.get(e.linkname!) ?? []), e.name]);
  for (const [target, links] of groups) {
    const original = base.get(target);
    if (!original || original.type !== 'file')
      throw new KilnError(`hard link to ${target}, which is not a file in the base rootfs`, {
        hint: 'the base tar is inconsistent; rebuild with --no-cache',
      });
    const targetIntact =
      entries.get(target)?.type === 'file' && (entries.get(target)!.body as { offset?: number } | undefined)?.offset === original.offset;
    const members = [...(targetIntact ? [target] : []), ...links].sort(comparePaths);
    const [first, ...rest] = members;
    const head = entries.get(first!)!;
    entries.set(first!, {
      ...original,
      name: first!,
      mtime: head.mtime,
      type: 'file',
      linkname: undefined,
      body: { file: baseTar, offset: original.offset },
    });
    for (const name of rest)
      entries.set(name, { ...original, name, type: 'link', size: 0, linkname: first!, body: undefined, xattrs: undefined });
  }
}
