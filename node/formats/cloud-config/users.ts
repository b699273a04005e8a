// users, groups and the top-level ssh_authorized_keys.
//
// - `default` in users means cloud-init's distro default user; kiln images have none: a warning.
// - Passwords are crypt(3) hashes only. plain_text_passwd is an error: kiln refuses cleartext
//   passwords in metadata. No message ever quotes a password field's value.
// - groups entries `{name: [members]}`: the model has no group members, so a member that is listed
//   under users gets the group among its supplementary groups (groups are created before users);
//   any other member is a warning (kiln does not change accounts it does not create).
// - Top-level ssh_authorized_keys belong to cloud-init's default user, which kiln images do not
//   have. Kiln gives them to root (appended to /root/.ssh/authorized_keys, or to a `root` entry in
//   users) and says so in a warning: the node stays reachable with the keys its owner gave, and
//   the default user they were meant for has passwordless sudo on cloud images anyway.
import type { GroupSpec, UserSpec } from '../../model.ts';
import { ACCOUNT_NAME_PATTERN, AccountName, GroupMembers, KEY_SCHEMAS, UserObject } from './schema.ts';
import { isMapping, seg, type Context } from './report.ts';

const ACCOUNT = new RegExp(ACCOUNT_NAME_PATTERN);
// $id$[params$]salt$hash: md5 (1), bcrypt (2a/2b/2y), sha256 (5), sha512 (6), yescrypt (y), gost-yescrypt (gy), scrypt (7)
const CRYPT_HASH = /^\$(1|2[abxy]|5|6|7|y|gy)\$[^\s:]+$/;
const MKPASSWD = 'make one with `mkpasswd -m sha-512` (package whois) and put the hash in hashed_passwd';

export function applyUsers(cfg: Record<string, unknown>, ctx: Context): void {
  const { report, model } = ctx;
  if (cfg.groups !== undefined && report.check(KEY_SCHEMAS.groups, cfg.groups, '/groups')) groups(cfg.groups as unknown[], ctx, 'groups');
  if (cfg.users !== undefined && report.check(KEY_SCHEMAS.users, cfg.users, '/users'))
    (cfg.users as unknown[]).forEach((u, i) => user(u, `/users/${i}`, ctx));
  if (cfg.groups !== undefined && report.problems.length === 0) groups(cfg.groups as unknown[], ctx, 'members');
  if (
    cfg.ssh_authorized_keys !== undefined &&
    report.check(KEY_SCHEMAS.ssh_authorized_keys, cfg.ssh_authorized_keys, '/ssh_authorized_keys')
  )
    rootKeys(cfg.ssh_authorized_keys as string[], ctx);
  const seen = new Set<string>();
  model.users.forEach((u) => {
    if (seen.has(u.name)) report.error(u.origin.path, `user "${u.name}" is listed twice`, 'list each user once, with all its settings');
    seen.add(u.name);
  });
}

/** Two passes: `groups` creates the groups before users exist; `members` adds them to users after. */
function groups(entries: unknown[], ctx: Context, pass: 'groups' | 'members'): void {
  const { report, model } = ctx;
  entries.forEach((entry, i) => {
    const path = `/groups/${i}`;
    let name: string;
    let members: string[] = [];
    if (typeof entry === 'string') {
      name = entry;
    } else if (isMapping(entry) && Object.keys(entry).length === 1) {
      name = Object.keys(entry)[0]!;
      const value = entry[name];
      if (pass === 'groups' && value !== null && !report.check(GroupMembers, value, `${path}/${seg(name)}`)) return;
      members =
        value === null
          ? []
          : typeof value === 'string'
            ? value
                .split(',')
                .map((m) => m.trim())
                .filter(Boolean)
            : (value as string[]);
    } else {
      if (pass === 'groups')
        report.error(
          path,
          'a groups entry is a group name or a single "name: [members]" mapping',
          'e.g. - admins  or  - admins: [alice, bob]',
        );
      return;
    }
    if (pass === 'groups') {
      if (!report.check(AccountName, name, typeof entry === 'string' ? path : `${path}/${seg(name)}`)) return;
      if (model.groups.some((g) => g.name === name)) return report.error(path, `group "${name}" is listed twice`, 'list each group once');
      const spec: GroupSpec = { name, system: false, origin: { file: report.origin, path } };
      model.groups.push(spec);
      return;
    }
    for (const member of members) {
      const target = model.users.find((u) => u.name === member);
      if (target) {
        if (!target.groups.includes(name)) target.groups.push(name);
      } else {
        report.warn(
          `${path}/${seg(name)}`,
          `"${member}" is not added to group "${name}": kiln adds members only for users listed under users`,
          `list "${member}" under users with groups: [${name}], or add runcmd: [usermod, -aG, ${name}, ${member}]`,
        );
      }
    }
  });
}

function user(entry: unknown, path: string, ctx: Context): void {
  const { report, model } = ctx;
  const origin = { file: report.origin, path };
  if (typeof entry === 'string') {
    if (entry === 'default')
      return report.warn(
        path,
        'kiln images have no default user: "default" creates nothing',
        'list the accounts you need by name, with their ssh_authorized_keys',
      );
    if (!report.check(AccountName, entry, path)) return;
    model.users.push(blankUser(entry, origin));
    return;
  }
  if (!isMapping(entry))
    return report.error(
      path,
      'a users entry is a mapping with at least a name (or the string "default")',
      'e.g. - name: ops\n      ssh_authorized_keys: [ssh-ed25519 AAAA...]',
    );
  let ok = report.check(UserObject, entry, path);
  for (const key of ['plain_text_passwd', 'plain-text-passwd']) {
    if (entry[key] === undefined) continue;
    ok = false;
    report.error(
      `${path}/${key}`,
      'kiln refuses cleartext passwords in metadata (the value is not shown)',
      `anyone who can read the seed can read it; ${MKPASSWD}`,
    );
  }
  for (const key of ['passwd', 'hashed_passwd']) {
    const value = entry[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || !CRYPT_HASH.test(value)) {
      ok = false;
      report.error(
        `${path}/${key}`,
        `${key} must be a crypt(3) password hash such as "$6$salt$..." (the value is not shown)`,
        `if that was a cleartext password, change it: it is in the metadata; ${MKPASSWD}`,
      );
    }
  }
  if (!ok) return;
  const u = entry as Record<string, unknown> & { name: string };
  const list = (v: unknown): string[] =>
    v === undefined || v === null || v === false
      ? []
      : typeof v === 'string'
        ? [v]
        : (v as Array<string | null>).filter((x): x is string => x !== null);
  const groupNames =
    typeof u.groups === 'string'
      ? u.groups
          .split(',')
          .map((g) => g.trim())
          .filter(Boolean)
      : ((u.groups as string[] | undefined) ?? []);
  const badGroup = groupNames.findIndex((g) => !ACCOUNT.test(g));
  if (badGroup >= 0)
    return report.error(
      `${path}/groups`,
      `"${groupNames[badGroup]}" is not a valid group name`,
      'lower-case letters, digits, "_" and "-", separated by commas: "adm, docker"',
    );
  const spec: UserSpec = {
    ...blankUser(u.name, origin),
    ...(u.uid !== undefined ? { uid: Number(u.uid) } : {}),
    ...(typeof u.gecos === 'string' ? { gecos: u.gecos } : {}),
    ...(typeof u.homedir === 'string' ? { homeDir: u.homedir } : {}),
    // cloud-init passes -M (no home) to useradd for system users too
    noCreateHome: u.no_create_home === true || u.system === true,
    ...(typeof u.primary_group === 'string' ? { primaryGroup: u.primary_group } : {}),
    groups: groupNames,
    noUserGroup: u.no_user_group === true,
    ...(typeof u.shell === 'string' ? { shell: u.shell } : {}),
    system: u.system === true,
    // hashed_passwd is applied after passwd in cloud-init: for a new user it wins
    ...(typeof (u.hashed_passwd ?? u.passwd) === 'string' ? { passwordHash: (u.hashed_passwd ?? u.passwd) as string } : {}),
    lockPassword: u.lock_passwd !== false,
    sshAuthorizedKeys: list(u.ssh_authorized_keys).map((k) => k.trim()),
    sudo: list(u.sudo),
  };
  model.users.push(spec);
}

function blankUser(name: string, origin: UserSpec['origin']): UserSpec {
  return {
    name,
    noCreateHome: false,
    groups: [],
    noUserGroup: false,
    system: false,
    lockPassword: true,
    sshAuthorizedKeys: [],
    sudo: [],
    origin,
  };
}

function rootKeys(keys: string[], ctx: Context): void {
  const { report, model } = ctx;
  if (keys.length === 0) return;
  const trimmed = keys.map((k) => k.trim());
  const origin = { file: report.origin, path: '/ssh_authorized_keys' };
  const root = model.users.find((u) => u.name === 'root');
  if (root) {
    root.sshAuthorizedKeys.push(...trimmed.filter((k) => !root.sshAuthorizedKeys.includes(k)));
  } else {
    model.directories.push({ path: '/root/.ssh', mode: 0o700, user: { name: 'root' }, group: { name: 'root' }, overwrite: true, origin });
    model.files.push({
      path: '/root/.ssh/authorized_keys',
      append: [{ kind: 'inline', data: Buffer.from(trimmed.map((k) => `${k}\n`).join('')) }],
      mode: 0o600,
      user: { name: 'root' },
      group: { name: 'root' },
      overwrite: true,
      secret: false,
      origin,
    });
  }
  report.warn(
    '/ssh_authorized_keys',
    `top-level ssh_authorized_keys are given to root: cloud-init gives them to the default user, and kiln images have none`,
    'to log in as another account, move the keys under that users entry',
  );
}
