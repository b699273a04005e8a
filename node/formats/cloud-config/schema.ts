// The cloud-config shapes kiln-firstboot accepts, as TypeBox schemas with hints. Each supported
// top-level key has its own schema so one bad key does not hide the problems of the others; list
// entries that may be a string or a mapping (users, groups) are checked entry by entry, where a
// union error would only say "expected union value". Password fields are typed Unknown here and
// checked in code: a schema message would quote the value, and a password must never be shown.
import { Type, type TSchema } from '@sinclair/typebox';
import { DNS_LABEL, HOSTNAME_PATTERN } from '../../config/schema.ts';
import { hinted, secret, Strict } from '../../../core/schema.ts';

export const Hostname = hinted(
  Type.String({ pattern: HOSTNAME_PATTERN, maxLength: 253 }),
  'lower-case letters, digits, "-" and ".", each label starting and ending with a letter or digit (RFC 1123), e.g. node-1',
);
/** The labels are checked by the pattern; that there is a domain part is checked in code, for a clearer message. */
const Fqdn = hinted(
  Type.String({ pattern: HOSTNAME_PATTERN, maxLength: 253 }),
  'a fully qualified name with a domain, e.g. node-1.example.com',
);
export const FQDN_PATTERN = `^${DNS_LABEL}(\\.${DNS_LABEL})+$`;

// Debian's adduser NAME_REGEX, with "_" allowed first like useradd; 32 is useradd's limit.
export const ACCOUNT_NAME_PATTERN = '^[a-z_][a-z0-9_-]*\\$?$';
export const AccountName = hinted(
  Type.String({ pattern: ACCOUNT_NAME_PATTERN, maxLength: 32 }),
  'lower-case letters, digits, "_" and "-", starting with a letter or "_", at most 32 characters, e.g. ops',
);

const AbsolutePath = hinted(Type.String({ pattern: '^/[^\\x00]*$' }), 'an absolute path, e.g. /etc/app/app.conf');
const OneLine = (hint: string) => hinted(Type.String({ pattern: '^[^\\r\\n]+$' }), hint);
// a folded YAML scalar (`>`) ends with a newline: allowed, and trimmed
const SshKey = hinted(
  Type.String({ pattern: '^[^\\r\\n]+[\\r\\n]*$' }),
  'one public key per entry, e.g. "ssh-ed25519 AAAAC3Nz... you@laptop"',
);

const COMMAND = 'a shell command string ("systemctl restart app") or an argv list ([systemctl, restart, app]); quote numbers and booleans';
const Command = hinted(Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })]), COMMAND);
const Commands = hinted(Type.Array(Command), 'a YAML list of commands');

const SudoRule = OneLine('a sudoers rule on one line, e.g. "ALL=(ALL) NOPASSWD:ALL"');

export const UserObject = Type.Object(
  {
    name: AccountName,
    gecos: Type.Optional(OneLine('a one-line comment, usually the full name')),
    groups: Type.Optional(
      hinted(
        Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })]),
        'a comma-separated string "adm, docker" or a list [adm, docker]',
      ),
    ),
    primary_group: Type.Optional(AccountName),
    shell: Type.Optional(AbsolutePath),
    homedir: Type.Optional(AbsolutePath),
    no_create_home: Type.Optional(Type.Boolean()),
    no_user_group: Type.Optional(Type.Boolean()),
    system: Type.Optional(Type.Boolean()),
    uid: Type.Optional(hinted(Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]+$' })]), 'a number such as 1001')),
    lock_passwd: Type.Optional(Type.Boolean()),
    passwd: Type.Optional(secret(Type.Unknown())),
    hashed_passwd: Type.Optional(secret(Type.Unknown())),
    plain_text_passwd: Type.Optional(secret(Type.Unknown())),
    'plain-text-passwd': Type.Optional(secret(Type.Unknown())),
    ssh_authorized_keys: Type.Optional(Type.Array(SshKey)),
    sudo: Type.Optional(
      hinted(
        Type.Union([SudoRule, Type.Array(Type.Union([SudoRule, Type.Null()])), Type.Literal(false), Type.Null()]),
        'a sudoers rule such as "ALL=(ALL) NOPASSWD:ALL", a list of rules, or false for none',
      ),
    ),
  },
  { ...Strict, description: 'a user account' },
);

const Users = hinted(Type.Array(Type.Unknown()), 'a YAML list of user mappings (name, groups, ssh_authorized_keys, ...)');
const Groups = hinted(Type.Array(Type.Unknown()), 'a YAML list of group names, or "name: [members]" mappings');
export const GroupMembers = hinted(Type.Union([Type.String(), Type.Array(AccountName)]), 'a user name or a list of user names');

export const ENCODINGS = ['text/plain', 'text', 'b64', 'base64', 'gz', 'gzip', 'gz+b64', 'gz+base64', 'gzip+b64', 'gzip+base64'] as const;

export const WriteFile = Type.Object(
  {
    path: AbsolutePath,
    content: Type.Optional(hinted(Type.Union([Type.String(), Type.Uint8Array()]), 'a string, or !!binary data')),
    encoding: Type.Optional(
      hinted(Type.Union(ENCODINGS.map((e) => Type.Literal(e))), 'text/plain (the default), b64 for base64, gz+b64 for gzip then base64'),
    ),
    owner: Type.Optional(
      hinted(Type.String({ pattern: '^[^:\\s]+(:[^:\\s]+)?$' }), 'user or user:group, e.g. root:root or www-data:www-data'),
    ),
    permissions: Type.Optional(
      hinted(
        Type.Union([Type.String({ pattern: '^(0o)?[0-7]{3,5}$' }), Type.Integer({ minimum: 0, maximum: 0o7777 })]),
        "an octal mode as a quoted string, e.g. '0644' or '0600'",
      ),
    ),
    append: Type.Optional(Type.Boolean()),
    defer: Type.Optional(Type.Boolean()),
    source: Type.Optional(Type.Unknown()),
  },
  { ...Strict, description: 'a file to write' },
);
const WriteFiles = hinted(Type.Array(Type.Unknown()), 'a YAML list of files (path, content, permissions, ...)');

export const Ntp = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    servers: Type.Optional(Type.Array(hinted(Type.String({ pattern: '^\\S+$' }), 'a host name or IP address, e.g. ntp1.example.com'))),
    pools: Type.Optional(Type.Array(hinted(Type.String({ pattern: '^\\S+$' }), 'a pool host name, e.g. 0.debian.pool.ntp.org'))),
  },
  { description: 'time servers; other keys are reported as not applied' },
);

// IANA names are Area/Location or Area/Region/Location (America/Argentina/Salta, Etc/GMT+3).
const TIMEZONE_PATTERN = '^(UTC|[A-Z][A-Za-z]+(/[A-Za-z0-9][A-Za-z0-9_+-]*){1,2})$';
const Timezone = hinted(
  Type.String({ pattern: TIMEZONE_PATTERN }),
  'an IANA time zone name such as Europe/Berlin, America/New_York or UTC',
);

const ManageEtcHosts = hinted(
  Type.Union([Type.Boolean(), Type.Literal('localhost'), Type.Literal('template')]),
  'true (write /etc/hosts for this node), false, or "localhost" (add a 127.0.1.1 line to /etc/hosts)',
);

/** Per supported key, the schema its value is checked against (`kiln` is checked by the node config rules; `ntp: null` means defaults). */
export const KEY_SCHEMAS = {
  hostname: Hostname,
  fqdn: Fqdn,
  prefer_fqdn_over_hostname: Type.Boolean(),
  preserve_hostname: Type.Boolean(),
  manage_etc_hosts: ManageEtcHosts,
  users: Users,
  groups: Groups,
  ssh_authorized_keys: Type.Array(SshKey),
  write_files: WriteFiles,
  bootcmd: Commands,
  runcmd: hinted(
    Type.Array(hinted(Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 }), Type.Null()]), COMMAND)),
    'a YAML list of commands',
  ),
  ntp: Ntp,
  timezone: Timezone,
} satisfies Record<string, TSchema>;
