// The etcd snapshot timer the role plan installs on control planes, checked by systemd's own tools
// and the shell: the schedule parses, the units verify, the script is valid sh and keeps N files.
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import type { NodeConfig } from '../../../node/config/schema.ts';
import { renderEtcdSnapshots } from '../../../firstboot/role/etcd.ts';
import { repoRoot, tempDir } from '../../helpers/build.ts';

const config = YAML.parse(
  readFileSync(path.join(repoRoot, 'test/fixtures/firstboot/role/configs/control-plane.yaml'), 'utf8'),
) as NodeConfig;
const dir = tempDir('kiln-etcd-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('etcd snapshots', () => {
  const files = renderEtcdSnapshots({ ...config, etcdSnapshots: { schedule: '*-*-* 00/6:00:00', retention: 3 } });
  const file = (suffix: string) => files.find((f) => f.path.endsWith(suffix))!;

  it('schedules with a calendar expression systemd accepts', async () => {
    const timer = file('.timer').contents;
    const schedule = /^OnCalendar=(.+)$/m.exec(timer)![1]!;
    expect((await execa('systemd-analyze', ['calendar', schedule])).stdout).toMatch(/Normalized form: \*-\*-\* 00\/6:00:00/);
  });

  it('installs units systemd-analyze verify accepts', async () => {
    for (const f of files) {
      const target = path.join(dir, path.basename(f.path));
      writeFileSync(target, f.contents);
      chmodSync(target, f.mode);
    }
    // verify resolves ExecStart: point it at the rendered script
    const service = path.join(dir, 'kiln-etcd-snapshot.service');
    writeFileSync(service, readFileSync(service, 'utf8').replace('/usr/local/lib/kiln/etcd-snapshot', path.join(dir, 'etcd-snapshot')));
    const r = await execa('systemd-analyze', ['verify', service, path.join(dir, 'kiln-etcd-snapshot.timer')], { reject: false, all: true });
    expect(r.exitCode, r.all).toBe(0);
  });

  it('snapshots through crictl and keeps only the newest N', async () => {
    const script = file('etcd-snapshot').contents;
    await execa('sh', ['-n'], { input: script });
    // a root with crictl answering as the etcd pod would: the snapshot appears in /var/lib/etcd
    const root = path.join(dir, 'root');
    const bin = path.join(root, 'bin');
    mkdirSync(bin, { recursive: true });
    mkdirSync(path.join(root, 'var/lib/etcd'), { recursive: true });
    writeFileSync(
      path.join(bin, 'crictl'),
      `#!/bin/sh\ncase "$1" in ps) echo 0123abcd ;; exec) for a; do last=$a; done; echo snap > "$last" ;; esac\n`,
      { mode: 0o755 },
    );
    const local = script
      .replaceAll('/var/lib/kiln/etcd-snapshots', path.join(root, 'snapshots'))
      .replaceAll('"/var/lib/etcd/', `"${root}/var/lib/etcd/`);
    const snapshots = path.join(root, 'snapshots');
    mkdirSync(snapshots, { recursive: true });
    for (const old of ['20250101T000000Z', '20250102T000000Z', '20250103T000000Z'])
      writeFileSync(path.join(snapshots, `snapshot-${old}.db`), 'old');
    // older mtimes for the old ones: ls -t orders by time
    await execa('touch', ['-d', '2025-01-01', ...readdirSync(snapshots).map((f) => path.join(snapshots, f))]);
    await execa('sh', ['-c', local], { env: { PATH: `${bin}:${process.env.PATH}` } });
    const kept = readdirSync(snapshots).sort();
    expect(kept).toHaveLength(3);
    expect(kept.filter((f) => !f.startsWith('snapshot-2025'))).toHaveLength(1); // the new one survived
  });
});
