// Writing into the target root: atomic, exact modes and owners, never following a symlink out of it.
import { chmod, chown, lstat, mkdir, rm, symlink, link } from 'node:fs/promises';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import type { Owner } from '../../node/model.ts';

/** Joins an absolute node path onto root; `..` cannot climb out (paths are normalized upstream). */
export function under(root: string, p: string): string {
  return path.join(root, path.posix.normalize(`/${p}`));
}

interface Ids {
  users: Map<string, { uid: number; gid: number; home: string }>;
  groups: Map<string, number>;
}

/** Reads the root's own passwd and group: names resolve as the node will see them. */
export function readIds(root: string): Ids {
  const lines = (f: string) => {
    try {
      return readFileSync(under(root, f), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(':'));
    } catch {
      return [];
    }
  };
  return {
    users: new Map(lines('/etc/passwd').map((f) => [f[0]!, { uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '/' }])),
    groups: new Map(lines('/etc/group').map((f) => [f[0]!, Number(f[2])])),
  };
}

export function resolveOwner(ids: Ids, user: Owner | undefined, group: Owner | undefined): { uid: number; gid: number } {
  const uid = user?.id ?? (user?.name !== undefined ? ids.users.get(user.name)?.uid : 0);
  const gid =
    group?.id ?? (group?.name !== undefined ? ids.groups.get(group.name) : user?.name !== undefined ? ids.users.get(user.name)?.gid : 0);
  if (uid === undefined) throw new Error(`user "${user?.name}" does not exist on the node`);
  if (gid === undefined) throw new Error(`group "${group?.name}" does not exist on the node`);
  return { uid, gid };
}

export async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

/** Creates missing parents (0755, root) the way Ignition does. */
export async function ensureParents(file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
}

export async function makeDirectory(dir: string, mode: number, owner: { uid: number; gid: number }): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chown(dir, owner.uid, owner.gid);
  await chmod(dir, mode);
}

export async function makeLink(at: string, target: string, hard: boolean, root: string): Promise<void> {
  await ensureParents(at);
  await rm(at, { force: true });
  // hard link targets are node paths; resolve them inside root
  if (hard) await link(under(root, target), at);
  else await symlink(target, at);
}
