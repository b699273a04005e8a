// The iso and pxe outputs, built through the CLI and checked with the tools that read them:
// xorriso (El Torito boot images, ISO contents), fdisk (the hybrid MBR a USB stick boots from),
// unsquashfs (the live squashfs), the image's own lsinitramfs (what the live initrd can do).
// Two builds must give the same bytes. Booting them is test/vm's job.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KilnError } from '../../core/errors.ts';
import { sha256File } from '../../core/hash.ts';
import { createDataDisk, DATA_DISK_LABEL, PERSISTENCE_CONF } from '../../builder/outputs/data-disk.ts';
import { indexTar } from '../../builder/tar/read.ts';
import { readBundle } from '../../firstboot/update/bundle.ts';
import { keyId, updatePublicKey } from '../../node/update/manifest.ts';
import { kiln, kilnBuild, repoRoot, tempDir, testCacheDir } from '../helpers/build.ts';

const SDE = 1747699200;
const MiB = 2 ** 20;
const work = tempDir('kiln-live-it-');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const doc = YAML.parse(readFileSync(path.join(repoRoot, 'images/debian-bookworm.yaml'), 'utf8'));
delete doc.$schema;
doc.outputs = [{ format: 'iso' }, { format: 'pxe' }, { format: 'update' }];
// the update output, signed with a pair kiln keygen makes (beforeAll); its public half is baked in
doc.update = { signingKey: 'keys/update.key' };
const spec = path.join(work, 'live.yaml');
writeFileSync(spec, YAML.stringify(doc));

const outA = path.join(work, 'a');
const outB = path.join(work, 'b');
const iso = path.join(outA, 'kiln.iso');
const pxe = path.join(outA, 'pxe');
const PXE_FILES = ['boot.ipxe', 'initrd.img', 'profile.json', 'rootfs.squashfs', 'vmlinuz'];
const run = (cmd: string, args: string[]) =>
  execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * MiB, stdio: ['ignore', 'pipe', 'pipe'] });
const manifest = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));

beforeAll(async () => {
  await kiln(['keygen', '--out', path.join(work, 'keys'), '--name', 'update']);
  for (const out of [outA, outB]) {
    const t0 = Date.now();
    await kilnBuild(spec, out);
    console.log(
      `iso + pxe + update build: ${((Date.now() - t0) / 1000).toFixed(0)} s, kiln.iso ${(statSync(path.join(out, 'kiln.iso')).size / MiB).toFixed(0)} MiB, update.tar ${(statSync(path.join(out, 'update.tar')).size / MiB).toFixed(0)} MiB`,
    );
  }
});

describe('manifest', () => {
  it('lists kiln.iso and every file of the pxe/ bundle with size and sha256', async () => {
    const artifacts = manifest(outA).artifacts as Array<{ format: string; path: string; size: number; sha256: string }>;
    expect(artifacts.map((a) => `${a.format} ${a.path}`)).toEqual([
      'iso kiln.iso',
      ...['vmlinuz', 'initrd.img', 'rootfs.squashfs', 'boot.ipxe', 'profile.json'].map((f) => `pxe pxe/${f}`),
      'update update.tar',
    ]);
    for (const a of artifacts) {
      const file = path.join(outA, a.path);
      expect(a.size).toBe(statSync(file).size);
      expect(a.sha256).toBe(await sha256File(file));
    }
    expect(readdirSync(pxe).sort()).toEqual(PXE_FILES);
    // nothing but the published names (no staging or work leftovers)
    expect(readdirSync(outA).sort()).toEqual(['kiln.iso', 'manifest.json', 'pxe', 'rootfs.tar', 'update.tar']);
  });
});

describe('kiln.iso', () => {
  it('has El Torito boot images for BIOS and UEFI', () => {
    const report = run('xorriso', ['-indev', iso, '-report_el_torito', 'plain']);
    expect(report).toMatch(/El Torito boot img :\s+1\s+BIOS\s+y\s+none/);
    expect(report).toMatch(/El Torito boot img :\s+2\s+UEFI\s+y\s+none/);
    expect(report).toMatch(/El Torito img path :\s+1\s+\/boot\/grub\/bios\.img/);
    expect(report).toMatch(/El Torito img opts :\s+1\s+boot-info-table grub2-boot-info/);
  });

  it('is a hybrid: an MBR with the ISO and an EFI system partition, GRUB boot code for BIOS', () => {
    const fdisk = run('fdisk', ['-l', iso]);
    expect(fdisk).toMatch(/Disklabel type: dos/);
    const parts = fdisk.split('\n').filter((l) => l.startsWith(iso));
    expect(parts).toHaveLength(2);
    expect(parts[0]).toMatch(/^\S+1\s+\*\s+0\s/); // bootable, covers the ISO from sector 0
    expect(parts[1]).toMatch(/\sef\s+EFI \(FAT-12\/16\/32\)$/);
    const system = run('xorriso', ['-indev', iso, '-report_system_area', 'plain']);
    expect(system).toMatch(/System area summary: MBR grub2-mbr/);
    // the EFI partition holds \EFI\BOOT\BOOTX64.EFI
    const start = Number(/^\S+2\s+(\d+)/.exec(parts[1]!)![1]);
    const esp = path.join(work, 'esp.img');
    run('dd', [`if=${iso}`, `of=${esp}`, 'bs=512', `skip=${start}`, 'status=none']);
    expect(run('mdir', ['-b', '-i', esp, '::/EFI/BOOT'])).toMatch(/BOOTX64\.EFI/);
  });

  it('holds kernel, initrd and squashfs where live-boot looks, the pxe/ bytes, and a menu with the live arguments', async () => {
    const listing = run('xorriso', ['-indev', iso, '-find', '/', '-type', 'f']);
    for (const f of ['/live/vmlinuz', '/live/initrd.img', '/live/filesystem.squashfs', '/boot/grub/grub.cfg', '/boot/grub/bios.img'])
      expect(listing).toContain(`'${f}'`);
    const x = path.join(work, 'iso-x');
    mkdirSync(x);
    for (const [from, to] of [
      ['/boot/grub/grub.cfg', 'grub.cfg'],
      ['/live/filesystem.squashfs', 'fs.squashfs'],
      ['/live/vmlinuz', 'vmlinuz'],
    ] as const)
      run('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', from, path.join(x, to)]);
    const cfg = readFileSync(path.join(x, 'grub.cfg'), 'utf8');
    expect(cfg).toContain(
      'linux /live/vmlinuz boot=live components persistence persistence-label=kiln-data persistence-storage=filesystem console=tty0 console=ttyS0,115200n8\n',
    );
    expect(cfg).toContain('terminal_output serial console');
    expect(await sha256File(path.join(x, 'fs.squashfs'))).toBe(await sha256File(path.join(pxe, 'rootfs.squashfs')));
    expect(await sha256File(path.join(x, 'vmlinuz'))).toBe(await sha256File(path.join(pxe, 'vmlinuz')));
  });
});

describe('the live squashfs', () => {
  const squashfs = path.join(pxe, 'rootfs.squashfs');

  it('is zstd, stamped with sourceDateEpoch', () => {
    const info = run('unsquashfs', ['-s', squashfs]);
    expect(info).toMatch(/Compression zstd/);
    expect(info).toMatch(/Creation or last append time Tue May 20 00:00:00 2025/);
    expect(info).toMatch(/Xattrs are compressed/);
  });

  it('holds the rootfs: containerd, numeric root owners, every mtime at sourceDateEpoch', async () => {
    const listing = run('unsquashfs', ['-lln', '-UTC', squashfs]).split('\n');
    expect(listing.find((l) => l.endsWith(' squashfs-root/usr/bin/containerd'))).toMatch(/^-rwxr-xr-x 0\/0 .* 2025-05-20 00:00 /);
    const entries = listing.filter((l) => / squashfs-root/.test(l));
    expect(entries.filter((l) => !/ 2025-05-20 00:00 squashfs-root/.test(l))).toEqual([]);
    // the same paths as rootfs.tar
    const tarNames = (await indexTar(path.join(outA, 'rootfs.tar')))
      .map((e) => e.name.replace(/^\.\//, '').replace(/\/$/, ''))
      .filter(Boolean);
    const sqNames = entries.map((l) => / squashfs-root\/?(.*?)(?: -> .*)?$/.exec(l)![1]!).filter(Boolean);
    expect(sqNames.sort()).toEqual(tarNames.sort());
  });

  it('keeps file capabilities (security.capability of /usr/bin/ping)', async () => {
    const x = path.join(work, 'sq-x');
    run('unsquashfs', ['-q', '-d', x, squashfs, 'usr/bin/ping']);
    // GNU tar records the extracted file's xattrs as SCHILY.xattr pax records; read them back
    const tar = path.join(work, 'ping.tar');
    run('tar', ['--xattrs', '--xattrs-include=*', '-cf', tar, '-C', x, 'usr/bin/ping']);
    const [ping] = await indexTar(tar);
    expect(ping?.xattrs?.get('security.capability')?.toString('hex')).toBe('0100000200200000000000000000000000000000'); // cap_net_raw=ep
  });

  it('boots live: its initrd has live-boot, wget (for fetch=), DHCP and the disk, CD and NIC drivers', () => {
    const root = path.join(work, 'root');
    mkdirSync(root);
    run('tar', ['--numeric-owner', '-xpf', path.join(outA, 'rootfs.tar'), '-C', root]);
    const version = readdirSync(path.join(root, 'boot')).find((f) => f.startsWith('initrd.img-'))!;
    const files = run('chroot', [root, 'lsinitramfs', `/boot/${version}`]).split('\n');
    for (const f of ['scripts/live', 'usr/lib/live/boot/9990-mount-http.sh', 'usr/bin/wget', 'usr/bin/ipconfig', 'usr/sbin/blkid'])
      expect(files, f).toContain(f);
    for (const mod of [
      'fs/squashfs/squashfs.ko',
      'fs/overlayfs/overlay.ko',
      'fs/isofs/isofs.ko',
      'fs/ext4/ext4.ko',
      'drivers/net/virtio_net.ko',
      'drivers/net/ethernet/intel/e1000e/e1000e.ko',
      'drivers/scsi/sr_mod.ko',
      'drivers/block/virtio_blk.ko',
      'drivers/usb/storage/usb-storage.ko',
      'drivers/nvme/host/nvme.ko',
    ])
      expect(
        files.some((f) => f.endsWith(`/kernel/${mod}`)),
        mod,
      ).toBe(true);
  });
});

describe('pxe/', () => {
  it('boot.ipxe loads kernel and initrd from pxe.baseUrl, ${next-server} left for iPXE, and fetches the squashfs', () => {
    const script = readFileSync(path.join(pxe, 'boot.ipxe'), 'utf8').split('\n');
    expect(script[0]).toBe('#!ipxe');
    expect(script).toContain('set base http://${next-server}/kiln/debian-bookworm');
    const kernel = script.find((l) => l.startsWith('kernel '))!;
    expect(kernel).toMatch(
      /^kernel \$\{base\}\/vmlinuz initrd=initrd\.img boot=live components fetch=\$\{base\}\/rootfs\.squashfs ip=dhcp /,
    );
    expect(kernel).toMatch(/ persistence persistence-label=kiln-data /);
    expect(script).toContain('initrd ${base}/initrd.img');
    expect(script).toContain('boot');
  });

  it('profile.json is a matchbox profile of the same boot', () => {
    const profile = JSON.parse(readFileSync(path.join(pxe, 'profile.json'), 'utf8'));
    expect(profile).toMatchObject({
      id: 'debian-bookworm',
      boot: {
        kernel: 'http://${next-server}/kiln/debian-bookworm/vmlinuz',
        initrd: ['http://${next-server}/kiln/debian-bookworm/initrd.img'],
      },
    });
    expect(profile.boot.args).toContain('fetch=http://${next-server}/kiln/debian-bookworm/rootfs.squashfs');
  });

  it('vmlinuz and initrd.img are the rootfs’s own', async () => {
    const boot = path.join(work, 'root/boot');
    const names = readdirSync(boot);
    expect(await sha256File(path.join(pxe, 'vmlinuz'))).toBe(
      await sha256File(
        path.join(
          boot,
          names.find((f) => f.startsWith('vmlinuz-'))!,
        ),
      ),
    );
    expect(await sha256File(path.join(pxe, 'initrd.img'))).toBe(
      await sha256File(
        path.join(
          boot,
          names.find((f) => f.startsWith('initrd.img-'))!,
        ),
      ),
    );
  });
});

describe('determinism', () => {
  it('a second build gives the same kiln.iso, pxe/ files and signed update.tar, byte for byte', async () => {
    for (const f of ['kiln.iso', ...PXE_FILES.map((p) => `pxe/${p}`), 'update.tar'])
      expect(await sha256File(path.join(outB, f)), f).toBe(await sha256File(path.join(outA, f)));
    expect(manifest(outB).artifacts).toEqual(manifest(outA).artifacts);
  });
});

describe('update.tar', () => {
  it('verifies against the key baked into the image: the live squashfs, kernel and initrd, as the manifest says', async () => {
    const pub = readFileSync(path.join(work, 'keys/update.pub'), 'utf8');
    const trusted = updatePublicKey(pub, 'update.pub');
    // the image trusts exactly the signing key's public half, named by its id; the private key is nowhere in it
    const listing = run('unsquashfs', ['-lln', path.join(pxe, 'rootfs.squashfs'), 'usr/share/kiln/update-keys']);
    expect(listing).toMatch(new RegExp(`-rw-r--r-- 0/0 .* squashfs-root/usr/share/kiln/update-keys/${keyId(trusted)}\\.pub\\n`));
    expect(listing.match(/update-keys\/[^\n]+\.pub/g)).toHaveLength(1);
    expect(run('unsquashfs', ['-cat', path.join(pxe, 'rootfs.squashfs'), `usr/share/kiln/update-keys/${keyId(trusted)}.pub`])).toBe(pub);
    const m = await readBundle(path.join(outA, 'update.tar'), [trusted], undefined);
    expect(m).toMatchObject({
      image: 'debian-bookworm',
      specHash: manifest(outA).specHash,
      kubernetes: doc.kubernetes.version,
      sourceDateEpoch: SDE,
    });
    expect(m.parts.map((p) => [p.name, p.role])).toEqual([
      ['rootfs.squashfs', 'root'],
      ['vmlinuz', 'kernel'],
      ['initrd.img', 'initrd'],
    ]);
    for (const p of m.parts) expect(p.sha256, p.name).toBe(await sha256File(path.join(pxe, p.name)));
    // a node whose image is this very build takes no replay of it
    await expect(
      readBundle(path.join(outA, 'update.tar'), [trusted], { image: m.image, specHash: m.specHash, sourceDateEpoch: SDE }),
    ).rejects.toThrow(KilnError);
  });

  it('is refused before any work without a signing key, or with one others can read', async () => {
    const cases: Array<[update: object, mode: number, message: RegExp]> = [
      [{}, 0o600, /\/update\/signingKey: the update output needs a key to sign it with\n\s+hint: run kiln keygen/],
      [
        { signingKey: 'keys/update.key' },
        0o644,
        /\/update\/signingKey: .*update\.key: the update signing key is readable by others \(mode 0644\)\n\s+hint: whoever reads it can sign updates every node accepts: chmod 600 keys\/update\.key/,
      ],
      [{ signingKey: 'keys/update.pub' }, 0o600, /\/update\/signingKey: .*update\.pub: not a PEM private key/],
    ];
    for (const [update, mode, message] of cases) {
      const bad = path.join(work, 'bad-update.yaml');
      writeFileSync(bad, YAML.stringify({ ...doc, update }));
      chmodSync(path.join(work, 'keys/update.key'), mode);
      chmodSync(path.join(work, 'keys/update.pub'), mode);
      const r = await kiln(['build', bad, '--out', path.join(work, 'never'), '--cache-dir', path.join(work, 'never-cache')], {
        reject: false,
      });
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/PRIVATE KEY|\n\s+at /);
      expect(existsSync(path.join(work, 'never'))).toBe(false);
    }
    chmodSync(path.join(work, 'keys/update.key'), 0o600);
    chmodSync(path.join(work, 'keys/update.pub'), 0o644);
  });
});

describe('createDataDisk', () => {
  it('makes an ext4 image labelled kiln-data with persistence.conf, without mounting', async () => {
    const disk = path.join(work, 'data.img');
    await createDataDisk(disk, 64 * MiB);
    expect(statSync(disk).size).toBe(64 * MiB);
    expect(run('blkid', ['-o', 'export', disk])).toMatch(new RegExp(`LABEL=${DATA_DISK_LABEL}\\n(.*\\n)*TYPE=ext4`));
    expect(run('debugfs', ['-R', 'cat /persistence.conf', disk])).toBe(PERSISTENCE_CONF);
    run('fsck.ext4', ['-fn', disk]);
    // a data disk is a node's state: never overwritten
    await expect(createDataDisk(disk, 64 * MiB)).rejects.toThrow(KilnError);
    await expect(createDataDisk(disk, 64 * MiB)).rejects.toThrow(/already exists/);
    expect(run('debugfs', ['-R', 'cat /persistence.conf', disk])).toBe(PERSISTENCE_CONF);
  });

  it('refuses sizes too small to hold anything, leaving no file behind', async () => {
    const disk = path.join(work, 'tiny.img');
    await expect(createDataDisk(disk, 1 * MiB)).rejects.toThrow(/too small/);
    expect(existsSync(disk)).toBe(false);
  });
});

describe('spec checks', () => {
  it('a boot= replacing boot=live or a pxe.baseUrl iPXE cannot use stops the build before any work (exit 2)', async () => {
    const bad = path.join(work, 'bad.yaml');
    writeFileSync(bad, YAML.stringify({ ...doc, boot: { cmdline: ['boot=local'] }, pxe: { baseUrl: 'http://10.0.0.1/kiln?node=1' } }));
    const cache = path.join(work, 'never-cache');
    const r = await kiln(['build', bad, '--out', path.join(work, 'never'), '--cache-dir', cache], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/\/boot\/cmdline\/0: "boot=local" replaces boot=live/);
    expect(r.stderr).toMatch(/\/pxe\/baseUrl: .*\n\s+hint: use http\(s\):\/\/host/);
    expect(existsSync(path.join(work, 'never'))).toBe(false);
    expect(existsSync(cache)).toBe(false);
    expect(testCacheDir).not.toBe(cache);
  });
});

it('sourceDateEpoch is the spec’s', () => {
  expect(manifest(outA).sourceDateEpoch).toBe(SDE);
});
