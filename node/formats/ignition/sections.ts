// The Ignition sections besides files: systemd units and passwd (applied), the ones kiln cannot
// apply (refused: Ignition's rule is "the machine specified or no machine"), and the ones it does
// not need (warned as ignored: a valid field is never dropped silently).
import type { GroupSpec, UnitSpec, UserSpec } from '../../model.ts';
import type { Report } from '../../../core/problem.ts';
import type { IgnitionConfigV3_5, IgnitionGroup, IgnitionUnit, IgnitionUser } from './schema.ts';
import type { Broken } from './storage.ts';

const ALL_OR_NOTHING =
  'Ignition\'s rule is "the machine specified or no machine": kiln refuses a config it cannot apply in full rather than boot a different machine';
const DISK_HINT = `kiln images partition themselves (the root grows to fill the disk); for /var on a separate disk attach a kiln data disk (\`kiln data-disk node1.img --size 20G\`, label kiln-data) and leave this section out. ${ALL_OR_NOTHING}`;

const REFUSED_STORAGE: Record<string, { what: string; hint: string }> = {
  disks: { what: 'partition disks', hint: DISK_HINT },
  raid: { what: 'assemble RAID arrays', hint: DISK_HINT },
  luks: {
    what: 'set up LUKS encryption',
    hint: `encrypt below the node (the hypervisor's or the disk's own encryption) and leave this section out. ${ALL_OR_NOTHING}`,
  },
  filesystems: { what: 'create or mount file systems', hint: DISK_HINT },
};

const nonEmpty = (v: unknown): v is unknown[] => Array.isArray(v) && v.length > 0;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Errors for sections kiln cannot apply; empty ones are fine. `rejected` tells a section the
 *  schema already refused (e.g. a key the declared spec version lacks): nothing more to say. */
export function refuseUnsupported(config: IgnitionConfigV3_5, r: Report, rejected: Broken): void {
  const refuse = (path: string, message: string, hint: string) => rejected(path) || r.error(path, message, hint);
  const storage: Record<string, unknown> = isObject(config.storage) ? config.storage : {};
  for (const [key, { what, hint }] of Object.entries(REFUSED_STORAGE))
    if (nonEmpty(storage[key]))
      refuse(`/storage/${key}`, `storage.${key} is not supported: kiln provisions a booted machine and does not ${what}`, hint);
  const kargs: Record<string, unknown> = isObject(config.kernelArguments) ? config.kernelArguments : {};
  for (const key of ['shouldExist', 'shouldNotExist'])
    if (nonEmpty(kargs[key]))
      refuse(
        `/kernelArguments/${key}`,
        `kernelArguments.${key} is not supported: kiln does not rewrite the boot loader at first boot`,
        `kernel arguments are part of the image: set boot.cmdline in the image spec. ${ALL_OR_NOTHING}`,
      );
  const cfg = isObject(config.ignition?.config) ? config.ignition.config : {};
  const mergeOrReplace = `inline what the other config holds into this one (Butane embeds local files with --files-dir). ${ALL_OR_NOTHING}`;
  if (nonEmpty(cfg.merge))
    refuse(
      '/ignition/config/merge',
      'ignition.config.merge is not supported: kiln does not fetch and merge other Ignition configs',
      mergeOrReplace,
    );
  if (isObject(cfg.replace) && cfg.replace.source != null)
    refuse(
      '/ignition/config/replace/source',
      'ignition.config.replace is not supported: kiln does not fetch another Ignition config in place of this one',
      `give kiln the other config directly; or ${mergeOrReplace}`,
    );
}

/** Warnings for valid settings kiln does not use. */
export function warnIgnored(config: IgnitionConfigV3_5, r: Report): void {
  const ign = isObject(config.ignition) ? config.ignition : undefined;
  const set = (o: unknown) => isObject(o) && Object.values(o).some((v) => v !== null && !(Array.isArray(v) && v.length === 0));
  if (set(ign?.timeouts))
    r.warn(
      '/ignition/timeouts',
      'ignition.timeouts is ignored: kiln fetches with its own timeouts and retries',
      'remove it, or leave it for Ignition-booted machines',
    );
  const cas = ign?.security?.tls?.certificateAuthorities;
  if (nonEmpty(cas))
    r.warn(
      '/ignition/security/tls/certificateAuthorities',
      "ignition.security.tls.certificateAuthorities is ignored: kiln fetches with the image's CA store",
      'remote contents are pinned by hash, so a private CA adds no integrity; serve them from a host with a certificate the image trusts, or over http',
    );
  if (set(ign?.proxy))
    r.warn(
      '/ignition/proxy',
      'ignition.proxy is ignored: kiln fetches remote contents directly',
      'serve them from a host the node reaches without a proxy, or inline them as data: URLs',
    );
}

// Unit types systemd knows, as Ignition checks them.
const UNIT_NAME =
  /^[A-Za-z0-9:_.\\-]+(@[A-Za-z0-9:_.\\-]*)?\.(service|socket|device|mount|automount|swap|target|path|timer|snapshot|slice|scope)$/;

export function convertUnits(units: IgnitionUnit[], r: Report, broken: Broken): UnitSpec[] {
  const seen = new Map<string, string>();
  const out: UnitSpec[] = [];
  units.forEach((u, i) => {
    const base = `/systemd/units/${i}`;
    if (broken(base)) return;
    if (!UNIT_NAME.test(u.name))
      r.error(
        `${base}/name`,
        `"${u.name}" is not a systemd unit name`,
        'a name with a unit type suffix, e.g. app.service, data.mount or backup@.timer',
      );
    const first = seen.get(u.name);
    if (first)
      r.error(`${base}/name`, `duplicate unit "${u.name}" (also at ${first})`, 'Ignition allows each unit once; merge the entries');
    else seen.set(u.name, base);
    const dropins: UnitSpec['dropins'] = [];
    const dropinNames = new Set<string>();
    (u.dropins ?? []).forEach((d, j) => {
      const at = `${base}/dropins/${j}`;
      if (!/^[^/]+\.conf$/.test(d.name))
        r.error(`${at}/name`, `"${d.name}" is not a drop-in file name`, 'systemd reads drop-ins named *.conf, e.g. 10-limits.conf');
      if (dropinNames.has(d.name)) r.error(`${at}/name`, `duplicate drop-in "${d.name}" in ${u.name}`, 'merge the entries');
      dropinNames.add(d.name);
      // A drop-in without contents writes nothing in Ignition either.
      if (d.contents !== undefined && d.contents !== null) dropins.push({ name: d.name, contents: d.contents });
    });
    const enabled = u.enabled ?? undefined;
    const contents = u.contents ?? undefined;
    if (enabled && contents !== undefined && !/^\s*\[Install\]/m.test(contents))
      r.warn(
        `${base}/enabled`,
        `${u.name} is enabled but has no [Install] section, so enabling it does nothing`,
        'add [Install] with WantedBy=multi-user.target, or drop enabled',
      );
    out.push({
      name: u.name,
      ...(contents !== undefined ? { contents } : {}),
      ...(enabled !== undefined ? { enabled } : {}),
      mask: u.mask ?? false,
      dropins,
      origin: { file: r.file, path: base },
    });
  });
  return out;
}

function checkAccount(
  kind: 'user' | 'group',
  entry: { name: string; shouldExist?: boolean | null },
  base: string,
  seen: Map<string, string>,
  r: Report,
): void {
  if (entry.name === '') r.error(`${base}/name`, `a ${kind} needs a name`, `set name to the ${kind} name`);
  const first = seen.get(entry.name);
  if (first)
    r.error(`${base}/name`, `duplicate ${kind} "${entry.name}" (also at ${first})`, `Ignition allows each ${kind} once; merge the entries`);
  else seen.set(entry.name, base);
  if (entry.shouldExist === false)
    r.error(
      `${base}/shouldExist`,
      `shouldExist: false (deleting the ${kind}) is not supported`,
      `kiln creates accounts on a fresh image and does not delete them; remove the ${kind} from the image instead. ${ALL_OR_NOTHING}`,
    );
}

function checkId(id: number | null | undefined, at: string, r: Report): number | undefined {
  if (id === undefined || id === null) return undefined;
  if (id < 0 || id > 4294967294) r.error(at, `${id} is not a valid id`, 'ids are whole numbers from 0 to 4294967294');
  return id;
}

export function convertUsers(users: IgnitionUser[], r: Report, broken: Broken): UserSpec[] {
  const seen = new Map<string, string>();
  const out: UserSpec[] = [];
  users.forEach((u, i) => {
    const base = `/passwd/users/${i}`;
    if (broken(base)) return;
    checkAccount('user', u, base, seen, r);
    const uid = checkId(u.uid, `${base}/uid`, r);
    for (const key of ['homeDir', 'shell'] as const) {
      const v = u[key];
      if (v !== undefined && v !== null && !v.startsWith('/'))
        r.error(`${base}/${key}`, `${key} "${v}" is not an absolute path`, key === 'shell' ? 'e.g. /bin/bash' : `e.g. /home/${u.name}`);
    }
    if (u.noLogInit)
      r.warn(
        `${base}/noLogInit`,
        "noLogInit is ignored: kiln creates users with useradd's defaults",
        'harmless: it only keeps the user out of lastlog and faillog',
      );
    const opt = <T>(v: T | null | undefined) => v ?? undefined;
    out.push({
      name: u.name,
      ...(uid !== undefined ? { uid } : {}),
      ...(u.gecos != null ? { gecos: u.gecos } : {}),
      ...(u.homeDir != null ? { homeDir: u.homeDir } : {}),
      noCreateHome: opt(u.noCreateHome) ?? false,
      ...(u.primaryGroup != null ? { primaryGroup: u.primaryGroup } : {}),
      groups: u.groups ?? [],
      noUserGroup: opt(u.noUserGroup) ?? false,
      ...(u.shell != null ? { shell: u.shell } : {}),
      system: opt(u.system) ?? false,
      ...(u.passwordHash != null ? { passwordHash: u.passwordHash } : {}),
      // Ignition leaves the password as useradd makes it; it does not lock one it sets.
      lockPassword: false,
      sshAuthorizedKeys: u.sshAuthorizedKeys ?? [],
      sudo: [],
      origin: { file: r.file, path: base },
    });
  });
  return out;
}

export function convertGroups(groups: IgnitionGroup[], r: Report, broken: Broken): GroupSpec[] {
  const seen = new Map<string, string>();
  const out: GroupSpec[] = [];
  groups.forEach((g, i) => {
    const base = `/passwd/groups/${i}`;
    if (broken(base)) return;
    checkAccount('group', g, base, seen, r);
    const gid = checkId(g.gid, `${base}/gid`, r);
    out.push({
      name: g.name,
      ...(gid !== undefined ? { gid } : {}),
      system: g.system ?? false,
      ...(g.passwordHash != null ? { passwordHash: g.passwordHash } : {}),
      origin: { file: r.file, path: base },
    });
  });
  return out;
}
