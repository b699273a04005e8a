// The networkd files kiln-firstboot renders, read by systemd-networkd itself: each golden case is
// loaded by a real networkd in its own mount and network namespace (nothing leaves the machine),
// and any "FILE:LINE:" complaint (unknown key, bad value) fails the case. `.link` files are udev's
// and are not covered here; the VM test applies one for real.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNetworkConfig } from '../../../node/formats/network/index.ts';
import { repoRoot, tempDir } from '../../helpers/build.ts';

const golden = path.join(repoRoot, 'test/fixtures/firstboot/network');
const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** networkd's complaints about the files in `dir` (it runs for a second, then is stopped). */
async function networkdComplaints(dir: string): Promise<string[]> {
  const script = `mount -t tmpfs tmpfs /etc/systemd/network && cp ${dir}/* /etc/systemd/network/ && mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/netif/links /run/systemd/netif/leases /run/systemd/netif/lldp && exec timeout 1 /usr/lib/systemd/systemd-networkd`;
  const r = await execa('unshare', ['--mount', '--net', 'sh', '-c', script], {
    reject: false,
    all: true,
    env: { SYSTEMD_LOG_TARGET: 'console' },
  });
  return (r.all ?? '').split('\n').filter((l) => /^\/etc\/systemd\/network\/\S+:\d+:/.test(l));
}

function filesOf(files: Array<{ name: string; contents: string }>): string {
  const dir = tempDir('kiln-networkd-');
  made.push(dir);
  for (const f of files.filter((x) => !x.name.endsWith('.link'))) writeFileSync(path.join(dir, f.name), f.contents);
  return dir;
}

describe('systemd-networkd reads what firstboot renders', () => {
  it('complains about a bad file (the check can fail)', async () => {
    const dir = filesOf([
      { name: '50-bad.network', contents: '[Match]\nName=eth9\n\n[Network]\nAddres=10.0.0.1/24\n' },
      { name: '50-bad.netdev', contents: '[NetDev]\nName=bond9\nKind=bond\n\n[Bond]\nMode=bogus\n' },
    ]);
    expect((await networkdComplaints(dir)).sort()).toEqual([
      '/etc/systemd/network/50-bad.netdev:6: Failed to parse bond mode, ignoring: bogus',
      "/etc/systemd/network/50-bad.network:5: Unknown key 'Addres' in section [Network], ignoring.",
    ]);
  });

  const cases = readdirSync(golden).sort();
  it.each(cases)('%s', async (name) => {
    const files = parseNetworkConfig(readFileSync(path.join(golden, name, 'network-config.yaml'), 'utf8'), 'network-config').files;
    expect(files.filter((f) => !f.name.endsWith('.link')).length).toBeGreaterThan(0);
    expect(await networkdComplaints(filesOf(files))).toEqual([]);
  });

  it('the VM test seed', async () => {
    const files = parseNetworkConfig(
      readFileSync(path.join(repoRoot, 'test/fixtures/firstboot/vm/nocloud/network-config'), 'utf8'),
      'network-config',
    ).files;
    expect(await networkdComplaints(filesOf(files))).toEqual([]);
  });
});
