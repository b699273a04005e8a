// What a node is told to become, whichever format said it. Parsers (cloud-config, Ignition,
// network-config) produce this; the resolver fills remote contents; apply steps consume it.
// Nothing here touches the system.
import type { Problem } from '../core/problem.ts';
import type { NodeConfig } from './config/schema.ts';
import type { PinnedHash } from '../core/hash.ts';

// The kiln node config, Kubernetes PKI, SSH host keys and anything named like a key.
const SECRET_FILES = [/^\/etc\/kiln\//, /^\/etc\/kubernetes\/pki\//, /\.key$/, /-key\.pem$/, /^\/etc\/ssh\/ssh_host_[^/]*_key$/];

/** Files that hold tokens or keys, whichever format wrote them: 0600 by default, never readable by others. */
export const isSecretPath = (path: string): boolean => SECRET_FILES.some((re) => re.test(path));

/** Where a value came from, for messages: file plus JSON path, e.g. `user-data: /write_files/2`. */
export interface Origin {
  file: string;
  path: string;
}

export type Contents =
  | { kind: 'inline'; data: Buffer }
  /** Fetched before any side effect; http(s) sources must carry a hash. */
  | { kind: 'remote'; url: string; hash?: PinnedHash; compression?: 'gzip' };

/** A user or group named or numbered; unset means root. */
export interface Owner {
  id?: number;
  name?: string;
}

export interface FileSpec {
  path: string;
  /** Absent with `append` only: append to what is there (or an empty file). */
  contents?: Contents;
  append: Contents[];
  mode: number;
  user?: Owner;
  group?: Owner;
  /** false: fail when a different file is already there (Ignition's default for files). */
  overwrite: boolean;
  /** Holds a token, key or password: written 0600 at most, never logged. */
  secret: boolean;
  origin: Origin;
}

export interface DirectorySpec {
  path: string;
  mode: number;
  user?: Owner;
  group?: Owner;
  overwrite: boolean;
  origin: Origin;
}

export interface LinkSpec {
  path: string;
  target: string;
  hard: boolean;
  user?: Owner;
  group?: Owner;
  overwrite: boolean;
  origin: Origin;
}

export interface UnitSpec {
  /** e.g. `app.service`; may be a template instance. */
  name: string;
  contents?: string;
  enabled?: boolean;
  mask: boolean;
  dropins: { name: string; contents: string }[];
  origin: Origin;
}

export interface UserSpec {
  name: string;
  uid?: number;
  gecos?: string;
  homeDir?: string;
  noCreateHome: boolean;
  primaryGroup?: string;
  /** Supplementary groups; must exist or be created by `groups`. */
  groups: string[];
  noUserGroup: boolean;
  shell?: string;
  system: boolean;
  /** crypt(3) hash; never logged. */
  passwordHash?: string;
  /** Lock the password (cloud-init's lock_passwd, default true there). */
  lockPassword: boolean;
  sshAuthorizedKeys: string[];
  /** sudoers rules, e.g. `ALL=(ALL) NOPASSWD:ALL`; written to /etc/sudoers.d/90-kiln-<name>. */
  sudo: string[];
  origin: Origin;
}

export interface GroupSpec {
  name: string;
  gid?: number;
  system: boolean;
  passwordHash?: string;
  origin: Origin;
}

/** A systemd-networkd file under /etc/systemd/network (`.network`, `.netdev` or `.link`). */
export interface NetworkdFile {
  name: string;
  contents: string;
}

/** A command run by /bin/sh -c (string) or exec'd directly (argv). */
export type Command = string | string[];

export interface Provisioning {
  format: 'cloud-config' | 'ignition';
  /** Decides "first boot": the same instance never re-provisions. */
  instanceId: string;
  hostname?: string;
  fqdn?: string;
  users: UserSpec[];
  groups: GroupSpec[];
  files: FileSpec[];
  directories: DirectorySpec[];
  links: LinkSpec[];
  units: UnitSpec[];
  network: NetworkdFile[];
  /** Run in the early pass, every first boot, before networking (cloud-init bootcmd). */
  bootcmd: Command[];
  /** Run in the late pass after network-online (cloud-init runcmd and user-data scripts). */
  runcmd: Command[];
  ntp?: { servers: string[]; pools: string[] };
  timezone?: string;
  /** The kiln node config, when the metadata carries one. */
  node?: NodeConfig;
  /** Keys kiln does not apply, and other things a user should see; never fatal. */
  warnings: Problem[];
}

export function emptyProvisioning(format: Provisioning['format'], instanceId: string): Provisioning {
  return {
    format,
    instanceId,
    users: [],
    groups: [],
    files: [],
    directories: [],
    links: [],
    units: [],
    network: [],
    bootcmd: [],
    runcmd: [],
    warnings: [],
  };
}

/** A file mode as messages show it: 420 → "0644". */
export const octal = (mode: number): string => `0${mode.toString(8).padStart(3, '0')}`;
