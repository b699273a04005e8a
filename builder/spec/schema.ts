// The image spec schema: one TypeBox definition gives the TypeScript type, the validator and the
// JSON Schema that `kiln schema image` exports for editors.
import { Type, type Static } from '@sinclair/typebox';
import { REF_PATTERN } from '../images/refs.ts';
import { OUTPUT_FORMATS } from '../outputs/format-names.ts';
import { hinted, Strict, recordOf } from '../../core/schema.ts';
import { KubeletDefaults } from '../../node/config/kubelet-defaults.ts';

export const API_VERSION = 'kiln.dev/v1alpha1';
const KIND = 'Image';

// Sizes as systemd's config_parse_iec_size reads them; journald does not take percentages.
const IecSize = hinted(
  Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?[KMGTPE]?$', description: 'bytes with an optional K, M, G, T, P or E suffix (base 1024)' }),
  'use a size such as 512M or 2G; journald rejects percentages (20% of a 10G /var is 2G)',
);
// MemoryMax=/MemoryHigh= accept a size, a percentage of physical memory, or "infinity".
const MemoryLimit = hinted(
  Type.String({ pattern: '^([0-9]+[KMGT]?|[0-9]{1,2}(\\.[0-9]+)?%|100%|infinity)$', description: 'cgroup v2 memory limit' }),
  'use a size (4G), a percentage of RAM (80%) or "infinity"',
);
const CpuWeight = hinted(
  Type.Union([Type.Integer({ minimum: 1, maximum: 10000 }), Type.Literal('idle')]),
  'CPUWeight= is an integer from 1 to 10000 (default 100) or "idle"',
);
const TimeSpan = hinted(Type.String({ pattern: '^[0-9]+(us|ms|s|min|h|d|w)?$' }), 'use a systemd time span such as 30s, 5min or 1h');

const Slice = Type.Object(
  {
    memoryHigh: Type.Optional(MemoryLimit),
    memoryMax: Type.Optional(MemoryLimit),
    memoryLow: Type.Optional(MemoryLimit),
    cpuWeight: Type.Optional(CpuWeight),
    tasksMax: Type.Optional(
      hinted(Type.Union([Type.Integer({ minimum: 1 }), Type.Literal('infinity')]), 'a positive integer or "infinity"'),
    ),
  },
  { ...Strict, description: 'cgroup v2 resource settings for a systemd slice' },
);

const Base = Type.Object(
  {
    distro: hinted(Type.Literal('debian'), 'kiln builds Debian-based images; use "debian"'),
    suite: hinted(Type.Union([Type.Literal('bookworm'), Type.Literal('trixie')]), 'supported suites: bookworm, trixie'),
    arch: hinted(Type.Literal('amd64'), 'only amd64 images are supported'),
    mirror: Type.Optional(
      hinted(
        Type.String({ pattern: '^(https?|file)://\\S+$', format: 'kiln-url' }),
        'an http(s):// or file:// URL, e.g. http://snapshot.debian.org/archive/debian/20250520T000000Z',
      ),
    ),
    components: Type.Optional(
      Type.Array(
        hinted(
          Type.Union([Type.Literal('main'), Type.Literal('contrib'), Type.Literal('non-free'), Type.Literal('non-free-firmware')]),
          'one of main, contrib, non-free, non-free-firmware',
        ),
        { uniqueItems: true },
      ),
    ),
  },
  Strict,
);

const PackageName = hinted(
  Type.String({ pattern: '^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?$' }),
  'a Debian package name, optionally pinned as name=version',
);

const Docker = Type.Object(
  {
    hosts: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    metricsAddress: Type.Optional(
      hinted(
        Type.String({ pattern: '^(127\\.0\\.0\\.1|\\[::1\\]|localhost):[0-9]{1,5}$' }),
        'metrics stay on loopback, e.g. 127.0.0.1:9323',
      ),
    ),
    logTag: Type.Optional(Type.String({ minLength: 1 })),
  },
  Strict,
);

const Runtime = Type.Object(
  {
    engine: hinted(
      Type.Union([Type.Literal('containerd'), Type.Literal('docker')]),
      'containerd (default) or docker (docker.io on top of containerd)',
    ),
    sandboxImage: Type.Optional(
      hinted(
        Type.String({ pattern: '^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9/._-]+:[A-Za-z0-9._-]+$' }),
        'a full image reference such as registry.k8s.io/pause:3.10',
      ),
    ),
    docker: Type.Optional(Docker),
  },
  Strict,
);

const Component = hinted(
  Type.Union([Type.Literal('kubelet'), Type.Literal('kubeadm'), Type.Literal('kubectl')]),
  'components are kubelet, kubeadm and kubectl',
);
const Sha256 = hinted(Type.String({ pattern: '^[0-9a-fA-F]{64}$' }), "the file's SHA-256 as 64 hex digits (what sha256sum prints)");
const FetchUrl = hinted(Type.String({ pattern: '^(https?|file)://[^\\s]+$' }), 'an http://, https:// or file:// URL');

// Where kubeadm, kubelet and kubectl come from; every file is checked against its published SHA-256.
const KubernetesSource = Type.Object(
  {
    release: Type.Optional(
      hinted(
        Type.String({ pattern: '^(https?|file)://[^\\s]+[^/\\s]$' }),
        "the release tree's base URL without a trailing slash, e.g. https://dl.k8s.io/release",
      ),
    ),
    bundle: Type.Optional(
      hinted(Type.String({ minLength: 1 }), 'a directory or .tar/.tar.gz next to the spec holding the binaries and a SHA256SUMS list'),
    ),
    apt: Type.Optional(
      Type.Object(
        {
          url: hinted(
            Type.String({ pattern: '^https?://[^\\s]+$' }),
            'the repository URL, e.g. https://pkgs.k8s.io/core:/stable:/v1.31/deb/',
          ),
          suite: Type.Optional(
            hinted(
              Type.String({ pattern: '^[^\\s]+$' }),
              '"/" for a flat repository such as pkgs.k8s.io (the default), else the suite name',
            ),
          ),
          components: Type.Optional(Type.Array(Type.String({ pattern: '^[a-z0-9][a-z0-9._-]*$' }))),
          key: hinted(
            Type.String({ minLength: 1 }),
            "the repository's ASCII-armored signing key, relative to the spec (pkgs.k8s.io's Release.key)",
          ),
        },
        { ...Strict, description: 'an apt repository whose signed packages install kubeadm, kubelet and kubectl at the spec version' },
      ),
    ),
  },
  { ...Strict, description: 'exactly one of release, bundle or apt' },
);

const Kubernetes = Type.Object(
  {
    version: hinted(Type.String({ pattern: '^v1\\.[0-9]+\\.[0-9]+$' }), 'a full release such as v1.31.4'),
    components: Type.Array(Component, { uniqueItems: true, minItems: 1 }),
    source: Type.Optional(KubernetesSource),
  },
  Strict,
);

// A further tool baked in (crictl, helm, the Cilium CLI): a file or an archive member, checksummed.
const Binary = Type.Object(
  {
    name: hinted(Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' }), 'the command name, e.g. crictl'),
    url: Type.Optional(FetchUrl),
    file: Type.Optional(hinted(Type.String({ minLength: 1 }), 'a path relative to the spec file')),
    sha256: Type.Optional(Sha256),
    sha256Url: Type.Optional(FetchUrl),
    extract: Type.Optional(
      hinted(Type.String({ pattern: '^[^/][^\\s]*$' }), 'the member path inside a .tar, .tar.gz or .tgz, e.g. linux-amd64/helm'),
    ),
    path: Type.Optional(
      hinted(
        // no . or .. component: /usr/local/bin/../../etc/cron.d/x would land outside
        Type.String({ pattern: '^/(usr/local/bin|usr/bin|usr/local/sbin|usr/sbin|opt)(/(?!\\.\\.?(/|$))[A-Za-z0-9._+@-]+)+$' }),
        'an absolute path under /usr/local/bin, /usr/bin, /usr/sbin or /opt, without . or .. components',
      ),
    ),
  },
  { ...Strict, description: 'one of url or file, and the SHA-256 of what it names (sha256, or sha256Url for a published checksum file)' },
);

const ImageRefString = hinted(
  Type.String({ pattern: REF_PATTERN }),
  'a full reference: registry host, repository and a tag or digest, e.g. registry.k8s.io/pause:3.10',
);

// Images baked in for air-gapped sites, and mirrors containerd tries for everything else.
const ContainerImages = Type.Object(
  {
    preload: Type.Optional(
      Type.Array(
        Type.Object(
          {
            ref: ImageRefString,
            from: Type.Optional(
              hinted(
                Type.String({ pattern: REF_PATTERN }),
                'where to pull it from when not from ref itself (a mirror); the image keeps the name ref',
              ),
            ),
            tlsVerify: Type.Optional(hinted(Type.Boolean(), 'false only for a plain-HTTP or self-signed registry you trust')),
          },
          Strict,
        ),
      ),
    ),
    kubernetes: Type.Optional(
      Type.Object(
        {
          pullFrom: Type.Optional(
            hinted(
              Type.String({ pattern: '^[a-zA-Z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)*$' }),
              'a mirror of registry.k8s.io with the same paths below it, e.g. registry.lab.internal:5000/k8s',
            ),
          ),
          tlsVerify: Type.Optional(Type.Boolean()),
        },
        { ...Strict, description: 'preload the images `kubeadm config images list` prints for kubernetes.version' },
      ),
    ),
    mirrors: Type.Optional(
      Type.Array(
        Type.Object(
          {
            host: hinted(
              Type.String({ pattern: '^[a-zA-Z0-9.-]+(:[0-9]+)?$' }),
              'the registry host the images name, e.g. docker.io or registry.k8s.io',
            ),
            endpoints: Type.Array(hinted(Type.String({ pattern: '^https?://[^\\s/]+(/[^\\s]*)?$' }), 'an http:// or https:// mirror URL'), {
              minItems: 1,
            }),
            skipVerify: Type.Optional(Type.Boolean()),
          },
          Strict,
        ),
      ),
    ),
  },
  Strict,
);

const Journald = Type.Object(
  {
    storage: Type.Optional(
      hinted(
        Type.Union([Type.Literal('persistent'), Type.Literal('volatile'), Type.Literal('auto')]),
        'persistent keeps logs across reboots',
      ),
    ),
    systemMaxUse: Type.Optional(IecSize),
    systemKeepFree: Type.Optional(IecSize),
    systemMaxFileSize: Type.Optional(IecSize),
    runtimeMaxUse: Type.Optional(IecSize),
    rateLimitIntervalSec: Type.Optional(TimeSpan),
    rateLimitBurst: Type.Optional(Type.Integer({ minimum: 0 })),
    maxRetentionSec: Type.Optional(TimeSpan),
    compress: Type.Optional(Type.Boolean()),
    forwardToSyslog: Type.Optional(Type.Boolean()),
  },
  Strict,
);

// A directory of the kernel's module tree (relative to lib/modules/VERSION/kernel/); never a glob,
// an absolute path or "..": it becomes a dpkg path filter.
const ModuleDir = hinted(
  Type.String({ pattern: '^[a-z0-9_][a-z0-9_+-]*(/[a-z0-9_][a-z0-9_+-]*)*$', maxLength: 200 }),
  'a directory under the kernel module tree such as drivers/gpu or sound (no leading /, no globs)',
);
const ShippedModules = Type.Object(
  {
    profile: Type.Optional(
      hinted(
        Type.Union([Type.Literal('server'), Type.Literal('all')]),
        'server leaves out sound, media, DRM, wireless and the like; all ships every module',
      ),
    ),
    drop: Type.Optional(Type.Array(ModuleDir, { uniqueItems: true, description: 'more module directories to leave out' })),
    keep: Type.Optional(
      Type.Array(ModuleDir, {
        uniqueItems: true,
        description: 'directories the profile or drop leaves out that this image carries anyway',
      }),
    ),
  },
  { ...Strict, description: "which of the kernel's modules the image carries (node.kernelModules are the ones loaded at boot)" },
);

const Node = Type.Object(
  {
    slices: Type.Optional(
      Type.Object({ kubesvc: Type.Optional(Slice), container: Type.Optional(Slice), system: Type.Optional(Slice) }, Strict),
    ),
    sysctls: Type.Optional(
      recordOf(
        '^[a-z0-9_]+(\\.[a-zA-Z0-9_*-]+)+$',
        'a sysctl name such as net.ipv4.ip_forward',
        hinted(
          Type.Union([Type.String({ minLength: 1, pattern: '^[^\\n]*$' }), Type.Number(), Type.Null()]),
          'a single-line value, or null to drop a default',
        ),
        { description: 'merged over the defaults; null removes a default' },
      ),
    ),
    kernelModules: Type.Optional(
      Type.Array(hinted(Type.String({ pattern: '^[a-z0-9_-]+$' }), 'a kernel module name such as br_netfilter'), { uniqueItems: true }),
    ),
    shippedModules: Type.Optional(ShippedModules),
    journald: Type.Optional(Journald),
    kubelet: Type.Optional(KubeletDefaults),
  },
  Strict,
);

const Overlay = Type.Object(
  {
    path: Type.String({
      minLength: 1,
      description: 'a directory, relative to the spec file, copied over the rootfs; *.hbs files are rendered',
    }),
  },
  Strict,
);

const KernelArg = hinted(
  Type.String({ pattern: '^[A-Za-z0-9_.:,/=+@-]+$' }),
  'one kernel argument without spaces or quotes, e.g. quiet or systemd.show_status=1',
);
const Boot = Type.Object(
  {
    cmdline: Type.Optional(Type.Array(KernelArg, { description: 'extra kernel arguments, after the ones kiln sets' })),
    console: Type.Optional(
      hinted(
        Type.Union([Type.Literal('serial'), Type.Literal('vga'), Type.Literal('both')]),
        'serial (ttyS0), vga (tty0) or both (serial is the primary console)',
      ),
    ),
    serialSpeed: Type.Optional(
      hinted(Type.Union([9600, 19200, 38400, 57600, 115200].map((n) => Type.Literal(n))), 'a standard baud rate such as 115200'),
    ),
    timeout: Type.Optional(Type.Integer({ minimum: 0, maximum: 60, description: 'seconds the GRUB menu waits' })),
  },
  Strict,
);

const Disk = Type.Object(
  {
    size: Type.Optional(
      hinted(
        Type.String({ pattern: '^[0-9]+[MG]$' }),
        'a size such as 4G or 3072M; the root partition grows to fill the real disk on first boot',
      ),
    ),
  },
  Strict,
);

const Pxe = Type.Object(
  {
    baseUrl: Type.Optional(
      hinted(
        Type.String({ pattern: '^https?://\\S+[^/]$' }),
        'where the PXE bundle is served, without a trailing slash; iPXE settings such as ${next-server} are allowed',
      ),
    ),
  },
  Strict,
);

// Key files named by the spec, relative to it: the signing key never enters an image.
const KeyFile = hinted(
  Type.String({ minLength: 1, maxLength: 1024, pattern: '^[^\\n]*$' }),
  'a key file kiln keygen wrote, relative to the spec',
);
const Update = Type.Object(
  {
    signingKey: Type.Optional(KeyFile),
    trustedKeys: Type.Optional(Type.Array(KeyFile, { minItems: 1, maxItems: 16, uniqueItems: true })),
  },
  {
    ...Strict,
    description:
      "signingKey (NAME.key) signs the update output; trustedKeys (NAME.pub) are baked in as the keys whose bundles the node accepts (default: the signing key's public half)",
  },
);

const Output = Type.Object(
  {
    format: hinted(Type.Union(OUTPUT_FORMATS.map((f) => Type.Literal(f))), `known output formats: ${OUTPUT_FORMATS.join(', ')}`),
  },
  Strict,
);

export const ImageSpecSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    apiVersion: hinted(Type.Literal(API_VERSION), `set apiVersion: ${API_VERSION}`),
    kind: hinted(Type.Literal(KIND), `set kind: ${KIND}`),
    name: hinted(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }), 'lower-case letters, digits and dashes'),
    sourceDateEpoch: hinted(
      // FAT (the ESP) dates end in 2107, and the tools' own limits come soon after: 2099 is safe everywhere
      Type.Integer({ minimum: 315532800, maximum: 4102444799 }),
      'seconds since 1970, e.g. the date of the release you pin; from 1980 (zip/FAT epoch) to the end of 2099',
    ),
    base: Base,
    packages: Type.Optional(Type.Array(PackageName, { uniqueItems: true })),
    runtime: Type.Optional(Runtime),
    kubernetes: Kubernetes,
    binaries: Type.Optional(Type.Array(Binary)),
    images: Type.Optional(ContainerImages),
    addons: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: hinted(
              Type.String({ pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' }),
              "an addon of kiln's catalogue (addons/), e.g. metrics-server",
            ),
            sha256: Type.Optional(Sha256),
            repository: Type.Optional(
              hinted(
                Type.String({ pattern: '^(https?|file)://[^\\s]+[^/\\s]$' }),
                "a mirror of the addon's chart repository (same index.yaml), without a trailing slash",
              ),
            ),
          },
          { ...Strict, description: 'an addon whose chart and images are baked in; sha256 pins the chart archive' },
        ),
      ),
    ),
    node: Type.Optional(Node),
    overlays: Type.Optional(Type.Array(Overlay)),
    boot: Type.Optional(Boot),
    disk: Type.Optional(Disk),
    pxe: Type.Optional(Pxe),
    update: Type.Optional(Update),
    outputs: Type.Array(Output, { minItems: 1 }),
  },
  { ...Strict, $id: 'https://kiln.dev/schemas/image.json', title: 'kiln image spec' },
);

export type ImageSpec = Static<typeof ImageSpecSchema>;
export type SliceSettings = Static<typeof Slice>;
export type JournaldSettings = Static<typeof Journald>;
