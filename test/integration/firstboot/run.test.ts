// A whole firstboot pass against a real (small) node root with the real tools (useradd --prefix,
// systemctl --root, chroot + busybox): what it writes, with which modes and owners, and what a
// second run and a resumed run do.
import { cpSync, lstatSync, mkdirSync, readdirSync as readdir, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { parseNetworkConfig } from '../../../node/formats/network/index.ts';
import { treeHost } from '../../helpers/tree-host.ts';
import { EXIT, runPass } from '../../../firstboot/run.ts';
import { repoRoot, tempDir } from '../../helpers/build.ts';
import { changedPaths, makeNodeRoot, snapshotTree, standinPath } from '../../helpers/firstboot.ts';

const seed = path.join(repoRoot, 'test/fixtures/firstboot/vm/nocloud');
const cleanup: string[] = [];
afterEach(() => {
  for (const d of cleanup.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A host whose cidata volume holds `seedDir`, applying to a fresh node root. */
function hostWithSeed(seedDir: string, cmdline = 'console=ttyS0\n') {
  const fixture = tempDir('kiln-fb-host-');
  const root = makeNodeRoot();
  cleanup.push(fixture, root);
  mkdirSync(path.join(fixture, 'proc'), { recursive: true });
  writeFileSync(path.join(fixture, 'proc/cmdline'), cmdline);
  cpSync(seedDir, path.join(fixture, 'dev/disk/by-label/cidata'), { recursive: true });
  return { host: treeHost(fixture, root), root, fixture };
}

const mode = (p: string) => (lstatSync(p).mode & 0o7777).toString(8);

describe('firstboot run against a node root', () => {
  it('applies the NoCloud seed: hostname, user, files, unit, network, time zone, NTP, commands', async () => {
    const { host, root } = hostWithSeed(seed);
    const lines: string[] = [];
    expect(await runPass({ host, pass: 'early', out: (l) => lines.push(l) }), lines.join('\n')).toBe(EXIT.ok);
    // runcmd's first command is systemctl, which this root (busybox only) lacks: the late pass
    // fails at that step and says so; the VM test runs it for real
    expect(await runPass({ host, pass: 'late', out: (l) => lines.push(l) }), lines.join('\n')).toBe(EXIT.failed);
    expect(lines.join('\n')).toMatch(/runcmd: failed — runcmd\[0\] exited with 127/);
    const r = (p: string) => path.join(root, p);
    expect(readFileSync(r('etc/hostname'), 'utf8')).toBe('kiln-nocloud\n');
    expect(readFileSync(r('etc/hosts'), 'utf8')).toMatch(/^10\.0\.2\.15\tkiln-nocloud\.lab\.internal\tkiln-nocloud$/m); // the node's name resolves to its advertise address
    expect(readFileSync(r('etc/passwd'), 'utf8')).toMatch(/^ops:x:1000:1000:Operations:\/home\/ops:\/bin\/bash$/m);
    expect(readFileSync(r('etc/group'), 'utf8')).toMatch(/^sudo:x:27:ops$/m);
    expect(readFileSync(r('etc/shadow'), 'utf8')).toMatch(/^ops:\$6\$kilntestsalt\$/m);
    expect(mode(r('home/ops/.ssh'))).toBe('700');
    expect(mode(r('home/ops/.ssh/authorized_keys'))).toBe('600');
    expect(statSync(r('home/ops/.ssh/authorized_keys')).uid).toBe(1000);
    expect(mode(r('etc/sudoers.d/90-kiln-ops'))).toBe('440');
    // one bad file in sudoers.d breaks sudo for everyone: sudo's own parser checks it
    const visudo = await execa('visudo', ['-c', '-f', r('etc/sudoers.d/90-kiln-ops')], { reject: false, all: true });
    expect(visudo.exitCode, visudo.all).toBe(0);
    expect(readFileSync(r('etc/kiln-test/greeting'), 'utf8')).toBe('hello from cloud-config');
    expect(mode(r('etc/kiln-test/greeting'))).toBe('640');
    expect(statSync(r('etc/kiln-test/greeting')).gid).toBe(1000);
    expect(readFileSync(r('etc/kiln-test/packed'), 'utf8')).toBe('hello everyone in kiln');
    expect(mode(r('etc/kiln/node.yaml'))).toBe('600');
    expect(readFileSync(r('etc/kiln/node.yaml'), 'utf8')).toMatch(/role: init/);
    // exactly the files the network-config renders to (networkd itself reads them in network.test.ts)
    const rendered = parseNetworkConfig(readFileSync(path.join(seed, 'network-config'), 'utf8'), 'network-config').files;
    expect(readdir(r('etc/systemd/network')).sort()).toEqual([...rendered.map((f) => f.name), '99-kiln-default.network'].sort());
    for (const f of rendered) expect(readFileSync(r(`etc/systemd/network/${f.name}`), 'utf8')).toBe(f.contents);
    expect(readlinkSync(r('etc/systemd/network/99-kiln-default.network'))).toBe('/dev/null');
    expect(readlinkSync(r('etc/localtime'))).toBe('/usr/share/zoneinfo/Europe/Berlin');
    expect(readFileSync(r('etc/chrony/conf.d/50-kiln.conf'), 'utf8')).toMatch(/^server 10\.0\.2\.2 iburst$/m);
    expect(readFileSync(r('etc/chrony/chrony.conf'), 'utf8')).toMatch(/^#kiln: pool 2\.debian/m);
    // bootcmd ran in the early pass, inside the root
    expect(readFileSync(r('var/lib/kiln-test/bootcmd'), 'utf8')).toBe('boot\n');
    const status = JSON.parse(readFileSync(r('run/kiln/status-early.json'), 'utf8'));
    expect(status.state).toBe('done');
    expect(status.steps.map((s: { name: string }) => s.name)).toEqual([
      'hostname',
      'users',
      'files',
      'network',
      'timezone',
      'ntp',
      'bootcmd',
    ]);
    // the join token never reaches the console lines or the status files
    const everything = `${lines.join('\n')}${readFileSync(r('run/kiln/status-early.json'), 'utf8')}${readFileSync(r('run/kiln/status-late.json'), 'utf8')}`;
    expect(everything).not.toContain('k1lnvm.4f2a9c7e1b3d5f60');
  });

  it('applies an Ignition config from fw_cfg: directories, files, links, units (systemctl --root), users', async () => {
    const fixture = tempDir('kiln-fb-ign-');
    const root = makeNodeRoot();
    cleanup.push(fixture, root);
    mkdirSync(path.join(fixture, 'proc'));
    writeFileSync(path.join(fixture, 'proc/cmdline'), 'console=ttyS0\n');
    const blob = path.join(fixture, 'sys/firmware/qemu_fw_cfg/by_name/opt/com.coreos/config');
    mkdirSync(blob, { recursive: true });
    cpSync(path.join(repoRoot, 'test/fixtures/firstboot/vm/ignition.ign'), path.join(blob, 'raw'));
    const host = treeHost(fixture, root);
    const lines: string[] = [];
    expect(await runPass({ host, pass: 'early', out: (l) => lines.push(l) }), lines.join('\n')).toBe(EXIT.ok);
    // the late pass does not re-check Ignition's overwrite:false entries the early pass wrote; the
    // node config is a worker's, so the role plan (a join, with the stand-ins) runs too
    const role = { env: { PATH: await standinPath() }, timing: { retryMs: 50, joinAttempts: 2, waitSeconds: 3 } };
    expect(await runPass({ host, pass: 'late', out: (l) => lines.push(l), role }), lines.join('\n')).toBe(EXIT.ok);
    const r = (p: string) => path.join(root, p);
    expect(readFileSync(r('etc/passwd'), 'utf8')).toMatch(/^ops:x:1000:1000::\/home\/ops:\/bin\/bash$/m);
    expect(readFileSync(r('etc/group'), 'utf8')).toMatch(/^sudo:x:27:ops$/m);
    expect(readFileSync(r('home/ops/.ssh/authorized_keys'), 'utf8')).toMatch(/^ssh-ed25519 \S+ ops@kiln-test\n$/);
    expect(mode(r('etc/kiln-test'))).toBe('755');
    expect(readlinkSync(r('etc/kiln-test/greeting-link'))).toBe('/etc/kiln-test/greeting');
    expect(readFileSync(r('etc/kiln-test/greeting'), 'utf8')).toBe('hello from ignition');
    expect(mode(r('etc/kiln-test/greeting'))).toBe('640');
    expect([statSync(r('etc/kiln-test/greeting')).uid, statSync(r('etc/kiln-test/greeting')).gid]).toEqual([1000, 1000]);
    expect(readlinkSync(r('etc/systemd/system/multi-user.target.wants/kiln-hello.service'))).toBe('/etc/systemd/system/kiln-hello.service');
    expect(readFileSync(r('etc/systemd/system/kiln-hello.service.d/10-env.conf'), 'utf8')).toMatch(/KILN_TEST=1/);
    expect(readlinkSync(r('etc/systemd/system/kiln-unwanted.service'))).toBe('/dev/null');
    expect(readFileSync(r('etc/hostname'), 'utf8')).toBe('kiln-ignition\n');
    expect(mode(r('etc/kiln/node.yaml'))).toBe('600');
    expect(lines.join('\n')).not.toMatch(/k1lnvm\.4f2a9c7e1b3d5f60/);
  });

  it('refuses, before writing anything, an Ignition file that would replace an existing one with overwrite false', async () => {
    const fixture = tempDir('kiln-fb-ign-');
    const root = makeNodeRoot();
    cleanup.push(fixture, root);
    mkdirSync(path.join(fixture, 'proc'));
    writeFileSync(path.join(fixture, 'proc/cmdline'), `kiln.config=/seed.ign\n`);
    writeFileSync(
      path.join(root, 'seed.ign'),
      JSON.stringify({
        ignition: { version: '3.4.0' },
        storage: {
          files: [
            { path: '/etc/kiln-new', contents: { source: 'data:,x' } },
            { path: '/etc/hosts', contents: { source: 'data:,x' } },
          ],
        },
      }),
    );
    const before = snapshotTree(root);
    const lines: string[] = [];
    expect(await runPass({ host: treeHost(fixture, root), pass: 'early', out: (l) => lines.push(l) })).toBe(EXIT.invalid);
    expect(lines.join('\n')).toMatch(/\/etc\/hosts already exists on the node and overwrite is false/);
    expect(changedPaths(before, snapshotTree(root)).filter((p) => !p.startsWith('run'))).toEqual([]);
  });

  it('does not re-provision the same instance, but runs bootcmd every boot', async () => {
    const { host, root } = hostWithSeed(seed);
    await runPass({ host, pass: 'early', out: () => {} });
    const before = snapshotTree(root);
    const lines: string[] = [];
    expect(await runPass({ host, pass: 'early', out: (l) => lines.push(l) }), lines.join('\n')).toBe(EXIT.ok);
    expect(lines.join('\n')).toMatch(/instance kiln-vm-nocloud-1 is already provisioned/);
    expect(changedPaths(before, snapshotTree(root))).toEqual(['run/kiln/status-early.json', 'var/lib/kiln-test/bootcmd']);
  });

  it('writes nothing outside /run/kiln when the metadata is invalid', async () => {
    const bad = tempDir('kiln-fb-bad-');
    cleanup.push(bad);
    cpSync(seed, bad, { recursive: true });
    writeFileSync(
      path.join(bad, 'user-data'),
      readFileSync(path.join(seed, 'user-data'), 'utf8').replace('token: k1lnvm.4f2a9c7e1b3d5f60', 'token: K1LNVM.4f2a9c7e1b3d5f60'),
    );
    const { host, root } = hostWithSeed(bad);
    const before = snapshotTree(root);
    const lines: string[] = [];
    expect(await runPass({ host, pass: 'early', out: (l) => lines.push(l) }), lines.join('\n')).toBe(EXIT.invalid);
    expect(changedPaths(before, snapshotTree(root)).filter((p) => !p.startsWith('run'))).toEqual([]);
    expect(lines.join('\n')).toMatch(/\/kiln\/join\/token/);
    expect(lines.join('\n')).not.toContain('K1LNVM.4f2a9c7e1b3d5f60');
  });

  it('reports "no source" as its own outcome', async () => {
    const fixture = tempDir('kiln-fb-none-');
    const root = makeNodeRoot();
    cleanup.push(fixture, root);
    mkdirSync(path.join(fixture, 'proc'));
    writeFileSync(path.join(fixture, 'proc/cmdline'), 'quiet\n');
    const lines: string[] = [];
    expect(await runPass({ host: treeHost(fixture, root), pass: 'early', out: (l) => lines.push(l) })).toBe(EXIT.noSource);
    expect(JSON.parse(readFileSync(path.join(root, 'run/kiln/status-early.json'), 'utf8')).state).toBe('no-source');
    expect(lines.join('\n')).toMatch(/no metadata source found; looked at: kiln\.config=/);
  });

  it('resumes at the first unfinished step after a crash', async () => {
    const { host, root } = hostWithSeed(seed);
    // a journal as a run killed after the files step leaves it
    const state = path.join(root, 'var/lib/kiln/firstboot.json');
    mkdirSync(path.dirname(state), { recursive: true });
    writeFileSync(state, JSON.stringify({ instanceId: 'kiln-vm-nocloud-1', done: { hostname: 'x', users: 'x', files: 'x' }, passes: {} }));
    const lines: string[] = [];
    expect(await runPass({ host, pass: 'early', out: (l) => lines.push(l) }), lines.join('\n')).toBe(EXIT.ok);
    const text = lines.join('\n');
    expect(text).toMatch(/users: skipped — done before a restart/);
    expect(text).toMatch(/hostname: done/); // hostname runs every boot, as cloud-init's update_hostname
    expect(text).toMatch(/files: skipped — done before a restart/);
    expect(text).toMatch(/network: done/);
    // the skipped steps really did not run again
    expect(() => statSync(path.join(root, 'etc/kiln-test/greeting'))).toThrow();
  });
});
