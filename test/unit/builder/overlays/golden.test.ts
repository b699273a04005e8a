// Template rendering against golden files: UPDATE_GOLDEN=1 npx vitest run test/unit/builder/overlays rewrites them.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { overlayOps, OVERLAYS } from '../../../../builder/overlays/registry.ts';
import type { BaseView } from '../../../../builder/overlays/types.ts';
import { parseSpec } from '../../../../builder/spec/load.ts';
import { renderTemplate } from '../../../../builder/overlays/render.ts';

const root = path.resolve(import.meta.dirname, '../../../..');
const goldenDir = path.join(root, 'test/fixtures/golden');
const defaultText = readFileSync(path.join(root, 'images/debian-bookworm.yaml'), 'utf8');

const variants: Record<string, string> = {
  'debian-bookworm': defaultText,
  docker: (() => {
    const doc = YAML.parse(defaultText);
    doc.name = 'docker-node';
    doc.runtime = { engine: 'docker', docker: { metricsAddress: '127.0.0.1:9323' } };
    doc.node.journald = { storage: 'persistent', systemMaxUse: '4G', compress: true };
    doc.node.sysctls = { 'vm.max_map_count': 262144, 'kernel.panic': null };
    return YAML.stringify(doc);
  })(),
};

const fakeBase: BaseView = {
  has: () => false,
  list: (dir) => (dir === 'usr/lib/cni' ? ['usr/lib/cni/bridge', 'usr/lib/cni/loopback'] : []),
  readText: async () => '',
};

async function render(name: string) {
  const spec = parseSpec(variants[name]!, `${name}.yaml`);
  const overlays = await overlayOps({ spec, base: fakeBase });
  // Rendered file contents, one golden file each; the whole tree (types, modes, links) in tree.txt.
  const files = new Map<string, string>();
  const tree: string[] = [];
  for (const { name: overlay, ops } of overlays) {
    for (const glob of ops.remove) tree.push(`${overlay}: remove ${glob}`);
    for (const op of ops.files) {
      tree.push(
        `${overlay}: ${op.type} ${op.mode.toString(8)} ${op.path}${op.target ? ` -> ${op.target}` : ''}${op.group !== undefined ? ` group=${op.group}` : ''}`,
      );
      if (op.type === 'file') files.set(`files/${op.path}`, op.data!.toString('utf8'));
    }
  }
  files.set('tree.txt', `${tree.join('\n')}\n`);
  return { files, removed: overlays.flatMap((o) => o.ops.remove) };
}

function listGolden(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listGolden(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

describe.each(Object.keys(variants))('overlays rendered for %s', (name) => {
  it('match the golden files', async () => {
    const { files } = await render(name);
    const dir = path.join(goldenDir, name);
    if (process.env.UPDATE_GOLDEN) {
      rmSync(dir, { recursive: true, force: true });
      for (const [p, text] of files) {
        mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
        writeFileSync(path.join(dir, p), text);
      }
    }
    expect(listGolden(dir).sort()).toEqual([...files.keys()].sort());
    for (const [p, text] of files) expect(text, p).toBe(readFileSync(path.join(dir, p), 'utf8'));
  });
});

describe('overlay contents', () => {
  it('docker only when the engine is docker, with no TCP listener', async () => {
    const plain = await render('debian-bookworm');
    expect([...plain.files.keys()].some((p) => p.startsWith('files/etc/docker'))).toBe(false);
    const docker = await render('docker');
    const daemon = JSON.parse(docker.files.get('files/etc/docker/daemon.json')!);
    expect(daemon).toMatchObject({
      'exec-opts': ['native.cgroupdriver=systemd'],
      'cgroup-parent': 'container.slice',
      'log-driver': 'journald',
      'storage-driver': 'overlay2',
      'metrics-addr': '127.0.0.1:9323',
      hosts: ['fd://'],
    });
    expect(JSON.stringify(daemon)).not.toMatch(/tcp:/);
  });

  it('uses cgroup v2 directives only, never MemoryLimit=', async () => {
    const { files } = await render('debian-bookworm');
    const slices = [...files]
      .filter(([p]) => /\.slice$|slice\.d\//.test(p))
      .map(([, t]) => t)
      .join('\n');
    expect(slices).toMatch(/MemoryMax=90%/);
    expect(slices).toMatch(/CPUWeight=200/);
    expect(slices).not.toMatch(/MemoryLimit|CPUShares/);
  });

  it('identity: no SSH host keys, empty machine-id, no build-host hostname', async () => {
    const { files, removed } = await render('debian-bookworm');
    expect(removed).toContain('etc/ssh/ssh_host_*');
    expect(files.get('files/etc/machine-id')).toBe('');
    expect(files.get('tree.txt')).toContain('identity: file 444 etc/machine-id');
    expect(files.get('files/etc/hostname')).toBe('localhost\n');
  });

  it('every built-in overlay is named and explained', () => {
    expect(OVERLAYS.map((o) => o.name)).toEqual([
      'identity',
      'node-tuning',
      'network',
      'disk-grow',
      'containerd',
      'binaries',
      'images',
      'addons',
      'kubelet',
      'firstboot',
      'docker',
      'update-keys',
    ]);
    for (const o of OVERLAYS) expect(o.why.length).toBeGreaterThan(20);
  });

  it('binaries: only with a kubernetes source or extra tools; each verified blob placed 0755 at its path, streamed from the cache', async () => {
    const plain = parseSpec(defaultText, 'spec.yaml');
    expect((await overlayOps({ spec: plain, base: fakeBase })).map((o) => o.name)).not.toContain('binaries');
    const doc = YAML.parse(defaultText);
    doc.kubernetes.source = { release: 'https://dl.k8s.io/release' };
    const spec = parseSpec(YAML.stringify(doc), 'spec.yaml');
    const binaries = [
      { path: '/usr/bin/kubeadm', blob: '/cache/blobs/sha256/aa', sha256: 'aa', size: 10, origin: 'u' },
      { path: '/usr/local/bin/helm', blob: '/cache/blobs/sha256/bb', sha256: 'bb', size: 20, origin: 'v' },
    ];
    const ops = (await overlayOps({ spec, base: fakeBase, binaries })).find((o) => o.name === 'binaries')!.ops;
    expect(ops.files).toEqual([
      { overlay: 'binaries', type: 'file', path: 'usr/bin/kubeadm', mode: 0o755, source: { file: '/cache/blobs/sha256/aa', size: 10 } },
      { overlay: 'binaries', type: 'file', path: 'usr/local/bin/helm', mode: 0o755, source: { file: '/cache/blobs/sha256/bb', size: 20 } },
    ]);
  });

  it('templates are strict: a missing value is an error naming the template', () => {
    expect(() => renderTemplate('x = {{spec.nope.deeper}}', { spec: {} }, 'overlays/x.hbs')).toThrow(/cannot render template/);
    expect(() => renderTemplate('{{image.name}}', { image: { name: "a'b<c>" } }, 'y.hbs')).not.toThrow();
    expect(renderTemplate('{{image.name}}', { image: { name: "a'b<c>" } }, 'y.hbs')).toBe("a'b<c>");
  });
});
