// Fills every optional field, so later stages read one fully resolved spec and never guess.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ImageSpec, SliceSettings, JournaldSettings } from './schema.ts';
import type { KubeletDefaults } from '../../node/config/kubelet-defaults.ts';
import { pauseImageFor } from '../rootfs/kubernetes.ts';
import { packagesFor } from '../rootfs/packages.ts';
import { DEFAULT_SHIPPED_MODULES, type ShippedModules } from '../rootfs/modules.ts';

const DEFAULT_SYSCTLS: Record<string, string | number> = {
  'net.ipv4.ip_forward': 1,
  'net.ipv6.conf.all.forwarding': 1,
  // keepalived and services bind VIPs this node may not hold yet
  'net.ipv4.ip_nonlocal_bind': 1,
  'net.ipv6.ip_nonlocal_bind': 1,
  'net.bridge.bridge-nf-call-iptables': 1,
  'net.bridge.bridge-nf-call-ip6tables': 1,
  'fs.inotify.max_user_watches': 524288,
  'fs.inotify.max_user_instances': 8192,
  // what kubelet's protectKernelDefaults expects
  'vm.overcommit_memory': 1,
  'vm.panic_on_oom': 0,
  'kernel.panic': 10,
  'kernel.panic_on_oops': 1,
};

const DEFAULT_MODULES = ['overlay', 'br_netfilter'];

const DEFAULT_SLICES: Record<'kubesvc' | 'container' | 'system', SliceSettings> = {
  kubesvc: { cpuWeight: 200, memoryLow: '256M' },
  container: { cpuWeight: 100, memoryHigh: '85%', memoryMax: '90%' },
  system: { cpuWeight: 100 },
};

const DEFAULT_JOURNALD: JournaldSettings = {
  storage: 'persistent',
  systemMaxUse: '2G',
  systemKeepFree: '1G',
  systemMaxFileSize: '128M',
  rateLimitIntervalSec: '30s',
  rateLimitBurst: 10000,
};

export const DEFAULT_KUBELET: KubeletDefaults = {
  maxPods: 110,
  systemReserved: { cpu: '250m', memory: '512Mi' },
  kubeReserved: { cpu: '250m', memory: '512Mi' },
  evictionHard: { 'memory.available': '256Mi', 'nodefs.available': '10%', 'nodefs.inodesFree': '5%', 'imagefs.available': '15%' },
  imageGCHighThresholdPercent: 85,
  imageGCLowThresholdPercent: 80,
  nodeStatusUpdateFrequency: '10s',
};

export interface ResolvedSpec {
  file: string;
  dir: string;
  /** sha256 of the canonical resolved spec: names outputs and seeds UUIDs. */
  hash: string;
  name: string;
  sourceDateEpoch: number;
  base: { distro: 'debian'; suite: string; arch: 'amd64'; mirror?: string; components: string[] };
  packages: string[];
  runtime: { engine: 'containerd' | 'docker'; sandboxImage: string; docker: { hosts: string[]; metricsAddress: string; logTag: string } };
  kubernetes: { version: string; components: string[]; source?: { release: string } | { bundle: string } | { apt: AptSource } };
  /** Further tools to bake in, each with the checksum it is verified against. */
  binaries: ResolvedBinarySpec[];
  /** Container images to bake in, and registry mirrors for containerd. */
  images: {
    preload: Array<{ ref: string; from: string; tlsVerify: boolean }>;
    kubernetes?: { pullFrom?: string; tlsVerify: boolean };
    mirrors: Array<{ host: string; endpoints: string[]; skipVerify: boolean }>;
  };
  /** Catalogue addons baked in (chart pinned by sha256 when given). */
  addons: Array<{ name: string; sha256?: string; repository?: string }>;
  node: {
    slices: typeof DEFAULT_SLICES;
    sysctls: Array<[string, string]>;
    kernelModules: string[];
    shippedModules: ShippedModules;
    journald: JournaldSettings;
    kubelet: KubeletDefaults;
  };
  overlays: Array<{ path: string }>;
  boot: { cmdline: string[]; console: 'serial' | 'vga' | 'both'; serialSpeed: number; timeout: number };
  disk: { size?: string };
  pxe: { baseUrl: string };
  /** Key files as the spec names them (relative to `dir`: the hash must not depend on where the spec lives). */
  update: { signingKey?: string; trustedKeys: string[] };
  outputs: string[];
}

export interface AptSource {
  url: string;
  suite: string;
  components: string[];
  /** The signing key, relative to the spec's directory. */
  key: string;
}

export interface ResolvedBinarySpec {
  name: string;
  /** Absolute path in the image. */
  path: string;
  from: { url: string } | { file: string };
  checksum: { sha256: string } | { sha256Url: string };
  extract?: string;
}

function sourceOf(src: NonNullable<ImageSpec['kubernetes']['source']>): NonNullable<ResolvedSpec['kubernetes']['source']> {
  if (src.release !== undefined) return { release: src.release };
  if (src.bundle !== undefined) return { bundle: src.bundle };
  const apt = src.apt!;
  return { apt: { url: apt.url, suite: apt.suite ?? '/', components: apt.components ?? [], key: apt.key } };
}

export function applyDefaults(spec: ImageSpec, file: string): ResolvedSpec {
  const sysctls = { ...DEFAULT_SYSCTLS, ...(spec.node?.sysctls ?? {}) };
  const resolved: Omit<ResolvedSpec, 'hash'> = {
    file,
    dir: path.dirname(path.resolve(file)),
    name: spec.name,
    sourceDateEpoch: spec.sourceDateEpoch,
    base: { ...spec.base, components: spec.base.components ?? ['main'] },
    packages: packagesFor(spec),
    runtime: {
      engine: spec.runtime?.engine ?? 'containerd',
      sandboxImage: spec.runtime?.sandboxImage ?? pauseImageFor(spec.kubernetes.version) ?? '',
      docker: {
        // fd:// is docker.socket's socket activation, as Debian ships it
        hosts: spec.runtime?.docker?.hosts ?? ['fd://'],
        metricsAddress: spec.runtime?.docker?.metricsAddress ?? '127.0.0.1:9323',
        logTag: spec.runtime?.docker?.logTag ?? '{{.Name}}/{{.ID}}',
      },
    },
    kubernetes: {
      version: spec.kubernetes.version,
      components: [...spec.kubernetes.components].sort(),
      ...(spec.kubernetes.source ? { source: sourceOf(spec.kubernetes.source) } : {}),
    },
    binaries: (spec.binaries ?? []).map((b) => ({
      name: b.name,
      path: b.path ?? `/usr/local/bin/${b.name}`,
      from: b.url !== undefined ? { url: b.url } : { file: b.file! },
      checksum: b.sha256 !== undefined ? { sha256: b.sha256.toLowerCase() } : { sha256Url: b.sha256Url! },
      ...(b.extract !== undefined ? { extract: b.extract } : {}),
    })),
    images: {
      preload: (spec.images?.preload ?? []).map((p) => ({ ref: p.ref, from: p.from ?? p.ref, tlsVerify: p.tlsVerify ?? true })),
      ...(spec.images?.kubernetes
        ? {
            kubernetes: {
              ...(spec.images.kubernetes.pullFrom ? { pullFrom: spec.images.kubernetes.pullFrom } : {}),
              tlsVerify: spec.images.kubernetes.tlsVerify ?? true,
            },
          }
        : {}),
      mirrors: (spec.images?.mirrors ?? []).map((m) => ({ host: m.host, endpoints: m.endpoints, skipVerify: m.skipVerify ?? false })),
    },
    addons: (spec.addons ?? []).map((a) => ({
      name: a.name,
      ...(a.sha256 ? { sha256: a.sha256.toLowerCase() } : {}),
      ...(a.repository ? { repository: a.repository } : {}),
    })),
    node: {
      slices: {
        kubesvc: { ...DEFAULT_SLICES.kubesvc, ...spec.node?.slices?.kubesvc },
        container: { ...DEFAULT_SLICES.container, ...spec.node?.slices?.container },
        system: { ...DEFAULT_SLICES.system, ...spec.node?.slices?.system },
      },
      sysctls: Object.entries(sysctls)
        .filter((e): e is [string, string | number] => e[1] !== null)
        .map(([k, v]) => [k, String(v)] as [string, string])
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      kernelModules: [...new Set([...DEFAULT_MODULES, ...(spec.node?.kernelModules ?? [])])],
      shippedModules: {
        profile: spec.node?.shippedModules?.profile ?? DEFAULT_SHIPPED_MODULES.profile,
        drop: spec.node?.shippedModules?.drop ?? [],
        keep: spec.node?.shippedModules?.keep ?? [],
      },
      journald: { ...DEFAULT_JOURNALD, ...spec.node?.journald },
      kubelet: { ...DEFAULT_KUBELET, ...spec.node?.kubelet },
    },
    overlays: spec.overlays ?? [],
    boot: {
      cmdline: spec.boot?.cmdline ?? [],
      console: spec.boot?.console ?? 'both',
      serialSpeed: spec.boot?.serialSpeed ?? 115200,
      timeout: spec.boot?.timeout ?? 1,
    },
    disk: { ...(spec.disk?.size ? { size: spec.disk.size } : {}) },
    // ${next-server} is iPXE's own variable: the TFTP/DHCP server that handed out boot.ipxe
    pxe: { baseUrl: spec.pxe?.baseUrl ?? `http://\${next-server}/kiln/${spec.name}` },
    update: {
      ...(spec.update?.signingKey ? { signingKey: spec.update.signingKey } : {}),
      trustedKeys: spec.update?.trustedKeys ?? [],
    },
    outputs: spec.outputs.map((o) => o.format),
  };
  // file/dir are where the spec lives, not what it says: keep them out of the hash.
  const { file: _f, dir: _d, ...content } = resolved;
  return { ...resolved, hash: sha256(canonicalJson(content)) };
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
