// The stand-ins built for test images: buildStandinsOverlay makes one single executable (like
// dist/kiln) with kubeadm, helm and kubectl symlinks to it. Run through its symlinks with no node
// on PATH and no repository in reach, it must behave exactly like the source run with tsx.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { lstatSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/build.ts';
import { buildStandinsOverlay, standinsExecutable } from '../standins/build.ts';
import type { StandinRecord } from '../standins/record.ts';
import { MAIN, NodeRoot, TOKEN, initConfig } from '../standins/testing.ts';

let overlay: string;
let bin: string;
const roots: NodeRoot[] = [];

beforeAll(async () => {
  overlay = tempDir('kiln-standins-overlay-');
  const started = Date.now();
  await buildStandinsOverlay(overlay);
  console.log(`standins overlay: ${((Date.now() - started) / 1000).toFixed(1)}s`);
  bin = path.join(overlay, 'usr/local/bin');
});

afterAll(() => {
  if (overlay) rmSync(overlay, { recursive: true, force: true });
  for (const r of roots) r.cleanup();
});

function root(): NodeRoot {
  const r = new NodeRoot();
  roots.push(r);
  return r;
}

/** The executable through a symlink, with nothing but the root in the environment and no node on PATH. */
function exe(r: NodeRoot, tool: string, args: string[], opts: { viaPath?: boolean } = {}): SpawnSyncReturns<string> {
  const env = { PATH: opts.viaPath ? bin : '/nonexistent', KILN_STANDIN_ROOT: r.dir, HOME: r.dir };
  return spawnSync(opts.viaPath ? tool : path.join(bin, tool), args, { cwd: r.dir, encoding: 'utf8', env, timeout: 60_000 });
}

const comparable = (records: StandinRecord[]) => records.map(({ time: _time, ...rest }) => rest);

describe('the stand-in overlay', () => {
  it('holds one executable, three symlinks to it and a TEST ONLY README', () => {
    const main = path.join(bin, 'kiln-test-standins');
    expect(statSync(main).mode & 0o777).toBe(0o755);
    for (const tool of ['kubeadm', 'helm', 'kubectl']) {
      expect(lstatSync(path.join(bin, tool)).isSymbolicLink()).toBe(true);
      expect(readlinkSync(path.join(bin, tool))).toBe('kiln-test-standins');
    }
    expect(readFileSync(path.join(overlay, 'README'), 'utf8')).toMatch(/^TEST ONLY/);
  });

  it('is cached by its sources: a second overlay reuses the executable', async () => {
    const first = await standinsExecutable();
    const started = Date.now();
    const again = tempDir('kiln-standins-overlay-');
    try {
      await buildStandinsOverlay(again);
      expect(await standinsExecutable()).toBe(first);
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(readFileSync(path.join(again, 'usr/local/bin/kiln-test-standins')).equals(readFileSync(first))).toBe(true);
    } finally {
      rmSync(again, { recursive: true, force: true });
    }
  });
});

describe('the executable behaves like the source', () => {
  it('answers version calls through each symlink and by PATH lookup', () => {
    const r = root();
    const cases: Array<[string, string[]]> = [
      ['kubeadm', ['version', '-o', 'short']],
      ['kubeadm', ['--version']],
      ['helm', ['version', '--short']],
      ['kubectl', ['version', '--client', '-o', 'json']],
    ];
    for (const [tool, args] of cases) {
      const built = exe(r, tool, args);
      const source = r.tsx(MAIN, [tool, ...args]);
      expect({ status: built.status, stdout: built.stdout, stderr: built.stderr }, `${tool} ${args.join(' ')}`).toEqual({
        status: source.status,
        stdout: source.stdout,
        stderr: source.stderr,
      });
    }
    expect(exe(r, 'kubeadm', ['version', '-o', 'short'], { viaPath: true }).stdout).toBe('v1.31.4\n');
    const program = spawnSync(path.join(bin, 'kiln-test-standins'), ['--version'], { encoding: 'utf8', env: { PATH: '/nonexistent' } });
    expect(program.stdout).toMatch(/^kiln-test-standins \d+\.\d+\.\d+\n$/);
    const records = r.records();
    expect(records.filter((x) => x.tool === 'kubeadm' && x.args[0] === '--version').map((x) => x.exitCode)).toEqual([1, 1]);
  });

  it('runs kubeadm init with the same output, files and records as the tsx form', () => {
    const built = root();
    const source = root();
    for (const r of [built, source]) r.yaml('/etc/kiln/kubeadm.yaml', ...initConfig());
    const args = ['init', '--config', '/etc/kiln/kubeadm.yaml', '--skip-token-print'];
    const a = exe(built, 'kubeadm', args);
    const b = source.tsx(MAIN, ['kubeadm', ...args]);
    expect(a.status, a.stderr).toBe(0);
    expect({ status: a.status, stdout: a.stdout, stderr: a.stderr }).toEqual({ status: b.status, stdout: b.stdout, stderr: b.stderr });
    expect(a.stdout).not.toContain(TOKEN);
    expect(comparable(built.records())).toEqual(comparable(source.records()));
    for (const file of ['/etc/kubernetes/admin.conf', '/etc/kubernetes/manifests/kube-apiserver.yaml', '/var/lib/kubelet/config.yaml']) {
      expect(built.read(file)).toBe(source.read(file));
      expect(built.mode(file)).toBe(source.mode(file));
    }
    // and a second init is refused the same way
    const again = exe(built, 'kubeadm', args);
    const againSource = source.tsx(MAIN, ['kubeadm', ...args]);
    expect(again.status).toBe(1);
    expect(again.stderr).toBe(againSource.stderr);
    expect(again.stderr).toContain('[ERROR FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml]');
  });
});
