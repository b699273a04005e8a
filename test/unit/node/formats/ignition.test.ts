// The Ignition parser: golden models for configs of every spec version, the upstream JSON Schemas
// as an outside oracle (fixtures validate against them; kiln's schemas know exactly their
// fields), what kiln does with each upstream field, and the malformed corpus.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { TSchema } from '@sinclair/typebox';
import Ajv from 'ajv-draft-04';
import { describe, expect, it } from 'vitest';
import { type Problem } from '../../../../core/problem.ts';
import { ValidationError } from '../../../../core/errors.ts';
import { parseIgnition } from '../../../../node/formats/ignition/parse.ts';
import { IGNITION_SCHEMAS, SUPPORTED_VERSIONS, type IgnitionVersion } from '../../../../node/formats/ignition/schema.ts';
import { decodeDataUrl } from '../../../../node/formats/ignition/sources.ts';
import { parseHash } from '../../../../core/hash.ts';
import type { Provisioning } from '../../../../node/model.ts';
import { expectGolden } from '../../../helpers/specs.ts';

const ROOT = new URL('../../../../', import.meta.url).pathname;
const FIXTURES = `${ROOT}test/fixtures/firstboot/ignition/`;
const MALFORMED = `${ROOT}test/fixtures/firstboot/malformed/`;
const UPSTREAM = `${ROOT}../shared/upstream/ignition/`;
const upstreamFile = (v: IgnitionVersion) => `${UPSTREAM}ignition-v3_${v.split('.')[1]}.schema.json`;

/** Not printable: a control character other than tab and line feed (C0 or DEL), or U+FFFD (a decoding error). */
const unprintable = (c: string) => {
  const code = c.charCodeAt(0);
  return (code <= 0x1f && code !== 0x09 && code !== 0x0a) || code === 0x7f || code === 0xfffd;
};

/** The model as readable JSON: buffers as utf8 text when they are text, else base64. */
function serialize(model: Provisioning): string {
  const replacer = function (this: Record<string, unknown>, key: string, value: unknown) {
    const raw = this[key];
    if (!Buffer.isBuffer(raw)) return value;
    const text = raw.toString('utf8');
    const printable = Buffer.from(text, 'utf8').equals(raw) && ![...text].some(unprintable);
    return printable ? { utf8: text } : { base64: raw.toString('base64') };
  };
  return `${JSON.stringify(model, replacer, 2)}\n`;
}

function problemsOf(text: string, file = 'config.ign'): Problem[] {
  try {
    parseIgnition(text, file);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).problems;
  }
  throw new Error('expected the config to be rejected');
}

const config = (version: string, rest: object = {}) => JSON.stringify({ ignition: { version }, ...rest });
const withFile = (file: object, version = '3.5.0') => config(version, { storage: { files: [file] } });
const fixtures = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.ign'))
  .sort();

describe('golden models', () => {
  it('has a fixture per supported version', () => {
    for (const v of SUPPORTED_VERSIONS) expect(fixtures).toContain(`v3_${v.split('.')[1]}.ign`);
  });

  it.each(fixtures)('%s', (name) => {
    const model = parseIgnition(readFileSync(`${FIXTURES}${name}`, 'utf8'), name);
    expectGolden(`${FIXTURES}${name.replace(/\.ign$/, '.expected.json')}`, serialize(model));
  });
});

describe('upstream oracle: accepted fixtures validate against the upstream schema of their version', () => {
  const ajv = new Ajv.default({ allErrors: true, strict: false });
  const validators = new Map(SUPPORTED_VERSIONS.map((v) => [v, ajv.compile(JSON.parse(readFileSync(upstreamFile(v), 'utf8')))]));

  it.each(fixtures)('%s', (name) => {
    const doc = JSON.parse(readFileSync(`${FIXTURES}${name}`, 'utf8'));
    const validate = validators.get(doc.ignition.version)!;
    expect(validate, `no upstream schema for ${doc.ignition.version}`).toBeDefined();
    expect(validate(doc) ? [] : validate.errors).toEqual([]);
  });

  it('the malformed corpus configs kiln refuses for kiln reasons are still valid Ignition', () => {
    // A refusal of valid Ignition is a kiln policy; these must not be typos upstream rejects too.
    for (const name of [
      'ign-storage-disks',
      'ign-storage-raid',
      'ign-storage-luks',
      'ign-storage-filesystems',
      'ign-kernel-arguments',
      'ign-http-no-hash',
      'ign-secret-world-readable',
      'ign-path-in-run',
    ]) {
      const doc = JSON.parse(readFileSync(`${MALFORMED}${name}/config.ign`, 'utf8'));
      const validate = validators.get(doc.ignition.version)!;
      expect(validate(doc) ? [] : validate.errors, name).toEqual([]);
    }
  });
});

// ---- property paths: kiln's schemas against upstream's ------------------------------------------

interface Field {
  /** The JSON types; undefined where a schema names none. */
  types: Array<string | undefined>;
  required: boolean;
}
type Fields = Map<string, Field>;

/** The parts of an upstream JSON Schema (draft-07) upstreamFields walks. */
interface JsonSchema {
  $ref?: string;
  allOf?: JsonSchema[];
  required?: string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  type?: string | string[];
}

function upstreamFields(doc: JsonSchema): Fields {
  const out: Fields = new Map();
  /** One step of a JSON pointer ("#/definitions/x"). */
  const step = (node: unknown, key: string): unknown => (node as Record<string, unknown>)[key];
  const deref = (s: JsonSchema): JsonSchema => {
    while (s.$ref) s = s.$ref.slice(2).split('/').reduce<unknown>(step, doc) as JsonSchema;
    return s;
  };
  const walk = (schema: JsonSchema, prefix: string) => {
    const s = deref(schema);
    for (const part of s.allOf ?? []) walk(part, prefix);
    const required = new Set<string>(s.required ?? []);
    for (const [key, sub] of Object.entries(s.properties ?? {})) {
      const path = prefix ? `${prefix}.${key}` : key;
      const d = deref(sub);
      out.set(path, { types: [d.type].flat().sort(), required: required.has(key) });
      walk(d, path);
    }
    if (s.items) walk(s.items, `${prefix}[]`);
  };
  walk(doc, '');
  return out;
}

function kilnFields(root: TSchema): Fields {
  const out: Fields = new Map();
  const typesOf = (s: TSchema): string[] => (s.anyOf ? (s.anyOf as TSchema[]).flatMap(typesOf) : [s.type as string]);
  const walk = (s: TSchema, prefix: string) => {
    for (const m of (s.anyOf as TSchema[] | undefined) ?? []) walk(m, prefix);
    for (const [key, sub] of Object.entries<TSchema>(s.properties ?? {})) {
      const path = prefix ? `${prefix}.${key}` : key;
      out.set(path, { types: typesOf(sub).sort(), required: ((s.required as string[] | undefined) ?? []).includes(key) });
      walk(sub, path);
    }
    if (s.items) walk(s.items as TSchema, `${prefix}[]`);
  };
  walk(root, '');
  return out;
}

// Where kiln is deliberately stricter than the upstream schema (Ignition's Go code is too: it
// cannot act on a config without a version, and a null object is never a meaningful entry).
const STRICTER: Record<string, Partial<Record<IgnitionVersion, Partial<Field>>>> = {
  'ignition.version': {
    '3.0.0': { required: true },
    '3.1.0': { required: true },
    '3.2.0': { required: true },
    '3.3.0': { required: true },
  },
  'storage.luks[].clevis': { '3.2.0': { types: ['object'] } },
  'storage.luks[].clevis.custom': { '3.2.0': { types: ['object'] } },
};

describe('kiln knows exactly the upstream fields of each version', () => {
  it.each(SUPPORTED_VERSIONS)('%s', (version) => {
    const upstream = upstreamFields(JSON.parse(readFileSync(upstreamFile(version), 'utf8')));
    const kiln = kilnFields(IGNITION_SCHEMAS[version]);
    expect([...kiln.keys()].sort()).toEqual([...upstream.keys()].sort());
    for (const [path, field] of upstream) {
      const expected = { ...field, ...STRICTER[path]?.[version] };
      expect(kiln.get(path), `${version} ${path}`).toEqual(expected);
    }
  });

  it('3.6.0 is a spec kiln refuses, not one it lacks a schema for by accident', () => {
    expect(existsSync(`${UPSTREAM}ignition-v3_6.schema.json`)).toBe(true);
    expect(problemsOf(config('3.6.0'))[0]).toMatchObject({ path: '/ignition/version', message: 'Ignition spec "3.6.0" is not supported' });
  });
});

// ---- what kiln does with every upstream field ----------------------------------------------------

// Whole sections kiln refuses when they hold anything, or warns about as ignored.
const REFUSED = ['storage.disks', 'storage.raid', 'storage.luks', 'storage.filesystems', 'kernelArguments', 'ignition.config'];
const WARNED = ['ignition.timeouts', 'ignition.security', 'ignition.proxy', 'passwd.users[].noLogInit'];
// Fields applied, some refused for particular values (httpHeaders when non-empty, shouldExist: false).
const node = ['path', 'overwrite', 'user', 'user.id', 'user.name', 'group', 'group.id', 'group.name'];
const resource = (p: string) => [
  p,
  `${p}.source`,
  `${p}.compression`,
  `${p}.httpHeaders`,
  `${p}.httpHeaders[].name`,
  `${p}.httpHeaders[].value`,
  `${p}.verification`,
  `${p}.verification.hash`,
];
const APPLIED = [
  'ignition',
  'ignition.version',
  'storage',
  'storage.files',
  ...['mode', ...node, ...resource('contents'), ...resource('append[]'), 'append'].map((f) => `storage.files[].${f}`),
  'storage.directories',
  ...['mode', ...node].map((f) => `storage.directories[].${f}`),
  'storage.links',
  ...['target', 'hard', ...node].map((f) => `storage.links[].${f}`),
  'systemd',
  'systemd.units',
  ...['name', 'enabled', 'mask', 'contents', 'dropins', 'dropins[].name', 'dropins[].contents'].map((f) => `systemd.units[].${f}`),
  'passwd',
  'passwd.users',
  ...[
    'name',
    'passwordHash',
    'sshAuthorizedKeys',
    'uid',
    'gecos',
    'homeDir',
    'noCreateHome',
    'primaryGroup',
    'groups',
    'noUserGroup',
    'system',
    'shell',
    'shouldExist',
  ].map((f) => `passwd.users[].${f}`),
  'passwd.groups',
  ...['name', 'gid', 'passwordHash', 'system', 'shouldExist'].map((f) => `passwd.groups[].${f}`),
];

describe('every upstream field is applied, warned about or refused', () => {
  const under = (path: string, section: string) => path === section || path.startsWith(`${section}.`) || path.startsWith(`${section}[]`);
  it.each(SUPPORTED_VERSIONS)('%s', (version) => {
    const paths = [...upstreamFields(JSON.parse(readFileSync(upstreamFile(version), 'utf8'))).keys()];
    const unclassified = paths.filter((p) => !APPLIED.includes(p) && !REFUSED.some((s) => under(p, s)) && !WARNED.some((s) => under(p, s)));
    expect(unclassified).toEqual([]);
  });

  const cases: Array<[string, string, string, 'error' | 'warning']> = [
    ['storage.disks', config('3.5.0', { storage: { disks: [{ device: '/dev/vdb' }] } }), '/storage/disks', 'error'],
    ['storage.raid', config('3.3.0', { storage: { raid: [{ name: 'md0' }] } }), '/storage/raid', 'error'],
    ['storage.luks', config('3.2.0', { storage: { luks: [{ name: 'data' }] } }), '/storage/luks', 'error'],
    ['storage.filesystems', config('3.0.0', { storage: { filesystems: [{ device: '/dev/vdb' }] } }), '/storage/filesystems', 'error'],
    [
      'kernelArguments.shouldNotExist',
      config('3.3.0', { kernelArguments: { shouldNotExist: ['quiet'] } }),
      '/kernelArguments/shouldNotExist',
      'error',
    ],
    [
      'ignition.config.merge',
      JSON.stringify({ ignition: { version: '3.1.0', config: { merge: [{ source: 'data:,{}' }] } } }),
      '/ignition/config/merge',
      'error',
    ],
    [
      'ignition.config.replace',
      JSON.stringify({ ignition: { version: '3.0.0', config: { replace: { source: 'https://example.com/x.ign' } } } }),
      '/ignition/config/replace/source',
      'error',
    ],
    [
      'httpHeaders',
      withFile({
        path: '/x',
        append: [{ source: 'https://e.com/x', httpHeaders: [{ name: 'A' }], verification: { hash: `sha256-${'0'.repeat(64)}` } }],
      }),
      '/storage/files/0/append/0/httpHeaders',
      'error',
    ],
    [
      'shouldExist: false',
      config('3.2.0', { passwd: { groups: [{ name: 'games', shouldExist: false }] } }),
      '/passwd/groups/0/shouldExist',
      'error',
    ],
    ['ignition.timeouts', JSON.stringify({ ignition: { version: '3.5.0', timeouts: { httpTotal: 30 } } }), '/ignition/timeouts', 'warning'],
    [
      'certificateAuthorities',
      JSON.stringify({ ignition: { version: '3.0.0', security: { tls: { certificateAuthorities: [{ source: 'data:,x' }] } } } }),
      '/ignition/security/tls/certificateAuthorities',
      'warning',
    ],
    ['ignition.proxy', JSON.stringify({ ignition: { version: '3.4.0', proxy: { noProxy: ['.lan'] } } }), '/ignition/proxy', 'warning'],
    ['noLogInit', config('3.0.0', { passwd: { users: [{ name: 'a', noLogInit: true }] } }), '/passwd/users/0/noLogInit', 'warning'],
  ];
  it.each(cases)('%s', (_name, text, path, kind) => {
    if (kind === 'error') {
      const problems = problemsOf(text);
      expect(problems.map((p) => p.path)).toEqual([path]);
      expect(problems[0]!.hint).toBeTruthy();
    } else {
      const model = parseIgnition(text, 'config.ign');
      expect(model.warnings).toEqual([
        expect.objectContaining({ file: 'config.ign', path, message: expect.stringContaining('is ignored'), hint: expect.any(String) }),
      ]);
    }
  });

  it('empty refused sections and empty warned settings are fine, and say nothing', () => {
    const text = JSON.stringify({
      ignition: {
        version: '3.5.0',
        config: { merge: [], replace: {} },
        timeouts: {},
        security: { tls: { certificateAuthorities: [] } },
        proxy: { httpProxy: null, noProxy: [] },
      },
      storage: { disks: [], raid: [], luks: [], filesystems: [] },
      kernelArguments: { shouldExist: [], shouldNotExist: [] },
    });
    expect(parseIgnition(text, 'config.ign').warnings).toEqual([]);
  });
});

// ---- behaviour ----------------------------------------------------------------------------------

describe('parseIgnition', () => {
  it('derives the instance id from the raw bytes', () => {
    const text = config('3.5.0');
    const hex = createHash('sha256').update(text).digest('hex');
    expect(parseIgnition(text, 'c.ign').instanceId).toBe(`ignition-sha256-${hex.slice(0, 16)}`);
    expect(parseIgnition(`${text}\n`, 'c.ign').instanceId).not.toBe(`ignition-sha256-${hex.slice(0, 16)}`);
  });

  it('points JSON syntax errors at line:col', () => {
    const [p] = problemsOf('{\n  "ignition": {\n    "version": "3.5.0",\n  }\n}\n');
    expect(p).toMatchObject({ file: 'config.ign', path: '', message: expect.stringMatching(/^JSON syntax error at line 4:3: /) });
    expect(problemsOf('{"ignition": ')[0]!.message).toMatch(/^JSON syntax error at line 1:14: a value is expected/);
  });

  it('locates a bad token without quoting the text around it (it may be a password hash)', () => {
    const text = '{"ignition": {"version": "3.5.0"},\n "passwd": {"users": [{"name": "ops", "passwordHash": $6$Xy9.secret}]}}';
    const [p] = problemsOf(text);
    expect(p).toMatchObject({ line: 2, col: 55, message: 'JSON syntax error at line 2:55: unexpected character' });
    expect(JSON.stringify(p)).not.toContain('secret');
  });

  it('refuses nesting past the budget with a located problem, not a stack overflow', () => {
    const deep = `{"ignition": {"version": "3.5.0"}, "x": ${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const [p] = problemsOf(deep);
    expect(p).toMatchObject({ line: 1, message: 'JSON nested deeper than 100 levels' });
    // a deep and broken one too: the locator's own recursion is bounded
    expect(problemsOf(`${'['.repeat(200_000)}x`)[0]!.message).toMatch(/^JSON syntax error at line 1:\d+: /);
  });

  // Not in the malformed corpus: the CLI's format sniffing (a JSON object with an "ignition" key)
  // does not route these to the Ignition parser.
  it.each([
    ['not an object', '["ignition"]', '', 'an Ignition config must be a JSON object'],
    ['empty', '  \n', '', 'the Ignition config is empty'],
    ['spec 1', '{"ignitionVersion": 1, "storage": {}}', '/ignitionVersion', 'Ignition spec 1 is not supported'],
    ['no ignition section', '{"storage": {"files": []}}', '/ignition', 'missing required key "ignition"'],
    ['version not a string', '{"ignition": {"version": 3.5}}', '/ignition/version', '3.5 is not a version string'],
  ])('refuses a config that is %s', (_name, text, path, message) => {
    expect(problemsOf(text)).toEqual([{ file: 'config.ign', path, message, hint: expect.any(String), severity: 'error' }]);
  });

  it('collects every problem of the config at once', () => {
    const text = config('3.5.0', {
      storage: {
        disks: [{ device: '/dev/vdb' }],
        files: [
          { path: 'rel', contents: { source: 'data:,x' } },
          { path: '/etc/a', contents: { source: 'http://e.com/a' } },
          { path: '/etc/b', modee: 420 },
        ],
        links: [{ path: '/etc/a', target: 'x' }],
      },
      systemd: { units: [{ name: 'x' }] },
      passwd: { users: [{ name: 'u', uid: -1 }] },
    });
    expect(
      problemsOf(text)
        .map((p) => p.path)
        .sort(),
    ).toEqual(
      [
        '/storage/disks',
        '/storage/files/0/path',
        '/storage/files/1/contents/verification/hash',
        '/storage/files/2/modee',
        '/storage/links/0/path',
        '/systemd/units/0/name',
        '/passwd/users/0/uid',
      ].sort(),
    );
    for (const p of problemsOf(text)) expect(p.hint, p.path).toBeTruthy();
  });

  it('writes secrets 0600 unless told a stricter mode, and flags them', () => {
    const model = parseIgnition(
      config('3.5.0', {
        storage: {
          files: [{ path: '/etc/kiln/token', contents: { source: 'data:,t' } }, { path: '/srv/tls.key', mode: 256 }, { path: '/etc/motd' }],
        },
      }),
      'c.ign',
    );
    expect(model.files.map((f) => [f.path, f.mode.toString(8), f.secret])).toEqual([
      ['/etc/kiln/token', '600', true],
      ['/srv/tls.key', '400', true],
      ['/etc/motd', '644', false],
    ]);
    expect(problemsOf(withFile({ path: '/etc/kiln/x', mode: 416 }))[0]!.message).toContain('lets group or others read');
  });

  it('verifies a declared hash of inline data after decompressing it', () => {
    const data = gzipSync('payload\n');
    const source = `data:;base64,${data.toString('base64')}`;
    const ofPlain = `sha512-${createHash('sha512').update('payload\n').digest('hex')}`;
    const ofGzip = `sha512-${createHash('sha512').update(data).digest('hex')}`;
    const model = parseIgnition(
      withFile({ path: '/x', contents: { source, compression: 'gzip', verification: { hash: ofPlain } } }),
      'c.ign',
    );
    expect(model.files[0]!.contents).toEqual({ kind: 'inline', data: Buffer.from('payload\n') });
    expect(
      problemsOf(withFile({ path: '/x', contents: { source, compression: 'gzip', verification: { hash: ofGzip } } }))[0]!.message,
    ).toContain('hash mismatch');
  });

  it('keeps remote contents remote, pinned, with their compression', () => {
    const hex = 'A'.repeat(64);
    const model = parseIgnition(
      withFile({ path: '/x', contents: { source: 'https://e.com/x.gz', compression: 'gzip', verification: { hash: `sha256-${hex}` } } }),
      'c.ign',
    );
    expect(model.files[0]!.contents).toEqual({
      kind: 'remote',
      url: 'https://e.com/x.gz',
      hash: { algorithm: 'sha256', hex: hex.toLowerCase() },
      compression: 'gzip',
    });
  });

  it('does not show secret values of a bad node config', () => {
    const yaml =
      'role: worker\ncluster: {name: lab, kubernetesVersion: v1.31.4, controlPlaneEndpoint: "10.0.0.1:6443"}\nnode: {name: w, advertiseAddress: 10.0.0.2}\njoin: {token: SECRET.TOKENVALUE}\n';
    const problems = problemsOf(
      withFile({ path: '/etc/kiln/node.yaml', contents: { source: `data:;base64,${Buffer.from(yaml).toString('base64')}` } }),
    );
    expect(problems.map((p) => p.path)).toEqual(['/storage/files/0/contents/source']);
    expect(JSON.stringify(problems)).not.toContain('SECRET');
  });

  it('leaves a remote node config to the resolver', () => {
    const model = parseIgnition(
      withFile({
        path: '/etc/kiln/node.yaml',
        contents: { source: 'https://e.com/n.yaml', verification: { hash: `sha256-${'1'.repeat(64)}` } },
      }),
      'c.ign',
    );
    expect(model.node).toBeUndefined();
    expect(model.files[0]).toMatchObject({ secret: true, mode: 0o600 });
  });

  it('points out a key that a later spec version added', () => {
    const [p] = problemsOf(config('3.1.0', { passwd: { users: [{ name: 'a', shouldExist: true }] } }));
    expect(p).toMatchObject({
      path: '/passwd/users/0/shouldExist',
      message: 'unknown key "shouldExist"',
      hint: expect.stringContaining('came in Ignition spec 3.2.0'),
    });
  });
});

describe('data: URLs and hashes', () => {
  it.each([
    ['data:,hello%20world', 'hello world'],
    ['data:text/plain;charset=utf-8,%E2%9C%93', '✓'],
    ['data:;base64,aGVsbG8=', 'hello'],
    ['data:application/octet-stream;base64,aGk%3D', 'hi'],
    ['data:,', ''],
    ['data:,a,b', 'a,b'],
  ])('%s', (url, text) => {
    expect(decodeDataUrl(url)).toEqual({ data: Buffer.from(text) });
  });

  it.each(['data:hello', 'data:,100%', 'data:;base64,aGVsbG8', 'data:;base64,a b='])('rejects %s', (url) => {
    expect(decodeDataUrl(url)).toHaveProperty('error');
  });

  it('parses Ignition hashes', () => {
    expect(parseHash(`sha256-${'ab'.repeat(32)}`)).toEqual({ algorithm: 'sha256', hex: 'ab'.repeat(32) });
    expect(parseHash(`sha512-${'CD'.repeat(64)}`)).toEqual({ algorithm: 'sha512', hex: 'cd'.repeat(64) });
    for (const bad of [
      `sha256-${'ab'.repeat(31)}`,
      `sha512-${'ab'.repeat(32)}`,
      `sha1-${'ab'.repeat(20)}`,
      `sha256:${'ab'.repeat(32)}`,
      `sha256-${'zz'.repeat(32)}`,
    ])
      expect(parseHash(bad), bad).toBeUndefined();
  });
});

describe('malformed corpus (Ignition cases)', () => {
  const cases = readdirSync(MALFORMED)
    .filter((d) => d.startsWith('ign-') && existsSync(`${MALFORMED}${d}/config.ign`))
    .sort();

  it('has the cases the corpus promises', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  it.each(cases)('%s', (name) => {
    const expected = JSON.parse(readFileSync(`${MALFORMED}${name}/expect.json`, 'utf8')) as { file: string; path: string; message: string };
    const problems = problemsOf(readFileSync(`${MALFORMED}${name}/config.ign`, 'utf8'), 'config.ign');
    expect(problems).toContainEqual(
      expect.objectContaining({ file: expected.file, path: expected.path, message: expect.stringContaining(expected.message) }),
    );
    for (const p of problems) expect(p.hint, `${p.path}: ${p.message}`).toBeTruthy();
  });
});
