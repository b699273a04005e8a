// The shipped-modules policy as real dpkg applies it: a package laid out like Debian's kernel
// package (lib/modules/VERSION/kernel/...) is installed into an empty root with the filters kiln
// passes mmdebstrap, and only what the policy keeps lands.
import { execa } from 'execa';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moduleFilters, type ShippedModules } from '../../../builder/rootfs/modules.ts';
import { tempDir } from '../../helpers/build.ts';

const work = tempDir('kiln-modules-');
const deb = path.join(work, 'linux-image-test.deb');
const KVER = '6.1.0-99-amd64';
const MODULES = [
  'sound/pci/hda/snd-hda-intel.ko',
  'drivers/gpu/drm/amd/amdgpu/amdgpu.ko',
  'drivers/gpu/drm/ast/ast.ko',
  'drivers/media/usb/uvc/uvcvideo.ko',
  'drivers/net/wireless/intel/iwlwifi/iwlwifi.ko',
  'drivers/net/ethernet/intel/e1000e/e1000e.ko',
  'drivers/infiniband/core/ib_core.ko',
  'drivers/nvme/host/nvme.ko',
  'net/netfilter/nf_conntrack.ko',
  'fs/xfs/xfs.ko',
];

beforeAll(async () => {
  const tree = path.join(work, 'pkg');
  for (const m of MODULES) {
    const file = path.join(tree, 'lib/modules', KVER, 'kernel', m);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${m}\n`);
  }
  mkdirSync(path.join(tree, 'DEBIAN'));
  writeFileSync(
    path.join(tree, 'DEBIAN/control'),
    'Package: linux-image-test\nVersion: 1\nArchitecture: all\nMaintainer: kiln <kiln@example.invalid>\nDescription: modules laid out as Debian ships them\n',
  );
  await execa('dpkg-deb', ['--root-owner-group', '--build', tree, deb]);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Installs the package into a fresh root with the policy's filters; the module paths that landed. */
async function installed(policy: ShippedModules): Promise<string[]> {
  const root = tempDir('kiln-modules-root-');
  try {
    mkdirSync(path.join(root, 'var/lib/dpkg/info'), { recursive: true });
    mkdirSync(path.join(root, 'var/lib/dpkg/updates'));
    writeFileSync(path.join(root, 'var/lib/dpkg/status'), '');
    const filters = moduleFilters(policy).map((f) => `--${f}`);
    await execa('dpkg', [`--root=${root}`, '--force-script-chrootless', ...filters, '--install', deb]);
    const found = await execa('find', [path.join(root, 'lib/modules', KVER, 'kernel'), '-type', 'f', '-printf', '%P\n']);
    return found.stdout.split('\n').filter(Boolean).sort();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const kept = (...dirs: string[]) => MODULES.filter((m) => dirs.some((d) => m.startsWith(`${d}/`))).sort();

describe('node.shippedModules through real dpkg', () => {
  it('the server profile leaves out sound, DRM, media and wireless, and keeps storage, NICs, netfilter and file systems', async () => {
    expect(await installed({ profile: 'server', drop: [], keep: [] })).toEqual(
      kept('drivers/net/ethernet', 'drivers/infiniband', 'drivers/nvme', 'net/netfilter', 'fs/xfs'),
    );
  });

  it('keep re-includes a directory inside a dropped one (the BMC console driver), drop leaves out one more', async () => {
    expect(await installed({ profile: 'server', drop: ['drivers/infiniband'], keep: ['drivers/gpu/drm/ast'] })).toEqual(
      kept('drivers/net/ethernet', 'drivers/nvme', 'net/netfilter', 'fs/xfs', 'drivers/gpu/drm/ast'),
    );
  });

  it('keeping a whole dropped directory restores it; profile all ships every module', async () => {
    expect(await installed({ profile: 'server', drop: [], keep: ['drivers/gpu'] })).toEqual(
      kept('drivers/net/ethernet', 'drivers/infiniband', 'drivers/nvme', 'net/netfilter', 'fs/xfs', 'drivers/gpu'),
    );
    expect(await installed({ profile: 'all', drop: [], keep: [] })).toEqual([...MODULES].sort());
  });
});
