// Hostile and careless input through the real command lines (both programs, in-process): every
// case exits 2 with a located message and a hint, prints no stack trace and no secret, finishes in
// seconds, and writes nothing (the case's directory is compared before and after).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { KILN } from '../../../builder/program.ts';
import { runProgram, type Program } from '../../../core/cli.ts';
import { KILN_FIRSTBOOT } from '../../../firstboot/program.ts';
import { repoRoot } from '../../helpers/build.ts';

const work = mkdtempSync(path.join(os.tmpdir(), 'kiln-hostile-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const SPEC = readFileSync(path.join(repoRoot, 'images/debian-bookworm.yaml'), 'utf8').replace(/^\$schema: .*\n/m, '');
const CLUSTER = readFileSync(path.join(repoRoot, 'images/examples/cluster-lab.yaml'), 'utf8').replace(/^\$schema: .*\n/m, '');
/** Ten anchors, each a list of ten aliases of the one before: 10^10 values if expanded. */
const LAUGHS = [
  'l0: &l0 [x, x, x, x, x, x, x, x, x, x]',
  ...Array.from({ length: 9 }, (_, i) => `l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(', ')}]`),
].join('\n');
const NODE = `role: worker
cluster: {name: lab, kubernetesVersion: v1.31.2, controlPlaneEndpoint: "192.168.10.10:6443"}
node: {name: w1, advertiseAddress: 192.168.10.21}
join: {token: k1lnzz.4f2a9c7e1b3d5f60, caCertHashes: ["sha256:2f7bd3d1b0f2e6a2a1c0c9e8d7f6a5b4c3d2e1f00f1e2d3c4b5a697887960a1b"]}
`;

/** A cluster.json as kiln cluster gen writes it (one init node). */
const SUMMARY = {
  name: 'lab',
  controlPlaneEndpoint: '10.0.2.100:6443',
  vms: { memoryMiB: 2048, cpus: 2, start: 'parallel' },
  nodes: [
    {
      name: 'cp-1',
      role: 'init',
      advertiseAddress: '10.0.2.11',
      interfaces: [{ name: 'lan0', addresses: ['10.0.2.11/24'] }],
      cidata: 'nodes/cp-1/cidata.iso',
      ignition: 'nodes/cp-1/ignition.json',
    },
  ],
};

interface Case {
  program: Program;
  /** `$D` is the case's directory. */
  argv: string[];
  setup?: (d: string) => void;
  /** What stderr must say (besides a hint). */
  says: RegExp;
  secrets?: string[];
}

const write = (file: string, text: string) => (d: string) => writeFileSync(path.join(d, file), text);
/** An Ignition config at $D/c.ign: the spec version and the sections given. */
const ignition = (sections: object) => write('c.ign', JSON.stringify({ ignition: { version: '3.5.0' }, ...sections }));
const CASES: Record<string, Case> = {
  'kiln validate: a billion laughs': {
    program: KILN,
    argv: ['validate', '$D/s.yaml'],
    setup: write('s.yaml', `${SPEC}\n${LAUGHS}\n`),
    says: /s\.yaml:\d+:\d+: YAML: the aliases expand to more than/,
  },
  'kiln validate: an undefined alias': {
    program: KILN,
    argv: ['validate', '$D/s.yaml'],
    setup: write('s.yaml', SPEC.replace(/^name: .*$/m, 'name: *nope')),
    says: /s\.yaml:\d+:\d+: YAML: an alias/,
  },
  'kiln validate: 5000-deep nesting': {
    program: KILN,
    argv: ['validate', '$D/s.yaml'],
    setup: write('s.yaml', `x: ${'['.repeat(5000)}${']'.repeat(5000)}\n`),
    says: /s\.yaml:1:\d+: YAML: nested/,
  },
  'kiln validate: a syntax error next to a password': {
    program: KILN,
    argv: ['validate', '$D/s.yaml'],
    setup: write('s.yaml', `${SPEC}\nnotes: |Zq81-Hunter2\n`),
    says: /s\.yaml:\d+:\d+: YAML syntax/,
    secrets: ['Zq81-Hunter2'],
  },
  'kiln validate: a mirror URL with credentials that does not parse': {
    program: KILN,
    argv: ['validate', '$D/s.yaml'],
    setup: write('s.yaml', SPEC.replace(/^base:\n/m, 'base:\n  mirror: "http://admin:Zq81-pw@[::1/debian"\n')),
    says: /s\.yaml:\d+:\d+: \/base\/mirror/,
    secrets: ['Zq81-pw', 'admin:'],
  },
  'kiln validate: /dev/zero behind a symlink': {
    program: KILN,
    argv: ['validate', '$D/s.yaml'],
    setup: (d) => symlinkSync('/dev/zero', path.join(d, 's.yaml')),
    says: /s\.yaml: cannot read the image spec: it is not a regular file/,
  },
  'kiln validate: a FIFO': {
    program: KILN,
    argv: ['validate', '$D/s.yaml'],
    setup: (d) => execFileSync('mkfifo', [path.join(d, 's.yaml')]),
    says: /not a regular file/,
  },
  'kiln validate: a symlink loop': {
    program: KILN,
    argv: ['validate', '$D/a.yaml'],
    setup: (d) => {
      symlinkSync('b.yaml', path.join(d, 'a.yaml'));
      symlinkSync('a.yaml', path.join(d, 'b.yaml'));
    },
    says: /a\.yaml: cannot read the image spec: it cannot be opened \(ELOOP\)/,
  },
  'kiln validate: an overlay directory that is missing': {
    program: KILN,
    argv: ['validate', '$D/s.yaml'],
    setup: write('s.yaml', `${SPEC}\noverlays:\n  - path: ./gone\n`),
    says: /s\.yaml:\d+:\d+: \/overlays\/0\/path: overlay directory .*gone does not exist/,
  },
  'kiln validate: an overlay that is a file': {
    program: KILN,
    argv: ['validate', '$D/s.yaml'],
    setup: (d) => {
      writeFileSync(path.join(d, 'layer'), 'not a directory');
      writeFileSync(path.join(d, 's.yaml'), `${SPEC}\noverlays:\n  - path: ./layer\n`);
    },
    says: /\/overlays\/0\/path: overlay directory .*layer is not a directory/,
  },
  'kiln build: --out under /proc': {
    program: KILN,
    argv: ['build', path.join(repoRoot, 'images/debian-bookworm.yaml'), '--out', '/proc/kiln-hostile'],
    says: /\/proc\/kiln-hostile is in a kernel-provided file system/,
  },
  'kiln cluster gen: --out under /proc (it used to hang)': {
    program: KILN,
    argv: ['cluster', 'gen', '$D/c.yaml', '--out', '/proc/kiln-hostile'],
    setup: write('c.yaml', CLUSTER),
    says: /\/proc\/kiln-hostile is in a kernel-provided file system/,
  },
  'kiln cluster gen: a billion laughs': {
    program: KILN,
    argv: ['cluster', 'gen', '$D/c.yaml', '--out', '$D/out'],
    setup: write('c.yaml', `${CLUSTER}\n${LAUGHS}\n`),
    says: /c\.yaml:\d+:\d+: YAML: the aliases/,
  },
  'kiln cluster status: a node name that climbs out of DIR': {
    program: KILN,
    argv: ['cluster', 'status', '$D'],
    setup: (d) => {
      const nodes = [{ ...SUMMARY.nodes[0], name: '../../x', cidata: 'nodes/../../x/cidata.iso', ignition: 'nodes/../../x/ignition.json' }];
      writeFileSync(path.join(d, 'cluster.json'), JSON.stringify({ ...SUMMARY, nodes }));
    },
    says: /cluster\.json: \/nodes\/0\/name/,
  },
  'kiln cluster up: a corrupt run/state.json': {
    program: KILN,
    argv: ['cluster', 'up', '$D', '--image', '$D/node.qcow2'],
    setup: (d) => {
      writeFileSync(path.join(d, 'cluster.json'), JSON.stringify(SUMMARY));
      mkdirSync(path.join(d, 'run'));
      writeFileSync(path.join(d, 'run/state.json'), '{"image": 7, "seed": "pxe"');
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', path.join(d, 'node.qcow2'), '16M']);
    },
    says: /run\/state\.json:1:\d+: JSON syntax error/,
  },
  'kiln cluster libvirt: a corrupt cluster.json': {
    program: KILN,
    argv: ['cluster', 'libvirt', '$D', '--image', '$D/x.qcow2'],
    setup: write('cluster.json', '{"name": "lab", "nodes": [{'),
    says: /cluster\.json:1:\d+: JSON syntax error/,
  },
  'kiln-firstboot validate: a URL with credentials that does not parse': {
    program: KILN_FIRSTBOOT,
    argv: ['validate', '$D/c.ign', '--offline'],
    setup: ignition({ storage: { files: [{ path: '/etc/a', contents: { source: 'http://admin:Zq81-pw@[::1/x' } }] } }),
    says: /c\.ign: \/storage\/files\/0\/contents\/source: "http:\/\/…" is not a valid URL/,
    secrets: ['Zq81-pw', 'admin:'],
  },
  'kiln-firstboot validate: a password hash given as a list': {
    program: KILN_FIRSTBOOT,
    argv: ['validate', '$D/c.ign', '--offline'],
    setup: ignition({ passwd: { users: [{ name: 'ops', passwordHash: ['$6$Rk2saltsalt$Q7hashhashhash'] }] } }),
    says: /\/passwd\/users\/0\/passwordHash: \(value not shown: secret\)/,
    secrets: ['Q7hashhashhash'],
  },
  'kiln-firstboot validate: a user-data that is a directory': {
    program: KILN_FIRSTBOOT,
    argv: ['validate', '$D/seed'],
    setup: (d) => {
      mkdirSync(path.join(d, 'seed/user-data'), { recursive: true });
      writeFileSync(path.join(d, 'seed/meta-data'), 'instance-id: i-1\n');
    },
    says: /user-data/,
  },
  'kiln-firstboot validate: a user-data that is /dev/zero behind a symlink': {
    program: KILN_FIRSTBOOT,
    argv: ['validate', '$D/seed'],
    setup: (d) => {
      mkdirSync(path.join(d, 'seed'));
      writeFileSync(path.join(d, 'seed/meta-data'), 'instance-id: i-1\n');
      symlinkSync('/dev/zero', path.join(d, 'seed/user-data'));
    },
    says: /user-data: cannot read metadata file: it is not a regular file/,
  },
  'kiln-firstboot validate: a seed without meta-data': {
    program: KILN_FIRSTBOOT,
    argv: ['validate', '$D/seed'],
    setup: (d) => {
      mkdirSync(path.join(d, 'seed'));
      writeFileSync(path.join(d, 'seed/user-data'), '#cloud-config\nhostname: a\n');
    },
    says: /no meta-data file/,
  },
  'kiln-firstboot plan: a billion laughs in node.yaml': {
    program: KILN_FIRSTBOOT,
    argv: ['plan', '--config', '$D/node.yaml'],
    setup: write('node.yaml', `${NODE}${LAUGHS}\n`),
    says: /node\.yaml:\d+:\d+: YAML: the aliases/,
    secrets: ['4f2a9c7e1b3d5f60'],
  },
  'kiln-firstboot plan: a syntax error after the token': {
    program: KILN_FIRSTBOOT,
    argv: ['plan', '--config', '$D/node.yaml'],
    setup: write('node.yaml', `${NODE}x: [unclosed\n`),
    says: /node\.yaml:\d+:\d+: YAML syntax/,
    secrets: ['4f2a9c7e1b3d5f60'],
  },
  'kiln-firstboot plan: --render onto an existing file': {
    program: KILN_FIRSTBOOT,
    argv: ['plan', '--config', '$D/node.yaml', '--render', '$D/node.yaml'],
    setup: write('node.yaml', NODE),
    says: /--render: .*node\.yaml exists and is not a directory/,
    secrets: ['4f2a9c7e1b3d5f60'],
  },
};

/** Every entry under dir with its size and mode: what "nothing written" compares. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      const st = e.isSymbolicLink() || e.isFIFO() ? undefined : statSync(path.join(dir, r));
      out.push(`${r} ${st?.size ?? '-'} ${st ? (st.mode & 0o7777).toString(8) : e.isFIFO() ? 'fifo' : 'link'}`);
      if (e.isDirectory()) walk(r);
    }
  };
  walk('');
  return out.sort();
}

async function run(program: Program, argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const capture = (chunk: unknown) => ((out += String(chunk)), true);
  const o = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const e = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    return { code: await runProgram(program, argv), out };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('hostile input through the real command lines', () => {
  it.each(Object.entries(CASES))('%s', async (_name, c) => {
    const d = mkdtempSync(path.join(work, 'case-'));
    c.setup?.(d);
    const before = snapshot(d);
    const t0 = Date.now();
    const { code, out } = await run(
      c.program,
      c.argv.map((a) => a.replaceAll('$D', d)),
    );
    expect(Date.now() - t0, out).toBeLessThan(5000);
    expect(code, out).toBe(2);
    expect(out).toMatch(c.says);
    expect(out).toMatch(/hint: /);
    expect(out).not.toMatch(/internal error|\n\s+at .*:\d+:\d+/);
    for (const secret of c.secrets ?? []) expect(out).not.toContain(secret);
    expect(snapshot(d)).toEqual(before);
  });
});
