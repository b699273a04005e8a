// The docker option: docker.io on top of containerd, checked by the image's own dockerd and systemd.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kilnBuild, tempDir } from '../helpers/build.ts';

const work = tempDir('kiln-docker-it-');
const root = path.join(work, 'root');
const spec = path.join(work, 'docker.yaml');

beforeAll(async () => {
  writeFileSync(
    spec,
    [
      'apiVersion: kiln.dev/v1alpha1',
      'kind: Image',
      'name: docker-node',
      'sourceDateEpoch: 1747699200',
      'base: { distro: debian, suite: bookworm, arch: amd64 }',
      'runtime: { engine: docker }',
      'kubernetes: { version: v1.31.4, components: [kubeadm, kubelet, kubectl] }',
      'outputs: [ { format: tar } ]',
      '',
    ].join('\n'),
  );
  await kilnBuild(spec, path.join(work, 'out'));
  mkdirSync(root);
  execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-xpf', path.join(work, 'out/rootfs.tar'), '-C', root]);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Starts the image's dockerd in throw-away namespaces (no network reaches the host) far enough to read its config. */
function dockerdReadsConfig(): string {
  const r = spawnSync(
    'unshare',
    [
      '--net',
      '--mount',
      '--pid',
      '--fork',
      `--mount-proc=${path.join(root, 'proc')}`,
      'chroot',
      root,
      'timeout',
      '20',
      'dockerd',
      '--config-file',
      '/etc/docker/daemon.json',
      '--data-root',
      '/tmp/docker-data',
      '--exec-root',
      '/tmp/docker-exec',
      '--pidfile',
      '/tmp/docker.pid',
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  return r.stdout + r.stderr;
}

describe('engine: docker', () => {
  it("the image's dockerd accepts daemon.json and takes its listener from systemd socket activation only", () => {
    const log = dockerdReadsConfig();
    expect(log).not.toMatch(/unable to configure the Docker daemon/);
    // hosts: ["fd://"] was read: outside systemd there is no activated socket, and no TCP listener was tried
    expect(log).toMatch(/no sockets found via socket activation/);
    const daemon = JSON.parse(readFileSync(path.join(root, 'etc/docker/daemon.json'), 'utf8'));
    expect(daemon).toMatchObject({
      'exec-opts': ['native.cgroupdriver=systemd'],
      'cgroup-parent': 'container.slice',
      'log-driver': 'journald',
      'log-opts': { tag: '{{.Name}}/{{.ID}}' },
      'storage-driver': 'overlay2',
      'metrics-addr': '127.0.0.1:9323',
    });
  });

  it('dockerd rejects an unknown daemon.json key (the check is real)', () => {
    const file = path.join(root, 'etc/docker/daemon.json');
    const original = readFileSync(file);
    writeFileSync(file, original.toString().replace('"storage-driver"', '"storage-drivr"'));
    const log = dockerdReadsConfig();
    writeFileSync(file, original);
    expect(log).toMatch(/don't match any configuration option: storage-drivr/);
  });

  it('systemd-analyze verifies docker.service with the kiln drop-in, which puts it in kubesvc.slice', () => {
    const r = spawnSync(
      'systemd-analyze',
      ['verify', `--root=${root}`, '/usr/lib/systemd/system/docker.service', '/usr/lib/systemd/system/docker.socket'],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const delta = execFileSync('chroot', [root, 'systemd-delta', '--type=extended', '--no-pager'], { encoding: 'utf8' });
    expect(delta).toContain('/usr/lib/systemd/system/docker.service → /etc/systemd/system/docker.service.d/10-kiln.conf');
    const dropin = readFileSync(path.join(root, 'etc/systemd/system/docker.service.d/10-kiln.conf'), 'utf8');
    expect(dropin).toMatch(/^Slice=kubesvc\.slice$/m);
    const execStart = dropin
      .split('\n')
      .filter((l) => l.startsWith('ExecStart='))
      .join('\n');
    expect(execStart).toMatch(/^ExecStart=\/usr\/sbin\/dockerd --containerd=/m);
    expect(execStart).not.toMatch(/ -H |tcp:/);
  });
});
