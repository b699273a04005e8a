// Where metadata comes from, in the order kiln looks. The first provider that finds a source
// wins; a source that is there but broken fails loudly rather than falling through to the next.
import path from 'node:path';
import { KilnError } from '../../core/errors.ts';
import { exists } from '../apply/fs.ts';
import type { Host } from '../host.ts';
import { cmdlineTlsPin, cmdlineValue, nocloudSeedFrom, type Cmdline } from './cmdline.ts';
import { parseHash } from '../../core/hash.ts';
import { redactUrl } from '../../core/redact.ts';
import { fetchBytes } from './fetch.ts';
import type { RawMetadata } from '../../node/metadata/decode.ts';
import { INSTALLED_SEED, INSTALLED_SOURCE, type InstalledSource } from '../../node/layout.ts';
import type { ReportTarget } from '../../node/serve.ts';
import { readInputBytes } from '../../core/fs.ts';
import { readStateFile } from '../../core/json.ts';
import { Type } from '@sinclair/typebox';
import { Strict } from '../../core/schema.ts';

const InstalledSourceSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9._-]{1,100}$' }),
    report: Type.Optional(Type.String({ pattern: '^https?://' })),
    reportTlsPin: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
  },
  Strict,
);

export interface FoundSource {
  provider: string;
  /** For people: where exactly, credentials redacted. */
  location: string;
  /** Fetching needs the network: the early pass leaves such sources to the late pass. */
  needsNetwork: boolean;
  /** Notes for the user (an unpinned http source, …). */
  warnings: string[];
  /** Where to report the first boot's outcome when not on the command line (an installed node's carried kiln.report). */
  report?: ReportTarget;
  load(): Promise<RawMetadata>;
}

export interface Provider {
  name: string;
  why: string;
  find(host: Host, cmdline: Cmdline): Promise<FoundSource | undefined>;
}

const isRemote = (url: string) => /^https?:\/\//.test(url);

/** A node path or file:// URL from the command line, inside the host root (which is / on a node). */
function local(host: Host, location: string): string {
  const p = location.startsWith('file://') ? decodeURIComponent(new URL(location).pathname) : location;
  return path.join(host.root, p);
}
const CIDATA_LABELS = ['cidata', 'CIDATA'];

/** NoCloud files from a seed: a directory, a mounted volume or a URL prefix. */
export async function loadSeed(
  base: string,
  describe: string,
  options: { release?: () => Promise<void>; fileNames?: boolean } = {},
): Promise<RawMetadata> {
  const at = (name: string) => (isRemote(base) || base.startsWith('file://') ? `${base}${name}` : path.join(base, name));
  try {
    const [userData, metaData, networkConfig] = await Promise.all(
      ['user-data', 'meta-data', 'network-config'].map((n) => fetchBytes(at(n), { optional: true })),
    );
    if (!metaData)
      throw new KilnError(`${describe}: no meta-data file`, {
        hint: 'a NoCloud seed needs meta-data with at least "instance-id: <id>" (it may be the only line)',
        exitCode: 2,
      });
    // problems name the file as the user knows it: the seed's path when validating, else its plain name
    const name = (n: string) => (options.fileNames ? at(n) : n);
    return {
      kind: 'nocloud',
      userData: { name: name('user-data'), data: userData ?? Buffer.alloc(0) },
      metaData: { name: name('meta-data'), data: metaData },
      ...(networkConfig ? { networkConfig: { name: name('network-config'), data: networkConfig } } : {}),
    };
  } finally {
    await options.release?.();
  }
}

export const PROVIDERS: Provider[] = [
  {
    name: 'kernel-cmdline',
    why: 'kiln.config=<url|path> on the kernel command line: PXE and ISO boots say where the node config is',
    async find(host, cmdline) {
      const url = cmdlineValue(cmdline, 'kiln.config');
      if (!url) return undefined;
      const hashText = cmdlineValue(cmdline, 'kiln.config.hash');
      const hash = hashText ? parseHash(hashText) : undefined;
      if (hashText && !hash)
        throw new KilnError(`kernel command line: kiln.config.hash=${hashText} is not a hash kiln understands`, {
          path: 'kiln.config.hash',
          hint: 'use sha256-<64 hex digits> or sha512-<128 hex digits>',
          exitCode: 2,
        });
      if (isRemote(url) && !hash)
        throw new KilnError(`kernel command line: kiln.config=${redactUrl(url)} is fetched over the network without a pinned hash`, {
          path: 'kiln.config.hash',
          hint: 'add kiln.config.hash=sha256-<hex of `sha256sum <file>`> so a tampered or stale config is refused',
          exitCode: 2,
        });
      const tlsPin = cmdlineTlsPin(cmdline);
      return {
        provider: 'kernel-cmdline',
        location: `kiln.config=${redactUrl(url)}`,
        needsNetwork: isRemote(url),
        warnings: [],
        load: async () => ({
          kind: 'sniff',
          userData: {
            name: path.basename(new URL(url, 'file:///').pathname) || 'kiln.config',
            data: (await fetchBytes(isRemote(url) ? url : local(host, url), { ...(hash ? { hash } : {}), ...(tlsPin ? { tlsPin } : {}) }))!,
          },
        }),
      };
    },
  },
  {
    name: 'installed-seed',
    why: 'a node kiln installed to disk from a live boot: the seed that boot was given, carried onto the disk',
    async find(host) {
      const seedFile = path.join(host.root, INSTALLED_SEED);
      if (!(await exists(seedFile))) return undefined;
      const remedy = `remove ${INSTALLED_SEED} and ${INSTALLED_SOURCE} and give the node another source`;
      const source = await readStateFile<InstalledSource>(path.join(host.root, INSTALLED_SOURCE), InstalledSourceSchema, remedy);
      return {
        provider: 'installed-seed',
        location: INSTALLED_SEED,
        needsNetwork: false,
        warnings: [],
        ...(source?.report ? { report: { url: source.report, ...(source.reportTlsPin ? { tlsPin: source.reportTlsPin } : {}) } } : {}),
        load: async () => ({
          kind: 'sniff',
          userData: {
            name: source?.name ?? 'seed',
            data: (await readInputBytes(seedFile, { what: 'the seed carried by install', hint: remedy }))!,
          },
        }),
      };
    },
  },
  {
    name: 'nocloud-cmdline',
    why: "cloud-init's ds=nocloud;s=<seed url>: a NoCloud seed served over HTTP or from a path",
    async find(host, cmdline) {
      const seed = nocloudSeedFrom(cmdline);
      if (!seed) return undefined;
      return {
        provider: 'nocloud-cmdline',
        location: `ds=nocloud;s=${redactUrl(seed)}`,
        needsNetwork: isRemote(seed),
        warnings: seed.startsWith('http://')
          ? ['the NoCloud seed is fetched over plain http: anyone on the path can read the join token; prefer a cidata volume or https']
          : [],
        load: () => loadSeed(isRemote(seed) ? seed : `${local(host, seed)}/`, `NoCloud seed ${redactUrl(seed)}`),
      };
    },
  },
  {
    name: 'ignition-fw-cfg',
    why: 'QEMU passes Ignition configs as the fw_cfg blob opt/com.coreos/config (as for Fedora CoreOS and Flatcar)',
    async find(host) {
      const data = await host.fwCfg('opt/com.coreos/config');
      if (data === undefined) return undefined;
      return {
        provider: 'ignition-fw-cfg',
        location: 'fw_cfg opt/com.coreos/config',
        needsNetwork: false,
        warnings: [],
        load: async () => ({ kind: 'ignition', userData: { name: 'fw_cfg:opt/com.coreos/config', data } }),
      };
    },
  },
  {
    name: 'ignition-cmdline',
    why: 'ignition.config.url=<url> on the kernel command line, as Ignition itself reads it',
    async find(host, cmdline) {
      const url = cmdlineValue(cmdline, 'ignition.config.url');
      if (!url) return undefined;
      return {
        provider: 'ignition-cmdline',
        location: `ignition.config.url=${redactUrl(url)}`,
        needsNetwork: isRemote(url),
        warnings: url.startsWith('http://')
          ? ['the Ignition config is fetched over plain http without a pinned hash; prefer kiln.config=<url> with kiln.config.hash=']
          : [],
        load: async () => ({
          kind: 'ignition',
          userData: { name: 'ignition.config.url', data: (await fetchBytes(isRemote(url) ? url : local(host, url)))! },
        }),
      };
    },
  },
  {
    name: 'nocloud-volume',
    why: 'a volume labelled cidata (ISO 9660 or vfat) with user-data, meta-data and network-config: cloud-localds, libvirt, Proxmox',
    async find(host) {
      const device = await host.volumeByLabel(CIDATA_LABELS);
      if (!device) return undefined;
      return {
        provider: 'nocloud-volume',
        location: `volume ${device}`,
        needsNetwork: false,
        warnings: [],
        load: async () => {
          const mounted = await host.mountReadOnly(device);
          return loadSeed(mounted.dir, `volume ${device}`, { release: mounted.release });
        },
      };
    },
  },
  {
    name: 'nocloud-seed-dir',
    why: "cloud-init's seed directory /var/lib/cloud/seed/nocloud(-net), for configs baked into an image or copied in",
    async find(host) {
      for (const name of ['nocloud', 'nocloud-net']) {
        const dir = path.join(host.root, 'var/lib/cloud/seed', name);
        // found by name only: loadSeed reads the files (and says what is missing)
        if ((await exists(path.join(dir, 'meta-data'))) || (await exists(path.join(dir, 'user-data'))))
          return {
            provider: 'nocloud-seed-dir',
            location: `/var/lib/cloud/seed/${name}`,
            needsNetwork: false,
            warnings: [],
            load: () => loadSeed(dir, `seed directory /var/lib/cloud/seed/${name}`),
          };
      }
      return undefined;
    },
  },
];

export const NO_SOURCE_HINT =
  'looked at: kiln.config= on the kernel command line, the seed install carried (/var/lib/kiln/install/seed), ds=nocloud;s= on the kernel command line, fw_cfg opt/com.coreos/config, ignition.config.url=, a volume labelled cidata, /var/lib/cloud/seed/nocloud; give the node one of these';

/** The first provider that finds a source, or undefined: "no source" is an outcome of its own. */
export async function findSource(host: Host, cmdline: Cmdline, providers = PROVIDERS): Promise<FoundSource | undefined> {
  for (const provider of providers) {
    const found = await provider.find(host, cmdline);
    if (found) return found;
  }
  return undefined;
}
