// What the tools that apply a model would refuse — or worse, accept and get wrong — checked on the
// model before the first side effect, whichever format produced it: useradd and groupadd (names),
// /etc/passwd, /etc/shadow and /etc/group (one record a line, fields split at ':'), chown (ids are
// 32-bit, and (uid_t)-1 means "unchanged"), the kernel's path limits (255 bytes a component, 4095 a
// path) and its virtual file systems. A newline in a password hash would end the shadow line and
// start another user's; these checks are why it never reaches the file.
import { kernelFs } from '../core/fs.ts';
import type { Problem } from '../core/problem.ts';
import type { Origin, Owner, Provisioning } from './model.ts';

/** useradd's default NAME_REGEX (Debian), at most 32 characters. */
export const ACCOUNT_NAME = /^[a-z_][a-z0-9_-]{0,30}\$?$/;
/** The highest id chown can set: 2^32 - 1 is (uid_t)-1, "leave unchanged". */
export const MAX_ID = 4294967294;
const NAME_MAX = 255;
const PATH_MAX = 4095;

/** How each format names a model field, for problem paths ('' points at the entry itself). */
export type FieldNames = Record<
  'gecos' | 'homeDir' | 'shell' | 'passwordHash' | 'primaryGroup' | 'groups' | 'uid' | 'gid' | 'keys',
  string
> & {
  /** A file's owner: Ignition's user/id, user/name, group/…; cloud-config's one `owner: user:group`. */
  owner: (who: 'user' | 'group', part: 'id' | 'name') => string;
};

export const IGNITION_FIELDS: FieldNames = {
  gecos: 'gecos',
  homeDir: 'homeDir',
  shell: 'shell',
  passwordHash: 'passwordHash',
  primaryGroup: 'primaryGroup',
  groups: 'groups',
  uid: 'uid',
  gid: 'gid',
  keys: 'sshAuthorizedKeys',
  owner: (who, part) => `${who}/${part}`,
};

export const CLOUD_CONFIG_FIELDS: FieldNames = {
  gecos: 'gecos',
  homeDir: 'homedir',
  shell: 'shell',
  passwordHash: '', // passwd, hashed_passwd or plain_text_passwd: the model does not keep which
  primaryGroup: 'primary_group',
  groups: 'groups',
  uid: 'uid',
  gid: 'gid',
  keys: 'ssh_authorized_keys',
  owner: () => 'owner',
};

// A field of a passwd/shadow/group line: no separator, no line break, no other control character.
// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const RECORD_FIELD = /^[^:\n\r\0-\x1f\x7f]*$/;

export function modelProblems(model: Provisioning, fields: FieldNames): Problem[] {
  const problems: Problem[] = [];
  const at = (origin: Origin, field: string, message: string, hint: string) =>
    problems.push({ file: origin.file, path: field ? `${origin.path}/${field}` : origin.path, message, hint, severity: 'error' });
  const name = (origin: Origin, field: string, value: string | undefined, what: string) => {
    if (value !== undefined && !ACCOUNT_NAME.test(value))
      at(
        origin,
        field,
        `the ${what} name is not one useradd accepts`,
        'lower-case letters, digits, _ and -, starting with a letter or _, at most 32 characters',
      );
  };
  const recordField = (origin: Origin, field: string, value: string | undefined, what: string) => {
    if (value !== undefined && !RECORD_FIELD.test(value))
      at(
        origin,
        field,
        `the ${what} holds a ':', a line break or a control character`,
        `/etc/passwd, /etc/shadow and /etc/group split at ':' and end at a line break: the ${what} cannot hold either`,
      );
  };
  const id = (origin: Origin, field: string, value: number | undefined, what: string) => {
    if (value !== undefined && !(Number.isInteger(value) && value >= 0 && value <= MAX_ID))
      at(origin, field, `${what} ${value} is outside 0–${MAX_ID}`, 'ids are 32-bit, and 4294967295 means "unchanged" to chown');
  };
  const absolute = (origin: Origin, field: string, value: string | undefined, what: string) => {
    if (value !== undefined && !value.startsWith('/'))
      at(origin, field, `the ${what} is not an absolute path`, 'e.g. /bin/bash or /home/ops');
  };
  const owner = (origin: Origin, o: Owner | undefined, who: 'user' | 'group') => {
    id(origin, fields.owner(who, 'id'), o?.id, `the ${who} id`);
    name(origin, fields.owner(who, 'name'), o?.name, who);
  };

  for (const u of model.users) {
    name(u.origin, 'name', u.name, 'user');
    recordField(u.origin, fields.gecos, u.gecos, 'GECOS field');
    for (const [field, value, what] of [
      [fields.homeDir, u.homeDir, 'home directory'],
      [fields.shell, u.shell, 'shell'],
    ] as const) {
      recordField(u.origin, field, value, what);
      absolute(u.origin, field, value, what);
    }
    // the hash itself is never shown
    if (u.passwordHash !== undefined && !/^[!-9;-~]*$/.test(u.passwordHash))
      at(
        u.origin,
        fields.passwordHash,
        "the password hash holds a ':', a space, a line break or a control character (the value is not shown)",
        "a crypt(3) hash is one line of printable characters without ':'; make one with `mkpasswd -m yescrypt`",
      );
    name(u.origin, fields.primaryGroup, u.primaryGroup, 'primary group');
    u.groups.forEach((g, i) => name(u.origin, `${fields.groups}/${i}`, g, 'group'));
    id(u.origin, fields.uid, u.uid, 'uid');
    u.sshAuthorizedKeys.forEach((k, i) => {
      if (/[\n\r\0]/.test(k))
        at(u.origin, `${fields.keys}/${i}`, 'an SSH key spans lines', 'one key per entry: authorized_keys reads one key a line');
    });
    u.sudo.forEach((rule) => {
      if (/[\n\r\0]/.test(rule))
        at(u.origin, 'sudo', 'a sudo rule spans lines', 'one rule per list entry: a line break would start another sudoers rule');
    });
  }
  for (const g of model.groups) {
    name(g.origin, 'name', g.name, 'group');
    id(g.origin, fields.gid, g.gid, 'gid');
    if (g.passwordHash !== undefined && !/^[!-9;-~]*$/.test(g.passwordHash))
      at(
        g.origin,
        'passwordHash',
        "the group password hash holds a ':', a space or a line break (the value is not shown)",
        'a crypt(3) hash is one line of printable characters',
      );
  }
  for (const entry of [...model.files, ...model.directories, ...model.links]) {
    const why = pathProblem(entry.path);
    if (why) at(entry.origin, 'path', why.message, why.hint);
    owner(entry.origin, entry.user, 'user');
    owner(entry.origin, entry.group, 'group');
  }
  for (const link of model.links)
    if (link.target.includes('\0') || Buffer.byteLength(link.target) > PATH_MAX)
      at(
        link.origin,
        'target',
        `the link target is longer than ${PATH_MAX} bytes or holds a NUL`,
        'symlink(2) refuses it: give a shorter target',
      );
  return problems;
}

/** What the kernel would refuse about an absolute path (or where nothing can be written). */
export function pathProblem(path: string): { message: string; hint: string } | undefined {
  if (path.includes('\0')) return { message: 'the path holds a NUL byte', hint: 'paths cannot contain NUL' };
  if (Buffer.byteLength(path) > PATH_MAX)
    return { message: `the path is longer than ${PATH_MAX} bytes`, hint: 'the kernel refuses longer paths (PATH_MAX)' };
  const long = path.split('/').find((c) => Buffer.byteLength(c) > NAME_MAX);
  if (long !== undefined)
    return {
      message: `a path component is ${Buffer.byteLength(long)} bytes, more than ${NAME_MAX}`,
      hint: 'file names are at most 255 bytes (NAME_MAX)',
    };
  const virtual = kernelFs(path);
  if (virtual)
    return {
      message: `${path} is in ${virtual}, a kernel-provided file system`,
      hint: 'nothing written there survives a boot: set kernel parameters in /etc/sysctl.d, udev rules in /etc/udev/rules.d',
    };
  return undefined;
}
