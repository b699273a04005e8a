// NoCloud user-data and meta-data → the provisioning model. Golden cases pin the whole model; the
// upstream cloud-config schema is the outside oracle for what counts as cloud-config; the
// malformed corpus pins what a user is told for each kind of broken seed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv-draft-04';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { type Problem } from '../../../../core/problem.ts';
import { ValidationError } from '../../../../core/errors.ts';
import { parseMetaData, parseUserData, SUPPORTED_KEYS, UNAPPLIED } from '../../../../node/formats/cloud-config/index.ts';
import { isMime, parseMime } from '../../../../node/formats/cloud-config/mime.ts';
import { ENCODINGS, UserObject, WriteFile } from '../../../../node/formats/cloud-config/schema.ts';
import type { Provisioning } from '../../../../node/model.ts';
import { expectGolden } from '../../../helpers/specs.ts';
import { where } from '../../../../core/problem.ts';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const GOLDEN = `${ROOT}test/fixtures/firstboot/cloud-config`;
const MALFORMED = `${ROOT}test/fixtures/firstboot/malformed`;
const UPSTREAM = `${ROOT}../shared/upstream/cloud-init/schema-cloud-config-v1.json`;
const META = { instanceId: 'iid-test' };

const cases = (dir: string) =>
  readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();

/** A control character other than tab and line feed: C0 (U+0000–U+001F) or DEL. */
const isControl = (c: string) => {
  const code = c.charCodeAt(0);
  return (code <= 0x1f && code !== 0x09 && code !== 0x0a) || code === 0x7f;
};

/** Buffers as readable text where they are text, base64 otherwise; modes in octal. */
function serialize(model: Provisioning): string {
  const readable = (b: Buffer) => {
    const text = b.toString('utf8');
    return Buffer.from(text).equals(b) && ![...text].some(isControl) ? { utf8: text } : { base64: b.toString('base64') };
  };
  return `${JSON.stringify(
    model,
    function (this: Record<string, unknown>, key, value) {
      const raw = this[key];
      if (Buffer.isBuffer(raw)) return readable(raw);
      if (key === 'mode' && typeof raw === 'number') return `0${raw.toString(8).padStart(3, '0')}`;
      return value;
    },
    2,
  )}\n`;
}

function parseSeed(dir: string): Provisioning {
  const meta = parseMetaData(readFileSync(`${dir}/meta-data`, 'utf8'), 'meta-data');
  return parseUserData(readFileSync(`${dir}/user-data`), 'user-data', meta);
}

const cc = (text: string, meta: { instanceId: string; localHostname?: string } = META) =>
  parseUserData(Buffer.from(text), 'user-data', meta);

function problemsOf(parse: () => unknown): Problem[] {
  try {
    parse();
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return error.problems;
  }
  throw new Error('accepted');
}
const ccProblems = (text: string, meta = META) => problemsOf(() => cc(text, meta));
const show = (ps: Problem[]) => ps.map((p) => `${p.file} ${p.path}: ${p.message} [${p.hint ?? '-'}]`).join('\n');

describe('golden cases', () => {
  it('has the cases the brief lists', () => {
    expect(cases(GOLDEN)).toEqual(
      expect.arrayContaining([
        'minimal',
        'full',
        'write-files',
        'users-groups',
        'mime-multipart',
        'plain-script',
        'gzip',
        'kiln-init',
        'kiln-worker',
        'unsupported-keys',
      ]),
    );
  });
  for (const name of cases(GOLDEN)) {
    it(name, () => expectGolden(`${GOLDEN}/${name}/expected.json`, serialize(parseSeed(`${GOLDEN}/${name}`))));
  }
});

describe('upstream cloud-config schema (oracle)', () => {
  const schema = JSON.parse(readFileSync(UPSTREAM, 'utf8'));
  // CommonJS default export: the class is `.default` under NodeNext typing (and at run time too)
  const ajv = new Ajv.default({ strict: false, allErrors: true, validateFormats: false });
  const validate = ajv.compile(schema);
  const upstreamKeys = Object.keys(schema.properties as object);

  /** The cloud-config document of a golden case, read as PyYAML would (YAML 1.1), or undefined. */
  function cloudConfigOf(dir: string): Record<string, unknown> | undefined {
    let data = readFileSync(`${dir}/user-data`);
    if (data[0] === 0x1f && data[1] === 0x8b) data = gunzipSync(data);
    let text = data.toString('utf8');
    if (isMime(data.toString('latin1')))
      text =
        parseMime(data.toString('latin1'))
          .parts.find((p) => p.type === 'text/cloud-config')
          ?.body.toString('utf8') ?? '';
    return text.startsWith('#cloud-config') ? (parseYaml(text, { version: '1.1' }) as Record<string, unknown>) : undefined;
  }

  it('is draft-04 and forbids keys it does not define (so the kiln key must be taken out)', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-04/schema#');
    expect(schema.additionalProperties).toBe(false);
    expect(validate({ hostname: 'a' })).toBe(true);
    expect(validate({ kiln: { role: 'worker' } })).toBe(false);
  });

  for (const name of cases(GOLDEN)) {
    it(`accepts golden ${name} (without kiln and the keys kiln reports as not cloud-config)`, () => {
      const doc = cloudConfigOf(`${GOLDEN}/${name}`);
      if (!doc) return expect(['plain-script', 'meta-data-only']).toContain(name);
      const model = parseSeed(`${GOLDEN}/${name}`);
      const strange = Object.keys(doc).filter((k) => k !== 'kiln' && !upstreamKeys.includes(k));
      for (const key of strange) {
        // kiln calls it "not a cloud-config key", and upstream agrees
        expect(model.warnings.some((w) => w.path === `/${key}` && w.message.includes('not a cloud-config key'))).toBe(true);
        expect(validate({ [key]: doc[key] })).toBe(false);
      }
      const upstreamOnly = Object.fromEntries(Object.entries(doc).filter(([k]) => k !== 'kiln' && !strange.includes(k)));
      const ok = validate(upstreamOnly);
      expect(ok ? [] : validate.errors).toEqual([]);
    });
  }

  it('the embedded list of known-but-unapplied keys is upstream minus the supported keys', () => {
    const supported = SUPPORTED_KEYS.filter((k) => k !== 'kiln');
    expect(supported.filter((k) => !upstreamKeys.includes(k))).toEqual([]);
    expect(Object.keys(UNAPPLIED).sort()).toEqual(upstreamKeys.filter((k) => !supported.includes(k)).sort());
  });

  it('user and write_files keys kiln accepts are upstream keys; the encodings are upstream\'s plus "text"', () => {
    const user = schema.$defs['users_groups.user'].properties as object;
    expect(Object.keys(UserObject.properties).filter((k) => !(k in user))).toEqual([]);
    const file = schema.$defs.cc_write_files.properties.write_files.items;
    expect(Object.keys(WriteFile.properties).filter((k) => !(k in file.properties))).toEqual([]);
    expect([...ENCODINGS].filter((e) => e !== 'text').sort()).toEqual([...file.properties.encoding.enum].sort());
  });
});

describe('malformed corpus', () => {
  // the corpus is shared with the Ignition and network-config parsers: cloud-config's cases are cc-*
  const names = existsSync(MALFORMED) ? cases(MALFORMED).filter((n) => n.startsWith('cc-')) : [];
  it('has at least 22 cases', () => expect(names.length).toBeGreaterThanOrEqual(22));
  for (const name of names) {
    it(name, () => {
      const dir = `${MALFORMED}/${name}`;
      const expected = JSON.parse(readFileSync(`${dir}/expect.json`, 'utf8')) as { file: string; path: string; message: string };
      const problems = problemsOf(() => parseSeed(dir));
      const hit = problems.find(
        (p) => p.file.replace(/:\d+:\d+$/, '') === expected.file && p.path === expected.path && p.message.includes(expected.message),
      );
      expect(hit, show(problems)).toBeDefined();
      for (const p of problems) expect(p.hint, show([p])).toBeTruthy();
    });
  }
});

describe('meta-data', () => {
  it('takes instance-id and local-hostname, ignores provider keys, reads JSON', () => {
    expect(parseMetaData('instance-id: i-1\nlocal-hostname: n1\npublic-keys: [a]\n', 'meta-data')).toEqual({
      instanceId: 'i-1',
      localHostname: 'n1',
    });
    expect(parseMetaData('{"instance-id": "i-2"}', 'meta-data')).toEqual({ instanceId: 'i-2' });
    expect(parseMetaData('instance-id: 12345\n', 'meta-data')).toEqual({ instanceId: '12345' });
  });
  it('names an IPv4 local-hostname like cloud-init does', () => {
    expect(parseMetaData('instance-id: a\nlocal-hostname: 10.0.0.5\n', 'meta-data').localHostname).toBe('ip-10-0-0-5');
  });
  it('rejects a missing instance-id, a non-mapping and a bad hostname, located', () => {
    expect(show(problemsOf(() => parseMetaData('local-hostname: x\n', 'meta-data')))).toMatch(/no "instance-id"/);
    expect(show(problemsOf(() => parseMetaData('- a\n', 'meta-data')))).toMatch(/must be a mapping/);
    expect(show(problemsOf(() => parseMetaData('', 'meta-data')))).toMatch(/must be a mapping/);
    const [p] = problemsOf(() => parseMetaData('instance-id: a\nlocal-hostname: Bad_Name\n', 'meta-data'));
    expect(p).toMatchObject({ file: 'meta-data', line: 2, col: 17, path: '/local-hostname' });
  });
});

describe('user-data kinds', () => {
  it('empty user-data is an empty provisioning; meta-data names the host', () => {
    const m = parseUserData(Buffer.alloc(0), 'user-data', { instanceId: 'i', localHostname: 'n1.example.com' });
    expect(m).toMatchObject({
      format: 'cloud-config',
      instanceId: 'i',
      hostname: 'n1',
      fqdn: 'n1.example.com',
      files: [],
      runcmd: [],
      warnings: [],
    });
    expect(cc('#cloud-config\n').hostname).toBeUndefined();
  });
  it('detects markers case-insensitively after blank lines, as cloud-init does', () => {
    expect(cc('\n  #Cloud-Config\nhostname: a\n').hostname).toBe('a');
  });
  it.each([
    ['#include\nhttp://x/y', '#include', /kiln\.config=<url> kiln\.config\.hash=sha256/],
    ['#include-once\nhttp://x/y', '#include-once', /kiln\.config/],
    ['#cloud-boothook\n#!/bin/sh\n', '#cloud-boothook', /bootcmd/],
    ['#part-handler\n', '#part-handler', /handler/],
    ['#cloud-config-archive\n- type: text/cloud-config\n', '#cloud-config-archive', /one #cloud-config/],
    ['## template: jinja\n#cloud-config\nhostname: {{ v1.local_hostname }}\n', '## template: jinja', /render/],
  ])('%j is not supported', (text, what, hint) => {
    const [p, ...rest] = ccProblems(text);
    expect(rest).toEqual([]);
    expect(p!.message).toContain(`${what} user-data is not supported`);
    expect(p!.hint).toMatch(hint);
  });
  it('rejects text that is no user-data kind', () => {
    expect(show(ccProblems('hostname: a\n'))).toMatch(/not cloud-config, a script or MIME/);
  });
  it('gunzips gzip user-data, and says so when it does not decompress', () => {
    expect(parseUserData(gzipSync('#cloud-config\nhostname: gz\n'), 'user-data', META).hostname).toBe('gz');
    expect(show(problemsOf(() => parseUserData(Buffer.from([0x1f, 0x8b, 1, 2, 3]), 'user-data', META)))).toMatch(/does not decompress/);
  });
  it('a script is written 0700 and run in the late pass before runcmd', () => {
    const m = cc('#!/bin/sh\necho hi\n');
    expect(m.files).toEqual([expect.objectContaining({ path: '/var/lib/kiln/scripts/user-data-1', mode: 0o700 })]);
    expect(m.files[0]!.contents).toEqual({ kind: 'inline', data: Buffer.from('#!/bin/sh\necho hi\n') });
    expect(m.runcmd).toEqual([['/var/lib/kiln/scripts/user-data-1']]);
  });
});

describe('MIME multi-part', () => {
  const mime = (...parts: string[]) =>
    ['Content-Type: multipart/mixed; boundary="XX"', 'MIME-Version: 1.0', '', ...parts.flatMap((p) => ['--XX', p]), '--XX--', ''].join(
      '\r\n',
    );
  it('decodes quoted-printable and base64, tells text/plain parts by their first line', () => {
    const m = cc(
      mime(
        'Content-Type: text/plain\r\n\r\n#cloud-config\r\nhostname: plain-part',
        'Content-Type: text/x-shellscript\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n#!/bin/sh\r\necho caf=C3=A9 =3D long=\r\nline',
        `Content-Type: text/x-shellscript\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from('#!/bin/sh\necho b64\n').toString('base64')}`,
      ),
    );
    expect(m.hostname).toBe('plain-part');
    expect(m.files.map((f) => (f.contents as { data: Buffer }).data.toString())).toEqual([
      '#!/bin/sh\necho café = longline',
      '#!/bin/sh\necho b64\n',
    ]);
    expect(m.runcmd).toEqual([['/var/lib/kiln/scripts/user-data-1'], ['/var/lib/kiln/scripts/user-data-2']]);
  });
  it('points problems in a 7bit cloud-config part at the line of the whole file', () => {
    const text = mime('Content-Type: text/cloud-config\r\n\r\n#cloud-config\r\nhostname: Bad_Name');
    const [p] = ccProblems(text);
    expect(p).toMatchObject({ file: 'user-data', line: 8, col: 11, path: '/hostname' });
    expect(text.split('\r\n')[7]).toBe('hostname: Bad_Name');
  });
  it('labels problems in an encoded part with the part', () => {
    const [p] = ccProblems(
      mime(
        `Content-Type: text/cloud-config\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from('#cloud-config\nhostname: Bad_Name\n').toString('base64')}`,
      ),
    );
    expect(p).toMatchObject({ file: 'user-data (part 1)', line: 2, col: 11, path: '/hostname' });
  });
  it('refuses text/plain parts that are neither cloud-config nor a script, and a multipart without boundary', () => {
    expect(show(ccProblems(mime('Content-Type: text/plain\r\n\r\nhello')))).toMatch(
      /part 1 \(text\/plain\) is neither cloud-config nor a script/,
    );
    expect(show(ccProblems('Content-Type: multipart/mixed\nMIME-Version: 1.0\n\n--x\n'))).toMatch(/without a boundary/);
  });
  it('reports every part problem at once', () => {
    const problems = ccProblems(
      mime(
        'Content-Type: text/cloud-config\r\n\r\n#cloud-config\r\n',
        'Content-Type: text/cloud-config\r\n\r\n#cloud-config\r\n',
        'Content-Type: text/x-include-url\r\n\r\nhttp://x',
        'Content-Type: text/x-shellscript\r\n\r\necho no shebang',
      ),
    );
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringContaining('second text/cloud-config part'),
      expect.stringContaining('"text/x-include-url", which kiln-firstboot does not support (cloud-init\'s #include)'),
      expect.stringContaining('does not start with "#!"'),
    ]);
    expect(problems[0]!.hint).toBe('merge them into one text/cloud-config part');
  });
});

describe('cloud-config', () => {
  it('reads YAML as cloud-init (YAML 1.1): yes/no are booleans, 0644 is octal', () => {
    const m = cc('#cloud-config\nusers:\n  - name: a\n    lock_passwd: no\nwrite_files:\n  - path: /x\n    permissions: 0640\n');
    expect(m.users[0]!.lockPassword).toBe(false);
    expect(m.files[0]!.mode).toBe(0o640);
  });
  it('refuses a decimal permissions number', () => {
    const [p] = ccProblems('#cloud-config\nwrite_files:\n  - path: /x\n    permissions: 644\n');
    expect(p).toMatchObject({ path: '/write_files/0/permissions', hint: expect.stringContaining("'0644'") });
    expect(p!.message).toContain('decimal');
  });
  it('decodes binary gzip content and the "text" encoding; a gzip string is an error', () => {
    const gz = gzipSync('zipped\n').toString('base64');
    const m = cc(
      `#cloud-config\nwrite_files:\n  - path: /a\n    encoding: gzip\n    content: !!binary ${gz}\n  - path: /b\n    encoding: text\n    content: t\n`,
    );
    expect(m.files.map((f) => (f.contents as { data: Buffer }).data.toString())).toEqual(['zipped\n', 't']);
    expect(show(ccProblems('#cloud-config\nwrite_files:\n  - path: /a\n    encoding: gz\n    content: abc\n'))).toMatch(
      /must be binary.*gz\+b64/s,
    );
  });
  it('secrets: written 0600 by default; group- or world-readable is an error', () => {
    const m = cc(
      '#cloud-config\nwrite_files:\n  - path: /etc/ssl/private/site.key\n    content: k\n  - path: /etc/kubernetes/pki/ca.crt\n    content: c\n    permissions: "0600"\n',
    );
    expect(m.files.map((f) => [f.secret, f.mode])).toEqual([
      [true, 0o600],
      [true, 0o600],
    ]);
    const [p] = ccProblems('#cloud-config\nwrite_files:\n  - path: /etc/kiln/token\n    content: t\n    permissions: "0640"\n');
    expect(p).toMatchObject({ path: '/write_files/0/permissions', hint: expect.stringContaining('0600') });
  });
  it('refuses write_files source and paths with ".."', () => {
    expect(show(ccProblems('#cloud-config\nwrite_files:\n  - path: /x\n    source: {uri: "http://x"}\n'))).toMatch(/source.*not supported/);
    expect(show(ccProblems('#cloud-config\nwrite_files:\n  - path: /etc/../x\n'))).toMatch(/not a plain file path/);
  });
  it('works out hostname and fqdn like cloud-init', () => {
    expect(cc('#cloud-config\nhostname: n1.example.com\n')).toMatchObject({ hostname: 'n1', fqdn: 'n1.example.com' });
    expect(cc('#cloud-config\nfqdn: n2.example.com\n')).toMatchObject({ hostname: 'n2', fqdn: 'n2.example.com' });
    expect(cc('#cloud-config\nfqdn: n2.example.com\nprefer_fqdn_over_hostname: true\n')).toMatchObject({ hostname: 'n2.example.com' });
    expect(cc('#cloud-config\nhostname: own\n', { instanceId: 'i', localHostname: 'meta.example.com' })).toMatchObject({
      hostname: 'own',
      fqdn: 'meta.example.com',
    });
    const kept = cc('#cloud-config\nhostname: n3\npreserve_hostname: true\n');
    expect(kept.hostname).toBeUndefined();
    expect(kept.warnings[0]!.message).toContain('preserve_hostname');
  });
  it('manage_etc_hosts: true writes /etc/hosts, localhost appends a line', () => {
    const full = cc('#cloud-config\nfqdn: n.example.com\nmanage_etc_hosts: true\n').files[0]!;
    expect((full.contents as { data: Buffer }).data.toString()).toContain('127.0.1.1 n.example.com n\n127.0.0.1 localhost\n');
    const local = cc('#cloud-config\nhostname: n\nmanage_etc_hosts: localhost\n').files[0]!;
    expect(local).toMatchObject({ path: '/etc/hosts', append: [{ kind: 'inline', data: Buffer.from('127.0.1.1 n\n') }] });
    expect(local.contents).toBeUndefined();
  });
  it('never shows a password or a kiln secret in a message', () => {
    const secretUser = ccProblems(
      '#cloud-config\nusers:\n  - name: a\n    plain_text_passwd: hunter2-secret\n  - name: b\n    passwd: hunter3-secret\n  - name: c\n    hashed_passwd: 123456789\n',
    );
    expect(secretUser.map((p) => p.path)).toEqual(['/users/0/plain_text_passwd', '/users/1/passwd', '/users/2/hashed_passwd']);
    expect(show(secretUser)).not.toMatch(/hunter|123456789/);
    expect(secretUser[0]!.hint).toContain('mkpasswd -m sha-512');
    const kiln = ccProblems(
      '#cloud-config\nkiln:\n  role: worker\n  cluster: {name: lab, kubernetesVersion: v1.31.2, controlPlaneEndpoint: "10.0.0.1:6443"}\n  node: {name: w, advertiseAddress: 10.0.0.2}\n  join: {token: NOT-A-TOKEN-leaked, caCertHashes: [x]}\n',
    );
    expect(show(kiln)).not.toContain('NOT-A-TOKEN');
    expect(kiln.map((p) => p.path)).toEqual(['/kiln/join/token', '/kiln/join/caCertHashes/0']);
  });
  it('reports every problem of a document at once, in file order, located', () => {
    const problems = ccProblems(
      '#cloud-config\ntimezone: Mars/Olympus_Mons x\nhostname: UPPER\nwrite_files:\n  - path: relative\nusers:\n  - name: ok\n    shel: /bin/sh\n',
    );
    expect(problems.map((p) => [where(p), p.path])).toEqual([
      ['user-data:2:11', '/timezone'],
      ['user-data:3:11', '/hostname'],
      ['user-data:5:11', '/write_files/0/path'],
      ['user-data:8:11', '/users/0/shel'],
    ]);
    expect(problems[3]!.hint).toContain('did you mean "shell"');
  });
  it('users: "default" warns, duplicates are errors, group members merge into listed users', () => {
    const m = cc('#cloud-config\ngroups:\n  - ops: [a, ghost]\nusers:\n  - default\n  - name: a\n    groups: adm\n');
    expect(m.users).toEqual([expect.objectContaining({ name: 'a', groups: ['adm', 'ops'], lockPassword: true })]);
    expect(m.groups).toEqual([expect.objectContaining({ name: 'ops', system: false })]);
    expect(m.warnings.map((w) => w.message)).toEqual([
      expect.stringContaining('"ghost" is not added to group "ops"'),
      expect.stringContaining('no default user'),
    ]);
    expect(show(ccProblems('#cloud-config\nusers:\n  - name: a\n  - a\n'))).toMatch(/listed twice/);
  });
  it('takes a folded (newline-terminated) key, trimmed; refuses two keys in one entry', () => {
    expect(
      cc('#cloud-config\nusers:\n  - name: a\n    ssh_authorized_keys:\n      - >\n        ssh-ed25519 AAAA a@b\n').users[0]!
        .sshAuthorizedKeys,
    ).toEqual(['ssh-ed25519 AAAA a@b']);
    expect(
      ccProblems(
        '#cloud-config\nusers:\n  - name: a\n    ssh_authorized_keys:\n      - |\n        ssh-ed25519 AAAA a@b\n        ssh-ed25519 BBBB c@d\n',
      )[0]!.path,
    ).toBe('/users/0/ssh_authorized_keys/0');
  });
  it('top-level ssh_authorized_keys go to root, with a warning', () => {
    const m = cc('#cloud-config\nssh_authorized_keys: [ssh-ed25519 AAAA k1]\n');
    expect(m.directories).toEqual([expect.objectContaining({ path: '/root/.ssh', mode: 0o700 })]);
    expect(m.files).toEqual([
      expect.objectContaining({
        path: '/root/.ssh/authorized_keys',
        mode: 0o600,
        append: [{ kind: 'inline', data: Buffer.from('ssh-ed25519 AAAA k1\n') }],
      }),
    ]);
    expect(m.warnings[0]!.message).toContain('given to root');
    const merged = cc('#cloud-config\nusers: [{name: root, ssh_authorized_keys: [k0]}]\nssh_authorized_keys: [k1]\n');
    expect(merged.users[0]!.sshAuthorizedKeys).toEqual(['k0', 'k1']);
    expect(merged.files).toEqual([]);
  });
  it('ntp: without servers the image defaults stay; enabled: false warns', () => {
    expect(cc('#cloud-config\nntp: {enabled: true}\n').ntp).toBeUndefined();
    expect(cc('#cloud-config\nntp:\n').ntp).toBeUndefined();
    expect(cc('#cloud-config\nntp: {enabled: false, servers: [a]}\n').warnings[0]!.path).toBe('/ntp/enabled');
  });
  it('runcmd skips null entries like cloud-init; bootcmd takes strings and argv lists', () => {
    const m = cc('#cloud-config\nbootcmd: [a, [b, c]]\nruncmd: [x, null, [y]]\n');
    expect(m.bootcmd).toEqual(['a', ['b', 'c']]);
    expect(m.runcmd).toEqual(['x', ['y']]);
  });
  it('the kiln key and a write_files entry for /etc/kiln/node.yaml conflict', () => {
    const kiln = readFileSync(`${GOLDEN}/kiln-worker/user-data`, 'utf8');
    expect(show(ccProblems(`${kiln}write_files:\n  - path: /etc/kiln/node.yaml\n    permissions: '0600'\n`))).toMatch(
      /written from the kiln: key/,
    );
  });
  it('warns about unapplied and unknown keys, with hints', () => {
    const m = cc('#cloud-config\npackages: [jq]\nchpasswd: {expire: false}\nwrite_file: []\n');
    expect(m.warnings.map((w) => [w.path, w.message])).toEqual([
      ['/packages', 'cloud-config key "packages" is not applied by kiln-firstboot'],
      ['/chpasswd', 'cloud-config key "chpasswd" is not applied by kiln-firstboot (it carries cleartext passwords; they are ignored)'],
      ['/write_file', '"write_file" is not a cloud-config key; ignored'],
    ]);
    expect(m.warnings[2]!.hint).toContain('did you mean "write_files"');
    expect(where(m.warnings[0]!)).toBe('user-data:2:1');
  });
});
