import { describe, expect, it } from 'vitest';
import { composeRootfs } from '../../../../builder/rootfs/compose.ts';
import type { FileOp, OverlayOps } from '../../../../builder/overlays/types.ts';
import type { IndexedEntry } from '../../../../builder/tar/read.ts';
import { parseDpkgStatus } from '../../../../builder/rootfs/mmdebstrap.ts';

const SDE = 2000;
const dir = (name: string, extra: Partial<IndexedEntry> = {}): IndexedEntry => ({
  name,
  type: 'directory',
  mode: 0o755,
  uid: 0,
  gid: 0,
  size: 0,
  mtime: 1000,
  offset: 0,
  ...extra,
});
const file = (name: string, offset: number, size = 3, extra: Partial<IndexedEntry> = {}): IndexedEntry => ({
  name,
  type: 'file',
  mode: 0o644,
  uid: 0,
  gid: 0,
  size,
  mtime: 1000,
  offset,
  ...extra,
});

// mmdebstrap's own order: /dev first, then the rest — not globally sorted
const base: IndexedEntry[] = [
  dir('dev'),
  dir(''),
  dir('etc'),
  file('etc/ssh_host_rsa_key', 512),
  dir('etc/ssh'),
  file('etc/ssh/ssh_host_ed25519_key', 1024),
  file('etc/ssh/sshd_config', 1536),
  { name: 'lib', type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, mtime: 1000, offset: 0, linkname: 'usr/lib' },
  dir('usr'),
  dir('usr/bin'),
  // a hard link that sorts before the file it links to
  { name: 'usr/bin/perl5.36', type: 'link', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 1000, offset: 0, linkname: 'usr/bin/perlx' },
  file('usr/bin/perlx', 2048, 100, { mode: 0o755, mtime: 99999 }),
  dir('usr/lib'),
];

const ops = (files: FileOp[], remove: string[] = []): Array<{ name: string; ops: OverlayOps }> => [{ name: 't', ops: { files, remove } }];
const compose = (overlays: Array<{ name: string; ops: OverlayOps }>) =>
  composeRootfs({ baseTar: '/base.tar', base, overlays, sourceDateEpoch: SDE, groupFile: 'root:x:0:\nsystemd-journal:x:999:\n' });

describe('composeRootfs', () => {
  it('sorts into archive order, clamps mtimes and makes the first hard-link member carry the data', () => {
    const out = compose([]);
    expect(out.map((e) => e.name)).toEqual([
      '',
      'dev',
      'etc',
      'etc/ssh',
      'etc/ssh/ssh_host_ed25519_key',
      'etc/ssh/sshd_config',
      'etc/ssh_host_rsa_key',
      'lib',
      'usr',
      'usr/bin',
      'usr/bin/perl5.36',
      'usr/bin/perlx',
      'usr/lib',
    ]);
    expect(Math.max(...out.map((e) => e.mtime))).toBe(SDE);
    const perl = out.find((e) => e.name === 'usr/bin/perl5.36')!;
    expect(perl).toMatchObject({ type: 'file', size: 100, mode: 0o755, body: { file: '/base.tar', offset: 2048 } });
    expect(out.find((e) => e.name === 'usr/bin/perlx')).toMatchObject({ type: 'link', linkname: 'usr/bin/perl5.36', size: 0 });
  });

  it('keeps a link group intact when an overlay replaces the file the others linked to', () => {
    const out = compose(ops([{ overlay: 't', type: 'file', path: 'usr/bin/perlx', mode: 0o755, data: Buffer.from('new') }]));
    expect(out.find((e) => e.name === 'usr/bin/perl5.36')).toMatchObject({ type: 'file', size: 100, body: { offset: 2048 } });
    expect(out.find((e) => e.name === 'usr/bin/perlx')).toMatchObject({ type: 'file', size: 3, body: Buffer.from('new') });
  });

  it('removes by glob within one path component only', () => {
    const names = compose(ops([], ['etc/ssh/ssh_host_*'])).map((e) => e.name);
    expect(names).not.toContain('etc/ssh/ssh_host_ed25519_key');
    expect(names).toContain('etc/ssh/sshd_config');
    expect(names).toContain('etc/ssh_host_rsa_key');
  });

  it('creates missing parents, resolves group names, and stamps overlay files with sourceDateEpoch', () => {
    const out = compose(ops([{ overlay: 't', type: 'directory', path: 'var/log/journal', mode: 0o2755, group: 'systemd-journal' }]));
    expect(out.find((e) => e.name === 'var')).toMatchObject({ type: 'directory', mode: 0o755, mtime: SDE });
    expect(out.find((e) => e.name === 'var/log/journal')).toMatchObject({ mode: 0o2755, gid: 999, uid: 0 });
  });

  it('refuses to write through a symlinked parent, naming the overlay and where to write instead', () => {
    expect(() =>
      compose(ops([{ overlay: 'units', type: 'file', path: 'lib/systemd/system/x.service', mode: 0o644, data: Buffer.from('') }])),
    ).toThrow(/overlay units: lib\/systemd\/system\/x.service: parent lib is a symlink/);
  });

  it('refuses unknown groups, paths escaping the root, and files replacing directories', () => {
    expect(() => compose(ops([{ overlay: 't', type: 'directory', path: 'var/x', mode: 0o755, group: 'nope' }]))).toThrow(
      /group "nope" does not exist/,
    );
    expect(() => compose(ops([{ overlay: 't', type: 'file', path: '../etc/passwd', mode: 0o644, data: Buffer.from('') }]))).toThrow(
      /not a relative path/,
    );
    expect(() => compose(ops([{ overlay: 't', type: 'file', path: 'etc/ssh', mode: 0o644, data: Buffer.from('') }]))).toThrow(
      /exists as a directory/,
    );
  });

  it('an overlay directory over an existing one changes its mode but keeps its xattrs', () => {
    const withAcl = [
      ...base.slice(0, 2),
      dir('etc', { xattrs: new Map([['system.posix_acl_default', Buffer.from([2, 0])]]) }),
      ...base.slice(3),
    ];
    const out = composeRootfs({
      baseTar: '/b',
      base: withAcl,
      overlays: ops([{ overlay: 't', type: 'directory', path: 'etc', mode: 0o750 }]),
      sourceDateEpoch: SDE,
      groupFile: '',
    });
    const etc = out.find((e) => e.name === 'etc')!;
    expect(etc.mode).toBe(0o750);
    expect(etc.xattrs?.get('system.posix_acl_default')).toEqual(Buffer.from([2, 0]));
  });
});

describe('parseDpkgStatus', () => {
  it('lists installed packages with versions, skipping removed ones, sorted', () => {
    const status =
      'Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:1.2.13\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\nArchitecture: all\n\nPackage: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b7\nDescription: x\n more\n';
    expect(parseDpkgStatus(status)).toEqual([
      { name: 'bash', version: '5.2.15-2+b7', architecture: 'amd64' },
      { name: 'zlib1g', version: '1:1.2.13', architecture: 'amd64' },
    ]);
  });
});
