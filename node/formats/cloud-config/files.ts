// write_files → FileSpecs.
//
// - encoding: as cloud-init decodes (b64/base64, gz/gzip, gz+b64 and the other spellings,
//   text/plain; `text` is accepted too). Content that does not decode is an error, not a warning
//   with the raw text written, as cloud-init would do. gzip without base64 needs binary content
//   (YAML !!binary): a YAML string cannot carry gzip bytes.
// - permissions: an octal string ('0644', '644', '0o644') or an integer written in octal (0644, read
//   as YAML 1.1 and PyYAML read it). A decimal integer such as 644 is an error: cloud-init would
//   apply mode 01204.
// - secrets: files under /etc/kiln/ or /etc/kubernetes/pki/, and files named like keys, are
//   `secret`; without permissions they are written 0600, and permissions that let group or others
//   in are an error.
// - defer: the model has no late file pass. cloud-init defers a file until after users and packages
//   exist; kiln installs no packages at boot and creates users before it writes files, so deferred
//   files are written in the early pass with the others.
// - source (fetch the content from a URL): not supported; kiln fetches only hash-pinned content.
import { gunzipBounded, TOO_LARGE } from '../../../core/compress.ts';
import { isSecretPath, type Contents, type FileSpec, type Owner } from '../../model.ts';
import { KEY_SCHEMAS, WriteFile } from './schema.ts';
import { isMapping, type Context } from './report.ts';
import { octal } from '../../model.ts';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function applyWriteFiles(cfg: Record<string, unknown>, ctx: Context): void {
  if (cfg.write_files === undefined || !ctx.report.check(KEY_SCHEMAS.write_files, cfg.write_files, '/write_files')) return;
  (cfg.write_files as unknown[]).forEach((entry, i) => writeFile(entry, i, ctx));
}

function writeFile(entry: unknown, i: number, ctx: Context): void {
  const { report, model } = ctx;
  const path = `/write_files/${i}`;
  if (!isMapping(entry))
    return report.error(
      path,
      'a write_files entry is a mapping with at least a path',
      'e.g. - path: /etc/app.conf\n    content: |\n      key=value',
    );
  let ok = report.check(WriteFile, entry, path);
  if (entry.source !== undefined) {
    ok = false;
    report.error(
      `${path}/source`,
      'write_files source (content from a URL) is not supported: kiln fetches only content pinned by a hash',
      'put the content inline (encoding: gz+b64 for binaries)',
    );
  }
  if (!ok) return;
  const f = entry as {
    path: string;
    content?: string | Uint8Array;
    encoding?: string;
    owner?: string;
    permissions?: string | number;
    append?: boolean;
  };

  if (f.path.split('/').includes('..') || f.path.endsWith('/'))
    return report.error(
      `${path}/path`,
      `"${f.path}" is not a plain file path`,
      'an absolute path to a file, without ".." or a trailing "/"',
    );

  const data = decode(f.content ?? '', f.encoding ?? 'text/plain');
  if (typeof data === 'string') return report.error(`${path}/content`, data, encodingHint(f.encoding ?? 'text/plain'));

  const secret = isSecretPath(f.path);
  let mode: number | undefined;
  if (typeof f.permissions === 'string') {
    mode = parseInt(f.permissions.replace(/^0o/, ''), 8);
  } else if (typeof f.permissions === 'number') {
    if (!ctx.isOctalLiteral(['write_files', i, 'permissions']))
      return report.error(
        `${path}/permissions`,
        `permissions ${f.permissions} is a decimal number here (mode ${octal(f.permissions)})`,
        `write the octal mode as a quoted string, e.g. '${String(f.permissions).padStart(4, '0')}'`,
      );
    mode = f.permissions;
  }
  if (mode !== undefined && mode > 0o7777)
    return report.error(`${path}/permissions`, `${octal(mode)} is not a file mode`, "at most four octal digits, e.g. '0644'");
  if (secret && mode !== undefined && (mode & 0o077) !== 0)
    return report.error(
      `${path}/permissions`,
      `${f.path} holds a secret (a key, token or kiln config) but permissions ${octal(mode)} let group or others read it`,
      "use permissions: '0600' (or leave permissions out: kiln writes secrets 0600)",
    );

  const contents: Contents = { kind: 'inline', data };
  const owner = parseOwner(f.owner);
  const spec: FileSpec = {
    path: f.path,
    ...(f.append ? {} : { contents }),
    append: f.append ? [contents] : [],
    mode: mode ?? (secret ? 0o600 : 0o644),
    ...owner,
    overwrite: true,
    secret,
    origin: { file: report.origin, path },
  };
  model.files.push(spec);
}

/** Decoded bytes, or what is wrong with the content. */
function decode(content: string | Uint8Array, encoding: string): Buffer | string {
  const bytes = typeof content === 'string' ? Buffer.from(content) : Buffer.from(content);
  const b64 = encoding.includes('b64') || encoding.includes('base64');
  const gz = encoding.startsWith('gz');
  let data: Buffer = bytes;
  if (b64) {
    const text = typeof content === 'string' ? content.replace(/\s+/g, '') : bytes.toString('latin1').replace(/\s+/g, '');
    if (!BASE64.test(text) || text.length % 4 !== 0) return `content is not valid base64 (encoding: ${encoding})`;
    data = Buffer.from(text, 'base64');
  } else if (gz && typeof content === 'string') {
    return `gzip content must be binary data (encoding: ${encoding})`;
  }
  if (gz) {
    const inflated = gunzipBounded(data);
    if (inflated === 'too-large') return `content ${TOO_LARGE}`;
    if (inflated === 'not-gzip') return `content is not gzip data (encoding: ${encoding})`;
    data = inflated;
  }
  return data;
}

function encodingHint(encoding: string): string {
  if (encoding.startsWith('gz')) return 'make it with `gzip -c FILE | base64 -w0` and use encoding: gz+b64';
  if (encoding !== 'text/plain' && encoding !== 'text') return 'make it with `base64 -w0 FILE`';
  return 'check the content';
}

/** `user:group` (names or numbers); cloud-init's "-1" and "none" mean unchanged, i.e. root here. */
function parseOwner(owner: string | undefined): { user?: Owner; group?: Owner } {
  if (!owner) return {};
  const [u, g] = owner.split(':', 2).map((s) => s.trim());
  const one = (s: string | undefined): Owner | undefined =>
    !s || s === '-1' || s.toLowerCase() === 'none' ? undefined : /^[0-9]+$/.test(s) ? { id: Number(s) } : { name: s };
  const user = one(u);
  const group = one(g);
  return { ...(user ? { user } : {}), ...(group ? { group } : {}) };
}
