// storage.files, storage.directories and storage.links → the model, with Ignition's rules (absolute
// clean paths, no duplicates, no overwrite without contents) and kiln's (no virtual file systems,
// secrets not readable by others, remote contents pinned).
import { pathProblem } from '../../model-checks.ts';
import { posix } from 'node:path';
import { isSecretPath, type Contents, type DirectorySpec, type FileSpec, type LinkSpec, type Owner } from '../../model.ts';
import { type Report } from '../../../core/problem.ts';
import { octal } from '../../model.ts';
import { contentsOf } from './sources.ts';
import type { IgnitionDirectory, IgnitionFile, IgnitionLink, IgnitionOwner } from './schema.ts';

/** Whether a JSON path has schema problems; such entries are skipped here (already reported). */
export type Broken = (path: string) => boolean;

export interface Storage {
  files?: IgnitionFile[];
  directories?: IgnitionDirectory[];
  links?: IgnitionLink[];
}

const DEFAULT_FILE_MODE = 0o644;
const DEFAULT_SECRET_MODE = 0o600;
const DEFAULT_DIRECTORY_MODE = 0o755;
const DECIMAL_HINT = 'Ignition modes are decimal JSON numbers: 420 is 0644, 493 is 0755, 384 is 0600, 448 is 0700';

export function convertStorage(
  storage: Storage,
  r: Report,
  broken: Broken,
): { files: FileSpec[]; directories: DirectorySpec[]; links: LinkSpec[] } {
  const seen = new Map<string, string>();
  const claim = (path: string, base: string) => {
    const first = seen.get(path);
    if (first)
      r.error(
        `${base}/path`,
        `duplicate path "${path}" (also at ${first})`,
        'Ignition allows each path once across files, directories and links; merge the entries',
      );
    else seen.set(path, base);
  };
  const files: FileSpec[] = [];
  const directories: DirectorySpec[] = [];
  const links: LinkSpec[] = [];

  (storage.files ?? []).forEach((f, i) => {
    const base = `/storage/files/${i}`;
    if (broken(base)) return;
    if (!checkPath(f.path, base, r)) return;
    claim(f.path, base);
    const secret = isSecretPath(f.path);
    const mode = modeOf(f.mode, base, r, secret ? DEFAULT_SECRET_MODE : DEFAULT_FILE_MODE);
    if (secret && mode !== undefined && (mode & 0o077) !== 0)
      r.error(
        `${base}/mode`,
        `mode ${octal(mode)} (${f.mode} decimal) lets group or others read ${f.path}, which holds secrets`,
        `use mode 384 (0600), or leave mode out (kiln then writes it 0600); ${DECIMAL_HINT}`,
      );
    const contents = f.contents ? contentsOf(f.contents, `${base}/contents`, r) : undefined;
    const append: Contents[] = [];
    (f.append ?? []).forEach((a, j) => {
      if (a.source === undefined || a.source === null)
        return r.error(
          `${base}/append/${j}/source`,
          'an append entry needs a source',
          'add the source URL of the data to append, or remove the entry',
        );
      const c = contentsOf(a, `${base}/append/${j}`, r);
      if (c) append.push(c);
    });
    const overwrite = f.overwrite ?? false;
    if (overwrite && (f.contents?.source ?? null) === null)
      r.error(
        `${base}/overwrite`,
        'overwrite is true but contents.source is not set',
        'Ignition requires contents.source with overwrite: true (there would be nothing to write); set it, or drop overwrite',
      );
    files.push({
      path: f.path,
      ...(contents ? { contents } : {}),
      append,
      mode: mode ?? DEFAULT_FILE_MODE,
      ...owners(f, base, r),
      overwrite,
      secret,
      origin: { file: r.file, path: base },
    });
  });

  (storage.directories ?? []).forEach((d, i) => {
    const base = `/storage/directories/${i}`;
    if (broken(base) || !checkPath(d.path, base, r)) return;
    claim(d.path, base);
    const mode = modeOf(d.mode, base, r, DEFAULT_DIRECTORY_MODE) ?? DEFAULT_DIRECTORY_MODE;
    directories.push({ path: d.path, mode, ...owners(d, base, r), overwrite: d.overwrite ?? false, origin: { file: r.file, path: base } });
  });

  (storage.links ?? []).forEach((l, i) => {
    const base = `/storage/links/${i}`;
    if (broken(base) || !checkPath(l.path, base, r)) return;
    claim(l.path, base);
    const hard = l.hard ?? false;
    const target = l.target ?? '';
    if (!target) r.error(`${base}/target`, 'a link needs a target', 'set target to the path the link points to');
    else if (hard && !target.startsWith('/'))
      r.error(
        `${base}/target`,
        `a hard link's target must be absolute, not "${target}"`,
        'hard links name an existing file by absolute path; relative targets are for symlinks',
      );
    links.push({
      path: l.path,
      target,
      hard,
      ...owners(l, base, r),
      overwrite: l.overwrite ?? false,
      origin: { file: r.file, path: base },
    });
  });

  return { files, directories, links };
}

/** Ignition's path rules plus kiln's: absolute, clean, not in a virtual or per-boot file system. */
function checkPath(path: string, base: string, r: Report): boolean {
  const at = `${base}/path`;
  if (!path.startsWith('/')) {
    const guess = `/${posix.normalize(path).replace(/^(\.\.?(\/|$))+/, '')}`;
    r.error(at, `"${path}" is not an absolute path`, `Ignition paths are absolute, e.g. "${guess === '/' ? '/etc/app.conf' : guess}"`);
    return false;
  }
  const clean = posix.normalize(path).replace(/(.)\/+$/, '$1');
  if (clean !== path) {
    r.error(at, `"${path}" is not a normalized path`, `write "${clean}" (no "//", "." or ".." segments, no trailing "/")`);
    return false;
  }
  if (path === '/') {
    r.error(at, 'the root directory cannot be an Ignition node', 'name a path under /');
    return false;
  }
  // what the kernel refuses, and its virtual file systems: the same check as every format's (model-checks)
  const refused = pathProblem(path);
  if (refused) {
    r.error(at, refused.message, refused.hint);
    return false;
  }
  if ((path === '/run' || path.startsWith('/run/')) && !(path === '/run/kiln' || path.startsWith('/run/kiln/'))) {
    r.error(
      at,
      `${path} is under /run, a tmpfs emptied at every boot`,
      'write it under /etc (or /var) so it outlives the first boot; /run/kiln/ is the one place under /run kiln accepts, for its own first-boot files',
    );
    return false;
  }
  return true;
}

const COMMON_MODES = [
  '400',
  '440',
  '444',
  '500',
  '550',
  '555',
  '600',
  '640',
  '644',
  '660',
  '664',
  '666',
  '700',
  '750',
  '755',
  '770',
  '775',
  '777',
];

/** A mode, or the default; undefined when reported as invalid. */
function modeOf(mode: number | null | undefined, base: string, r: Report, fallback: number): number | undefined {
  if (mode === undefined || mode === null) return fallback;
  if (COMMON_MODES.includes(String(mode))) {
    const meant = parseInt(String(mode), 8);
    r.error(
      `${base}/mode`,
      `mode ${mode} looks like octal written as decimal (it means ${octal(mode)})`,
      `for 0${mode} write ${meant}: ${DECIMAL_HINT}`,
    );
    return undefined;
  }
  if (mode < 0 || mode > 0o7777) {
    r.error(`${base}/mode`, `mode ${mode} is not a permission mode (0 to 4095, i.e. 0 to 07777)`, DECIMAL_HINT);
    return undefined;
  }
  return mode;
}

function owners(node: { user?: IgnitionOwner; group?: IgnitionOwner }, base: string, r: Report): { user?: Owner; group?: Owner } {
  const out: { user?: Owner; group?: Owner } = {};
  for (const key of ['user', 'group'] as const) {
    const o = node[key];
    if (!o) continue;
    const id = o.id ?? undefined;
    const name = o.name ?? undefined;
    if (id !== undefined && name !== undefined)
      r.error(`${base}/${key}`, `${key} sets both id and name`, 'Ignition takes one of them: the id, or a name that exists on the node');
    else if (id !== undefined && id < 0) r.error(`${base}/${key}/id`, `${key} id ${id} is negative`, 'ids are 0 or more (0 is root)');
    else if (name === '') r.error(`${base}/${key}/name`, `${key} name is empty`, 'leave name out for root, or name an existing account');
    else if (id !== undefined || name !== undefined) out[key] = id !== undefined ? { id } : { name: name! };
  }
  return out;
}
