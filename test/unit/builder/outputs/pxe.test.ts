// The PXE bundle's rendered files, boot.ipxe and profile.json, against golden files
// (UPDATE_GOLDEN=1 npx vitest run test/unit/builder/outputs/pxe rewrites them).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PXE_FILES, pxeArgs, renderBootIpxe, renderProfile } from '../../../../builder/outputs/pxe.ts';
import { customBoot as custom, defaultSpecWith, expectGolden, type SpecDoc } from '../../../helpers/specs.ts';

const goldenDir = path.join(import.meta.dirname, '../../../fixtures/outputs-live');
const golden = (name: string, actual: string) => expectGolden(path.join(goldenDir, name), actual);
const pxeSpec = (edit?: (doc: SpecDoc) => void, file = 'pxe.yaml') => defaultSpecWith(['pxe'], edit, file);

describe('boot.ipxe', () => {
  it('loads kernel and initrd from the base URL and lets live-boot fetch the squashfs, ${next-server} left to iPXE', () => {
    const script = renderBootIpxe(pxeSpec());
    const lines = script.split('\n');
    expect(lines[0]).toBe('#!ipxe');
    expect(lines).toContain('set base http://${next-server}/kiln/debian-bookworm');
    expect(lines).toContain(
      'kernel ${base}/vmlinuz initrd=initrd.img boot=live components fetch=${base}/rootfs.squashfs ip=dhcp persistence persistence-label=kiln-data persistence-storage=filesystem console=tty0 console=ttyS0,115200n8',
    );
    expect(lines.slice(-3)).toEqual(['initrd ${base}/initrd.img', 'boot', '']);
    golden('default/boot.ipxe', script);
  });

  it('carries the spec’s console and arguments', () => {
    const script = renderBootIpxe(pxeSpec(custom));
    expect(script).toContain('set base http://boot.example.com:8080/images/edge\n');
    expect(script).toMatch(/ console=ttyS0,57600n8 quiet systemd\.show_status=1\n/);
    golden('custom/boot.ipxe', script);
  });
});

describe('profile.json (matchbox)', () => {
  it('boots the same kernel, initrd and arguments as boot.ipxe, with the base URL spelled out', () => {
    const spec = pxeSpec();
    const text = renderProfile(spec);
    const profile = JSON.parse(text);
    expect(Object.keys(profile)).toEqual(['id', 'name', 'boot']);
    expect(profile.id).toBe('debian-bookworm');
    expect(profile.boot).toEqual({
      kernel: 'http://${next-server}/kiln/debian-bookworm/vmlinuz',
      initrd: ['http://${next-server}/kiln/debian-bookworm/initrd.img'],
      args: pxeArgs(spec, 'http://${next-server}/kiln/debian-bookworm'),
    });
    expect(profile.boot.args).toContain('fetch=http://${next-server}/kiln/debian-bookworm/rootfs.squashfs');
    expect(profile.boot.args[0]).toBe('initrd=initrd.img');
    expect(text.endsWith('}\n')).toBe(true);
    golden('default/profile.json', text);
  });

  it('custom spec', () => {
    golden('custom/profile.json', renderProfile(pxeSpec(custom)));
  });
});

it('the bundle lists kernel, initrd, squashfs, script and profile', () => {
  expect([...PXE_FILES]).toEqual(['vmlinuz', 'initrd.img', 'rootfs.squashfs', 'boot.ipxe', 'profile.json']);
});
