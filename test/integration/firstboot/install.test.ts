// install's disk write against the real tools, on a file standing in for the disk: a GPT disk image
// laid out as kiln's (sgdisk, mkfs.ext4 -d) served over HTTP on loopback; the write succeeds with
// the seed carried onto the root (read back with debugfs) and a table sgdisk verifies; a wrong pin
// or a cut download leaves a disk with no partition table at all (unbootable), never a half one.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KilnError } from '../../../core/errors.ts';
import { parseCmdline } from '../../../firstboot/metadata/cmdline.ts';
import { runInstall, type InstallTools } from '../../../firstboot/install/install.ts';
import type { DiskFacts } from '../../../firstboot/install/select.ts';
import { INSTALLED_SEED, INSTALLED_SOURCE } from '../../../node/layout.ts';
import { tempDir } from '../../helpers/build.ts';

const MiB = 2 ** 20;
const work = tempDir('kiln-install-');
const image = path.join(work, 'disk.raw');
const ROOT_START = 66 * MiB;
let imageHash = '';
let server: http.Server;
let base = '';
afterAll(() => {
  server?.close();
  rmSync(work, { recursive: true, force: true });
});

/** A 96 MiB disk as kiln lays it out: BIOS boot, ESP, kiln-root (ext4 holding /var/lib), backup GPT. */
async function kilnLikeImage(): Promise<void> {
  const tree = path.join(work, 'tree');
  mkdirSync(path.join(tree, 'var/lib'), { recursive: true });
  writeFileSync(path.join(tree, 'etc-os-release'), 'kiln test image\n');
  await execa('truncate', ['-s', `${96 * MiB}`, image]);
  await execa('sgdisk', [
    ...['--new=1:2048:4095', '--typecode=1:EF02', '--change-name=1:BIOS boot'],
    ...['--new=2:4096:135167', '--typecode=2:EF00', '--change-name=2:EFI System'],
    ...[`--new=3:${ROOT_START / 512}:${(95 * MiB) / 512 - 1}`, '--typecode=3:8304', '--change-name=3:kiln-root'],
    image,
  ]);
  const root = path.join(work, 'root.img');
  await execa('mkfs.ext4', ['-q', '-F', '-L', 'kiln-root', '-d', tree, root, `${29 * 1024}k`]);
  await execa('dd', [`if=${root}`, `of=${image}`, 'bs=1M', `seek=${ROOT_START / MiB}`, 'conv=notrunc', 'status=none']);
  imageHash = createHash('sha256').update(readFileSync(image)).digest('hex');
}

/** Serves the image at /disk.raw; /cut.raw announces the whole length and stops half-way. */
async function serve(): Promise<void> {
  server = http.createServer((req, res) => {
    const data = readFileSync(image);
    res.setHeader('content-length', String(data.length));
    if (req.url === '/cut.raw') {
      res.write(data.subarray(0, data.length / 2));
      setTimeout(() => res.destroy(), 50);
    } else res.end(data);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A 128 MiB "disk" (a file) that held another system: its own GPT and an ext4. */
async function usedDisk(name: string): Promise<string> {
  const file = path.join(work, name);
  rmSync(file, { force: true });
  await execa('truncate', ['-s', `${128 * MiB}`, file]);
  await execa('sgdisk', ['--new=1:2048:0', '--typecode=1:8300', '--change-name=1:old-system', file]);
  return file;
}

const facts = (file: string): DiskFacts => ({
  path: file,
  size: statSync(file).size,
  removable: false,
  readOnly: false,
  serial: 'test-disk',
  partitionTable: 'gpt',
  filesystems: [],
  mounts: [],
  byId: ['virtio-test-disk'],
  byPath: [],
});

/**
 * The machine's side without loop devices: the "mounted" root is a directory whose files debugfs
 * writes into the ext4 at its byte offset on release (what the node does with losetup and mount).
 */
function testTools(disk: string, events: string[]): InstallTools {
  return {
    disks: async () => [facts(disk)],
    async mountRange(device, offset) {
      const dir = path.join(work, `mnt-${events.length}`);
      mkdirSync(dir, { recursive: true });
      events.push(`mount ${offset}`);
      return {
        dir,
        async release() {
          const commands: string[] = [];
          const walk = (rel: string) => {
            for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
              const r = path.posix.join(rel, e.name);
              if (e.isDirectory()) {
                commands.push(`mkdir /${r}`);
                walk(r);
              } else if (!e.name.startsWith('.')) {
                commands.push(
                  `write ${path.join(dir, r)} /${r}`,
                  `sif /${r} mode 0100${(statSync(path.join(dir, r)).mode & 0o777).toString(8)}`,
                );
              }
            }
          };
          walk('');
          writeFileSync(path.join(work, 'debugfs.cmds'), `${commands.join('\n')}\n`);
          await execa('debugfs', ['-w', '-f', path.join(work, 'debugfs.cmds'), `${device}?offset=${offset}`]);
          events.push('release');
        },
      };
    },
    finish: async () => {
      events.push('finish');
      return ['finished'];
    },
    reboot: async () => void events.push('reboot'),
  };
}

const debugfsCat = async (disk: string, file: string) =>
  (await execa('debugfs', ['-R', `cat ${file}`, `${disk}?offset=${ROOT_START}`], { stripFinalNewline: false })).stdout;

const cmdline = (url: string, hash = imageHash) => parseCmdline(`boot=live kiln.install.image=${url} kiln.install.hash=sha256-${hash}`);
const seed = { name: 'ignition.json', data: Buffer.from('{"ignition":{"version":"3.4.0"}}\n') };

beforeAll(async () => {
  await kilnLikeImage();
  await serve();
});

describe('install writes kiln’s disk image', () => {
  it('refuses a disk that is not blank under if-blank, before writing a byte', async () => {
    const disk = await usedDisk('if-blank.img');
    const before = createHash('sha256').update(readFileSync(disk)).digest('hex');
    const error = await runInstall(
      { install: { disk: { serial: 'test-disk' } }, cmdline: cmdline(`${base}/disk.raw`), seed, log: () => {} },
      testTools(disk, []),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KilnError);
    expect((error as KilnError).message).toMatch(/is not blank \(a gpt partition table\) and install.wipe is if-blank/);
    expect(createHash('sha256').update(readFileSync(disk)).digest('hex')).toBe(before);
  });

  it('writes, verifies and carries the seed, then the partition table: a disk sgdisk verifies', async () => {
    const disk = await usedDisk('ok.img');
    const events: string[] = [];
    const lines: string[] = [];
    const installed = await runInstall(
      {
        install: { disk: { id: 'virtio-test-disk' }, wipe: 'always' },
        cmdline: cmdline(`${base}/disk.raw`),
        seed,
        report: { url: 'https://10.0.2.2:8443/report/52-54-00-e2-00-11', tlsPin: 'ab'.repeat(32) },
        log: (l) => lines.push(l),
      },
      testTools(disk, events),
    );
    expect(installed).toBe(disk);
    expect(events).toEqual([`mount ${ROOT_START}`, 'release', 'finish']);
    const verify = await execa('sgdisk', ['-v', disk], { all: true });
    expect(verify.all).toContain('No problems found');
    const table = JSON.parse((await execa('sfdisk', ['--json', disk])).stdout).partitiontable;
    expect(table.partitions.map((p: { name: string }) => p.name)).toEqual(['BIOS boot', 'EFI System', 'kiln-root']);
    // the BIOS boot and EFI partitions are on the disk as they were served (the tables were moved: the disk is bigger)
    const [img, written] = [readFileSync(image), readFileSync(disk)];
    expect(written.subarray(MiB, ROOT_START).equals(img.subarray(MiB, ROOT_START))).toBe(true);
    expect(table.lastlba).toBe((128 * MiB) / 512 - 34);
    expect(await debugfsCat(disk, INSTALLED_SEED)).toBe(seed.data.toString());
    expect(JSON.parse(await debugfsCat(disk, INSTALLED_SOURCE))).toEqual({
      name: 'ignition.json',
      report: 'https://10.0.2.2:8443/report/52-54-00-e2-00-11',
      reportTlsPin: 'ab'.repeat(32),
    });
    const mode = (await execa('debugfs', ['-R', `stat ${INSTALLED_SEED}`, `${disk}?offset=${ROOT_START}`])).stdout;
    expect(mode).toMatch(/Mode:\s+0600/);
    expect(lines.join('\n')).toMatch(/writing the disk image \(96 MiB, sha256 pinned\) to .*ok\.img, 0\.1 GiB, serial test-disk/);
  });

  it.each([
    ['a pin that does not match', () => cmdline(`${base}/disk.raw`, 'f'.repeat(64)), /sha256 is [0-9a-f]{64}, not the pinned f{64}/],
    ['a download cut short', () => cmdline(`${base}/cut.raw`), /the disk image ended after|terminated|other side closed/],
  ])('%s leaves the disk with no partition table at all', async (_what, line, message) => {
    const disk = await usedDisk(`bad-${_what.length}.img`);
    const events: string[] = [];
    const error = await runInstall(
      { install: { disk: { serial: 'test-disk' }, wipe: 'always' }, cmdline: line(), seed, log: () => {} },
      testTools(disk, events),
    ).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(message);
    expect(events).toEqual([]);
    // neither the old table (primary or backup) nor the image's: nothing a firmware boots
    const probe = await execa('sfdisk', ['--json', disk], { reject: false, all: true });
    expect(probe.exitCode).not.toBe(0);
    expect(probe.all).toMatch(/does not contain a recognized partition table/);
  });

  it('refuses a command line without the image or its pin', async () => {
    for (const [text, message] of [
      ['boot=live', /has no kiln.install.image=http/],
      [`boot=live kiln.install.image=${base}/disk.raw`, /comes without kiln.install.hash=sha256-<hex>/],
    ] as const) {
      const error = await runInstall(
        { install: { disk: { serial: 'test-disk' } }, cmdline: parseCmdline(text), seed, log: () => {} },
        testTools(image, []),
      ).catch((e: unknown) => e);
      expect((error as KilnError).message).toMatch(message);
      expect((error as KilnError).exitCode).toBe(2);
    }
  });
});
