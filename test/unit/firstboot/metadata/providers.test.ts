// Each provider against a fixture host tree (proc/cmdline, fw_cfg, labelled volumes, seed dirs):
// which source is found, how it is described, and the raw files it loads.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type KilnError } from '../../../../core/errors.ts';
import { treeHost } from '../../../helpers/tree-host.ts';
import { parseCmdline, nocloudSeedFrom } from '../../../../firstboot/metadata/cmdline.ts';
import { type RawMetadata } from '../../../../node/metadata/decode.ts';
import { findSource, PROVIDERS } from '../../../../firstboot/metadata/providers.ts';
import { expectGolden } from '../../../helpers/specs.ts';

const fixtures = path.resolve(import.meta.dirname, '../../../fixtures/firstboot/hosts');
const cases = readdirSync(fixtures).sort();

function describeRaw(raw: RawMetadata) {
  const file = (f?: { name: string; data: Buffer }) => (f ? { name: f.name, text: f.data.toString('utf8') } : undefined);
  return { kind: raw.kind, userData: file(raw.userData), metaData: file(raw.metaData), networkConfig: file(raw.networkConfig) };
}

async function outcome(name: string): Promise<unknown> {
  const dir = path.join(fixtures, name);
  const host = treeHost(dir);
  try {
    const found = await findSource(host, parseCmdline(await host.cmdline()));
    if (!found) return { outcome: 'no source' };
    const summary = {
      provider: found.provider,
      location: found.location,
      needsNetwork: found.needsNetwork,
      warnings: found.warnings,
      ...(found.report ? { report: found.report } : {}),
    };
    if (found.needsNetwork) return summary;
    try {
      return { ...summary, raw: describeRaw(await found.load()) };
    } catch (error) {
      return { ...summary, loadError: (error as KilnError).message, hint: (error as KilnError).hint };
    }
  } catch (error) {
    return {
      outcome: 'broken source',
      error: (error as KilnError).message,
      path: (error as KilnError).path,
      hint: (error as KilnError).hint,
    };
  }
}

describe('metadata providers', () => {
  it.each(cases)('%s', async (name) => {
    expectGolden(path.join(fixtures, `../hosts-expected/${name}.json`), `${JSON.stringify(await outcome(name), null, 2)}\n`);
  });

  it('every provider is exercised by a fixture', async () => {
    const seen = new Set<string>();
    for (const name of cases) {
      const o = (await outcome(name)) as { provider?: string };
      if (o.provider) seen.add(o.provider);
    }
    expect([...seen].sort()).toEqual(PROVIDERS.map((p) => p.name).sort());
  });

  it('never puts credentials or query strings of a URL into the location', async () => {
    const o = (await outcome('kiln-config-http-pinned')) as { location: string };
    expect(o.location).not.toMatch(/secret|token=abc/);
  });
});

describe('kernel command line', () => {
  it('splits like the kernel: quotes group, later words win', () => {
    const c = parseCmdline('a=1 "ds=nocloud;s=http://h/x y/" b a=2 c=\n');
    expect(c.get('a')).toBe('2');
    expect(c.get('b')).toBe(true);
    expect(c.get('ds')).toBe('nocloud;s=http://h/x y/');
    expect(c.get('c')).toBe('');
  });

  it('reads the NoCloud seed in every spelling cloud-init accepts', () => {
    expect(nocloudSeedFrom(parseCmdline('ds=nocloud;s=http://10.0.0.1/seed/'))).toBe('http://10.0.0.1/seed/');
    expect(nocloudSeedFrom(parseCmdline('ds=nocloud-net;seedfrom=http://10.0.0.1/seed'))).toBe('http://10.0.0.1/seed/');
    expect(nocloudSeedFrom(parseCmdline('ds=nocloud'))).toBeUndefined();
    expect(nocloudSeedFrom(parseCmdline('ds=ec2;s=http://x/'))).toBeUndefined();
  });
});
