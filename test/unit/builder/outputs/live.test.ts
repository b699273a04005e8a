// The live outputs' pure parts: live-boot kernel arguments, the spec checks run before any work,
// and the ISO's GRUB config (golden files: UPDATE_GOLDEN=1 npx vitest run test/unit/builder/outputs/live).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../core/errors.ts';
import { DATA_DISK_LABEL, PERSISTENCE_CONF } from '../../../../builder/outputs/data-disk.ts';
import { grubEarlyCfg, isoMarker, isoVolumeId, renderGrubCfg } from '../../../../builder/outputs/iso.ts';
import { checkLiveSpec, liveArgs, liveCmdline, liveSpecProblems } from '../../../../builder/outputs/live.ts';
import { customBoot as custom, defaultSpecWith, expectGolden, type SpecDoc } from '../../../helpers/specs.ts';

const goldenDir = path.join(import.meta.dirname, '../../../fixtures/outputs-live');
const golden = (name: string, actual: string) => expectGolden(path.join(goldenDir, name), actual);
const liveSpec = (edit?: (doc: SpecDoc) => void, file = 'live.yaml') => defaultSpecWith(['iso', 'pxe'], edit, file);

describe('live-boot arguments', () => {
  it('boot from the squashfs, with /var on a kiln-data disk when one is attached', () => {
    expect(liveArgs()).toEqual([
      'boot=live',
      'components',
      'persistence',
      `persistence-label=${DATA_DISK_LABEL}`,
      'persistence-storage=filesystem',
    ]);
    expect(DATA_DISK_LABEL).toBe('kiln-data');
  });

  it('fetch the squashfs over HTTP after DHCP for PXE', () => {
    expect(liveArgs({ fetch: 'http://${next-server}/x/rootfs.squashfs' })).toEqual([
      'boot=live',
      'components',
      'fetch=http://${next-server}/x/rootfs.squashfs',
      'ip=dhcp',
      'persistence',
      'persistence-label=kiln-data',
      'persistence-storage=filesystem',
    ]);
  });

  it('leave the data disk alone when asked', () => {
    expect(liveArgs({ persistence: false })).toEqual(['boot=live', 'components']);
  });

  it('come before the consoles and the spec’s own arguments (which win)', () => {
    expect(liveCmdline(liveSpec(custom))).toBe(
      'boot=live components persistence persistence-label=kiln-data persistence-storage=filesystem console=ttyS0,57600n8 quiet systemd.show_status=1',
    );
    expect(liveCmdline(liveSpec())).toMatch(/ console=tty0 console=ttyS0,115200n8$/);
  });

  it('pair with a persistence.conf that keeps container storage off overlayfs', () => {
    expect(PERSISTENCE_CONF.split('\n')).toEqual([
      '/var union',
      '/var/lib/containerd bind,source=containerd',
      '/var/lib/docker bind,source=docker',
      '/etc union',
      '',
    ]);
  });
});

describe('liveSpecProblems', () => {
  it('finds nothing in the default spec, nor when no live output is asked for', () => {
    expect(liveSpecProblems(liveSpec())).toEqual([]);
    expect(liveSpecProblems(liveSpec(custom))).toEqual([]);
    const tarOnly = liveSpec((d) => {
      d.outputs = [{ format: 'tar' }];
      d.boot = { cmdline: ['boot=local'] };
    });
    expect(liveSpecProblems(tarOnly)).toEqual([]);
  });

  it('rejects a boot= that replaces boot=live, naming the argument', () => {
    const spec = liveSpec((d) => {
      d.boot = { cmdline: ['quiet', 'boot=local', 'boot=live'] };
    });
    expect(liveSpecProblems(spec)).toEqual([
      expect.objectContaining({
        file: 'live.yaml',
        path: '/boot/cmdline/1',
        message: expect.stringContaining('which the iso and pxe outputs need'),
        hint: expect.any(String),
      }),
    ]);
  });

  it.each([
    ['http://${next-server}/kiln/node', true],
    ['http://${net0/next-server}:8080/a/b', true],
    ['https://boot.example.com/kiln/node-1', true],
    ['http://10.0.0.1/kiln/node?x=1', false],
    ['http://host/kiln/"node"', false],
    ['http://host/kiln#node', false],
    ['http://host/$HOME/node', false],
    ['http://host/${unclosed/node', false],
    ['http:///no-host', false],
  ])('pxe.baseUrl %s is usable: %s', (baseUrl, ok) => {
    const problems = liveSpecProblems(liveSpec((d) => (d.pxe = { baseUrl })));
    expect(problems.map((p) => p.path)).toEqual(ok ? [] : ['/pxe/baseUrl']);
  });

  it('checks pxe.baseUrl only when the pxe output is asked for', () => {
    const spec = liveSpec((d) => {
      d.outputs = [{ format: 'iso' }];
      d.pxe = { baseUrl: 'http://host/a?b' };
    });
    expect(liveSpecProblems(spec)).toEqual([]);
  });

  it('rejects a command line longer than Linux keeps', () => {
    const spec = liveSpec((d) => (d.boot = { cmdline: Array.from({ length: 200 }, (_, i) => `kiln.arg${i}=xxxx`) }));
    expect(liveSpecProblems(spec)).toEqual([
      expect.objectContaining({ path: '/boot/cmdline', message: expect.stringMatching(/characters; Linux keeps only 2047/) }),
    ]);
  });

  it('checkLiveSpec throws every problem at once, exit code 2', () => {
    const spec = liveSpec((d) => {
      d.boot = { cmdline: ['boot=nfs'] };
      d.pxe = { baseUrl: 'http://host/a?b' };
    });
    let error: unknown;
    try {
      checkLiveSpec(spec);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).exitCode).toBe(2);
    expect((error as ValidationError).problems.map((p) => p.path)).toEqual(['/boot/cmdline/0', '/pxe/baseUrl']);
    expect(() => checkLiveSpec(liveSpec())).not.toThrow();
  });
});

describe('ISO boot menu', () => {
  it('finds the ISO by a marker named after the spec hash', () => {
    const spec = liveSpec();
    expect(isoMarker(spec)).toBe(`/.disk/kiln-${'f'.repeat(16)}`);
    expect(grubEarlyCfg(spec)).toBe(`search --no-floppy --set=root --file /.disk/kiln-${'f'.repeat(16)}\nset prefix=($root)/boot/grub\n`);
  });

  it('names the volume with ISO 9660 d-characters', () => {
    expect(isoVolumeId(liveSpec())).toBe('KILN_DEBIAN_BOOKWORM');
    expect(isoVolumeId(liveSpec((d) => (d.name = 'a-very-long-node-image-name-for-the-lab')))).toBe('KILN_A_VERY_LONG_NODE_IMAGE_NAME');
  });

  it('grub.cfg (default spec)', () => {
    const cfg = renderGrubCfg(liveSpec());
    expect(cfg).toContain('linux /live/vmlinuz boot=live components persistence persistence-label=kiln-data');
    expect(cfg).toContain('initrd /live/initrd.img');
    golden('default/grub.cfg', cfg);
  });

  it('grub.cfg (serial console, own arguments, longer timeout)', () => {
    const cfg = renderGrubCfg(liveSpec(custom));
    expect(cfg).toContain('set timeout=5\n');
    expect(cfg).toContain('serial --unit=0 --speed=57600\n');
    expect(cfg).not.toContain('console=tty0');
    golden('custom/grub.cfg', cfg);
  });
});
