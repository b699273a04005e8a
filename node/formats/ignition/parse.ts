// An Ignition config (spec 3.0.0 to 3.5.0) → kiln's provisioning model. Pure: no fetching, no
// writing. JSON syntax → version → schema → semantic checks; every problem is collected and
// thrown as one ValidationError. Remote contents stay remote (pinned by hash) for the resolver.
import { createHash } from 'node:crypto';
import type { TSchema } from '@sinclair/typebox';
import { type Problem } from '../../../core/problem.ts';
import { ValidationError } from '../../../core/errors.ts';
import { readJson } from '../../../core/json.ts';
import { schemaProblems } from '../../../core/schema.ts';
import { adoptNodeConfig } from '../../config/node-file.ts';
import { emptyProvisioning, type Provisioning } from '../../model.ts';
import { IGNITION_FIELDS, modelProblems } from '../../model-checks.ts';
import { hostnameOf } from './node.ts';
import { Report } from '../../../core/problem.ts';
import { IGNITION_SCHEMAS, SUPPORTED_VERSIONS, schemaAt, type IgnitionConfigV3_5, type IgnitionVersion } from './schema.ts';
import { convertGroups, convertUnits, convertUsers, refuseUnsupported, warnIgnored } from './sections.ts';
import { convertStorage } from './storage.ts';

const SUPPORTED = SUPPORTED_VERSIONS.join(', ');
const TRANSLATE_HINT = `kiln reads Ignition spec ${SUPPORTED}`;

/** `ignition-sha256-<16 hex>` of the raw config (its UTF-8 bytes): the same config never provisions twice. */
function ignitionInstanceId(text: string): string {
  return `ignition-sha256-${createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16)}`;
}

export function parseIgnition(text: string, file: string): Provisioning {
  const value = parseJson(text, file);
  const version = detectVersion(value, file);
  return convert(value, version, ignitionInstanceId(text), file);
}

/** Validates and converts an already-parsed config of a known version. */
function convert(value: Record<string, unknown>, version: IgnitionVersion, instanceId: string, file: string): Provisioning {
  const shape = schemaProblems(IGNITION_SCHEMAS[version], value, file).map((p) => polish(p, version));
  // `broken`: an entry with a schema problem anywhere inside (skipped: the semantic checks assume
  // well-formed values); `rejected`: a place the schema refused as a whole, itself or an ancestor.
  const broken = (path: string) => shape.some((p) => p.path === path || p.path.startsWith(`${path}/`));
  const rejected = (path: string) => shape.some((p) => path === p.path || path.startsWith(`${p.path}/`));
  const array = <T>(path: string, v: T[] | undefined): T[] => (!rejected(path) && Array.isArray(v) ? v : []);
  // Every version's config is a structural subset of 3.5's (see schema.ts).
  const config = value as IgnitionConfigV3_5;
  const r = new Report(file);

  refuseUnsupported(config, r, rejected);
  warnIgnored(config, r);
  const model = emptyProvisioning('ignition', instanceId);
  const storage = rejected('/storage') || !config.storage ? {} : config.storage;
  const { files, directories, links } = convertStorage(
    {
      files: array('/storage/files', storage.files),
      directories: array('/storage/directories', storage.directories),
      links: array('/storage/links', storage.links),
    },
    r,
    broken,
  );
  Object.assign(model, { files, directories, links });
  // an inline /etc/kiln/node.yaml is checked now; a remote one after the resolver fetched it
  r.problems.push(...adoptNodeConfig(model));
  for (const f of files) if (f.path === '/etc/hostname') Object.assign(model, hostnameOf(f, r));
  const units = rejected('/systemd') ? [] : array('/systemd/units', config.systemd?.units);
  model.units = convertUnits(units, r, broken);
  const passwd = rejected('/passwd') ? undefined : config.passwd;
  model.users = convertUsers(array('/passwd/users', passwd?.users), r, broken);
  model.groups = convertGroups(array('/passwd/groups', passwd?.groups), r, broken);

  const problems = [...shape, ...r.problems];
  // what useradd, chown and the kernel would refuse, unless a check above already said so there
  problems.push(...modelProblems(model, IGNITION_FIELDS).filter((p) => !problems.some((q) => q.path === p.path)));
  if (problems.length > 0) throw new ValidationError(problems);
  model.warnings = r.warnings;
  return model;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'a JSON object',
  array: 'a JSON array',
};

/** Says what a nullable field expects instead of TypeBox's "expected union value", and points
 *  out keys that exist in a later spec version than the config declares. */
function polish(p: Problem, version: IgnitionVersion): Problem {
  const union = /: expected union value$/;
  if (union.test(p.message)) {
    const members = rawSchemaAt(version, p.path)?.anyOf as TSchema[] | undefined;
    const names = members?.map((m) => (m.type === 'null' ? 'null' : (TYPE_NAMES[m.type as string] ?? 'a value')));
    if (names) return { ...p, message: p.message.replace(union, `: expected ${names.join(' or ')}`) };
  }
  const unknown = /^unknown key "/.test(p.message)
    ? SUPPORTED_VERSIONS.slice(SUPPORTED_VERSIONS.indexOf(version) + 1).find((v) => schemaAt(IGNITION_SCHEMAS[v], p.path))
    : undefined;
  if (unknown)
    return {
      ...p,
      hint: `"${p.path.split('/').pop()}" came in Ignition spec ${unknown}, and this config declares ${version}: raise ignition.version to use it`,
    };
  return p;
}

/** The schema at a path without stepping into unions (the union itself). */
function rawSchemaAt(version: IgnitionVersion, pointer: string): TSchema | undefined {
  const segments = pointer.split('/');
  const parent = schemaAt(IGNITION_SCHEMAS[version], segments.slice(0, -1).join('/'));
  if (!parent) return undefined;
  const last = segments.at(-1)!;
  return parent.type === 'array' ? (parent.items as TSchema) : (parent.properties?.[last] as TSchema | undefined);
}

function parseJson(text: string, file: string): Record<string, unknown> {
  if (text.trim() === '')
    throw new ValidationError([
      {
        file,
        path: '',
        message: 'the Ignition config is empty',
        hint: 'an Ignition config is a JSON object such as {"ignition": {"version": "3.5.0"}}',
        severity: 'error' as const,
      },
    ]);
  const body = text.replace(/^\uFEFF/, '');
  const value = readJson(text, file, (offset) =>
    // `"mode": 0644` stops at the 6: JSON has no octal, and the hint says what to write instead
    /[:\s[,]0$/.test(body.slice(0, offset)) && /^\d/.test(body.slice(offset))
      ? 'JSON has no octal numbers: Ignition modes are decimal JSON numbers (0644 is 420, 0755 is 493, 0600 is 384)'
      : 'Ignition configs are strict JSON: check commas, quotes and brackets near that spot (no comments, no trailing commas); Butane writes valid configs from YAML',
  );
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ValidationError([
      {
        file,
        path: '',
        message: 'an Ignition config must be a JSON object',
        hint: 'e.g. {"ignition": {"version": "3.5.0"}, "storage": {...}}',
        severity: 'error' as const,
      },
    ]);
  return value as Record<string, unknown>;
}

function detectVersion(value: Record<string, unknown>, file: string): IgnitionVersion {
  const fail = (path: string, message: string, hint: string): never => {
    throw new ValidationError([{ file, path, message, hint, severity: 'error' as const }]);
  };
  if ('ignitionVersion' in value && !('ignition' in value))
    fail(
      '/ignitionVersion',
      'Ignition spec 1 is not supported',
      `${TRANSLATE_HINT}: translate it with ignition-config-transpiler / butane`,
    );
  const ign = value.ignition;
  if (ign === undefined) fail('/ignition', 'missing required key "ignition"', `add "ignition": {"version": "3.5.0"}; ${TRANSLATE_HINT}`);
  if (ign === null || typeof ign !== 'object' || Array.isArray(ign))
    fail('/ignition', '"ignition" must be a JSON object', `e.g. "ignition": {"version": "3.5.0"}; ${TRANSLATE_HINT}`);
  const version = (ign as Record<string, unknown>).version;
  if (version === undefined || version === null)
    fail('/ignition/version', 'missing required key "version"', `set the spec version the config is written in; ${TRANSLATE_HINT}`);
  if (typeof version !== 'string')
    fail('/ignition/version', `${JSON.stringify(version)} is not a version string`, `a string such as "3.5.0"; ${TRANSLATE_HINT}`);
  const v = version as string;
  if ((SUPPORTED_VERSIONS as readonly string[]).includes(v)) return v as IgnitionVersion;
  const m = /^(\d+)\.(\d+)\.(\d+)(-experimental)?$/.exec(v);
  if (m?.[1] === '2' || m?.[1] === '1')
    fail(
      '/ignition/version',
      `Ignition spec ${m[1]}.x is not supported (version "${v}"); translate with ignition-config-transpiler / butane`,
      `${TRANSLATE_HINT}: convert with ignition-config-transpiler (ign-converter), or regenerate it from Butane, which emits 3.x`,
    );
  if (m?.[4])
    fail(
      '/ignition/version',
      `experimental Ignition spec "${v}" is not supported`,
      `experimental specs change without notice; ${TRANSLATE_HINT}`,
    );
  return fail(
    '/ignition/version',
    `Ignition spec "${v}" is not supported`,
    `${TRANSLATE_HINT}; lower the version (Butane: pick a variant version that emits one of these) and drop fields the older spec lacks`,
  );
}
