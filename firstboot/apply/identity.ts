// Hostname, users and groups.
import { writeFileAtomic } from '../../core/fs.ts';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { UserSpec } from '../../node/model.ts';
import { run, type ApplyContext } from './context.ts';
import { exists, makeDirectory, readIds, under } from './fs.ts';
import { setHostsEntry } from './hosts.ts';

export async function applyHostname(ctx: ApplyContext): Promise<string> {
  const { hostname, fqdn } = ctx.model;
  const short = hostname ?? fqdn!.split('.')[0]!;
  await writeFileAtomic(under(ctx.root, '/etc/hostname'), `${short}\n`, 0o644);
  // Debian's convention: the node's own names on 127.0.1.1, so sudo and friends resolve it offline;
  // a Kubernetes node's own name resolves to its advertise address instead (kubelet, kubeadm)
  const node = ctx.model.node?.node;
  const address = node && [short, fqdn].includes(node.name) ? node.advertiseAddress : '127.0.1.1';
  const hostsFile = under(ctx.root, '/etc/hosts');
  const current = await readFile(hostsFile, 'utf8').catch(() => '127.0.0.1\tlocalhost\n');
  await writeFileAtomic(hostsFile, setHostsEntry(current, address, fqdn && fqdn !== short ? [fqdn, short] : [short]), 0o644);
  // the kernel's hostname, as hostname(1) sets it, without spawning a process this early in boot
  if (ctx.live) await writeFile('/proc/sys/kernel/hostname', short);
  return short;
}

const prefix = (ctx: ApplyContext) => (ctx.root === '/' ? [] : ['--prefix', ctx.root]);

export async function applyGroups(ctx: ApplyContext): Promise<string> {
  const known = readIds(ctx.root).groups;
  for (const g of ctx.model.groups) {
    if (known.has(g.name)) continue;
    await run(ctx, 'groupadd', [
      ...prefix(ctx),
      ...(g.gid !== undefined ? ['--gid', String(g.gid)] : []),
      ...(g.system ? ['--system'] : []),
      ...(g.passwordHash ? ['--password', g.passwordHash] : []),
      g.name,
    ]);
  }
  return ctx.model.groups.map((g) => g.name).join(', ');
}

function userFlags(u: UserSpec, isNew: boolean): string[] {
  const f: string[] = [];
  if (u.uid !== undefined) f.push('--uid', String(u.uid));
  if (u.gecos !== undefined) f.push('--comment', u.gecos);
  if (u.homeDir !== undefined) f.push('--home', u.homeDir);
  if (u.shell !== undefined) f.push('--shell', u.shell);
  if (u.primaryGroup !== undefined) f.push('--gid', u.primaryGroup);
  if (u.groups.length > 0) f.push(isNew ? '--groups' : '--append', ...(isNew ? [] : ['--groups']), u.groups.join(','));
  if (isNew) {
    f.push(u.noCreateHome ? '--no-create-home' : '--create-home');
    if (u.system) f.push('--system');
    if (u.noUserGroup) f.push('--no-user-group');
    else if (u.primaryGroup === undefined) f.push('--user-group');
    if (!u.shell) f.push('--shell', '/bin/bash');
  }
  return f;
}

export async function applyUsers(ctx: ApplyContext): Promise<string> {
  for (const u of ctx.model.users) {
    const isNew = !readIds(ctx.root).users.has(u.name);
    const flags = userFlags(u, isNew);
    if (isNew) await run(ctx, 'useradd', [...prefix(ctx), ...flags, u.name]);
    else if (flags.length > 0) await run(ctx, 'usermod', [...prefix(ctx), ...flags, u.name]);
    if (u.passwordHash) await setPasswordHash(ctx.root, u.name, u.passwordHash);
    if (u.lockPassword) await run(ctx, 'usermod', [...prefix(ctx), '--lock', u.name]);
    await writeAuthorizedKeys(ctx, u);
    if (u.sudo.length > 0) {
      await writeFileAtomic(
        under(ctx.root, `/etc/sudoers.d/90-kiln-${u.name}`),
        `# written by kiln-firstboot\n${u.sudo.map((rule) => `${u.name} ${rule}`).join('\n')}\n`,
        0o440,
      );
    }
  }
  return ctx.model.users
    .map(
      (u) =>
        `${u.name}${u.sshAuthorizedKeys.length ? ` (${u.sshAuthorizedKeys.length} key${u.sshAuthorizedKeys.length > 1 ? 's' : ''})` : ''}`,
    )
    .join(', ');
}

/**
 * Writes the hash into /etc/shadow directly: on argv (usermod -p) it would be world-readable in
 * /proc, and bookworm's chpasswd cannot work on a prefix root.
 */
async function setPasswordHash(root: string, user: string, hash: string): Promise<void> {
  const file = under(root, '/etc/shadow');
  const st = await stat(file);
  const lines = (await readFile(file, 'utf8')).split('\n');
  const i = lines.findIndex((l) => l.startsWith(`${user}:`));
  if (i === -1) throw new Error(`${user} has no /etc/shadow entry`);
  const fields = lines[i]!.split(':');
  fields[1] = hash;
  fields[2] = String(Math.floor(Date.now() / 86_400_000)); // last change, in days
  lines[i] = fields.join(':');
  await writeFileAtomic(file, lines.join('\n'), st.mode & 0o7777, { uid: st.uid, gid: st.gid });
}

async function writeAuthorizedKeys(ctx: ApplyContext, u: UserSpec): Promise<void> {
  if (u.sshAuthorizedKeys.length === 0) return;
  const entry = readIds(ctx.root).users.get(u.name)!;
  const sshDir = under(ctx.root, path.posix.join(entry.home, '.ssh'));
  const owner = { uid: entry.uid, gid: entry.gid };
  if (!(await exists(sshDir))) await makeDirectory(sshDir, 0o700, owner);
  const file = path.join(sshDir, 'authorized_keys');
  const current = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  const merged = [...current, ...u.sshAuthorizedKeys.filter((k) => !current.includes(k))];
  await writeFileAtomic(file, `${merged.join('\n')}\n`, 0o600, owner);
}
