// Checks the schema cannot express, as a table: each rule looks at the spec and reports problems.
import { isNodeHelm } from '../../node/layout.ts';
import type { Rule } from '../../core/rules.ts';
import type { ImageSpec } from './schema.ts';
import { pauseImageFor } from '../rootfs/kubernetes.ts';
import { DEFAULT_KUBELET } from './defaults.ts';
import { hasRegistryHost, parseImageRef } from '../images/refs.ts';
import { droppedDirs } from '../rootfs/modules.ts';

/** A MemoryHigh=/MemoryMax= value as [unit, amount], so like compares with like: bytes or % of RAM ("infinity": undefined). */
const amount = (v: string | undefined): [unit: string, n: number] | undefined => {
  const m = v === undefined ? null : /^([0-9.]+)([KMGT%]?)$/.exec(v);
  if (!m) return undefined;
  return m[2] === '%' ? ['%', Number(m[1])] : ['B', Number(m[1]) * 1024 ** ' KMGT'.indexOf(m[2] || ' ')];
};

const rules: Array<Rule<ImageSpec>> = [
  {
    name: 'docker-no-tcp',
    check: (s) =>
      (s.runtime?.docker?.hosts ?? []).flatMap((h, i) =>
        /^(tcp|http):\/\//.test(h) || /^[^/]*:[0-9]+$/.test(h) // dockerd reads a bare [host]:port as tcp://
          ? [
              {
                path: `/runtime/docker/hosts/${i}`,
                message: `"${h}" opens dockerd on an unauthenticated TCP socket`,
                hint: 'anyone who reaches that port is root on the node; use fd:// (socket activation, the default) or unix:///run/docker.sock, and ssh:// contexts for remote access',
              },
            ]
          : /^(unix|fd):\/\//.test(h)
            ? []
            : [
                {
                  path: `/runtime/docker/hosts/${i}`,
                  message: `"${h}" is not a socket address dockerd accepts here`,
                  hint: 'use unix:///run/docker.sock or fd://',
                },
              ],
      ),
  },
  {
    name: 'docker-settings-need-docker',
    check: (s) =>
      s.runtime?.docker && s.runtime.engine !== 'docker'
        ? [
            {
              path: '/runtime/docker',
              message: 'docker settings given but engine is not docker',
              hint: 'set runtime.engine: docker, or remove runtime.docker',
            },
          ]
        : [],
  },
  {
    name: 'sandbox-image-known',
    check: (s) =>
      s.runtime?.sandboxImage || !/^v1\.[0-9]+\.[0-9]+$/.test(String(s.kubernetes.version)) || pauseImageFor(s.kubernetes.version)
        ? []
        : [
            {
              path: '/kubernetes/version',
              message: `kiln does not know the pause image of Kubernetes ${s.kubernetes.version}`,
              hint: 'set runtime.sandboxImage to what `kubeadm config images list` prints for this version',
            },
          ],
  },
  {
    name: 'kubelet-needs-kubeadm',
    check: (s) =>
      s.kubernetes.components.includes('kubelet') && !s.kubernetes.components.includes('kubeadm')
        ? [{ path: '/kubernetes/components', message: 'kubelet without kubeadm', hint: 'kiln nodes join with kubeadm; add kubeadm' }]
        : [],
  },
  {
    name: 'image-gc-order',
    check: (s) => {
      // Compare what kubelet will get: a threshold left out takes the default (high 85, low 80).
      const { imageGCLowThresholdPercent: low, imageGCHighThresholdPercent: high } = { ...DEFAULT_KUBELET, ...s.node?.kubelet };
      return low !== undefined && high !== undefined && low >= high
        ? [
            {
              path: '/node/kubelet/imageGCLowThresholdPercent',
              message: `must be lower than imageGCHighThresholdPercent (${low} ≥ ${high})`,
              hint: 'kubelet refuses to start otherwise; e.g. 80 and 85',
            },
          ]
        : [];
    },
  },
  {
    name: 'memory-high-below-max',
    check: (s) =>
      Object.entries(s.node?.slices ?? {}).flatMap(([name, sl]) => {
        const [high, max] = [amount(sl?.memoryHigh), amount(sl?.memoryMax)];
        return high !== undefined && max !== undefined && high[0] === max[0] && high[1] > max[1]
          ? [
              {
                path: `/node/slices/${name}/memoryHigh`,
                message: `memoryHigh (${sl?.memoryHigh}) is above memoryMax (${sl?.memoryMax})`,
                hint: 'MemoryHigh throttles before MemoryMax kills; keep it lower',
              },
            ]
          : [];
      }),
  },
  {
    name: 'forwarding-stays-on',
    check: (s) =>
      ['net.ipv4.ip_forward', 'net.bridge.bridge-nf-call-iptables'].flatMap((k) =>
        s.node?.sysctls && k in s.node.sysctls && String(s.node.sysctls[k]) !== '1'
          ? [
              {
                path: `/node/sysctls/${k.replace(/\//g, '~1')}`,
                message: `${k} must stay 1 on a Kubernetes node`,
                hint: 'pod networking needs it; remove the override',
              },
            ]
          : [],
      ),
  },
  {
    name: 'kubernetes-source-one-of',
    check: (s) => {
      const src = s.kubernetes.source;
      if (!src) return [];
      const given = (['release', 'bundle', 'apt'] as const).filter((k) => src[k] !== undefined);
      return given.length === 1
        ? []
        : [
            {
              path: '/kubernetes/source',
              message: given.length ? `${given.join(' and ')} given` : 'none of release, bundle or apt given',
              hint: 'name one origin: release: https://dl.k8s.io/release, bundle: ./kubernetes-bundle, or apt: {url, key}',
            },
          ];
    },
  },
  {
    name: 'binary-origin-and-checksum',
    check: (s) =>
      (s.binaries ?? []).flatMap((b, i) => {
        const at = `/binaries/${i}`;
        if ((b.url === undefined) === (b.file === undefined))
          return [
            {
              path: at,
              message: b.url ? 'both url and file given' : 'neither url nor file given',
              hint: 'a binary comes from one url or one local file',
            },
          ];
        if (b.file !== undefined && b.sha256 === undefined)
          return [
            {
              path: `${at}/sha256`,
              message: 'a local file needs its sha256',
              hint: 'run sha256sum on the file you mean to ship and put the 64 hex digits here',
            },
          ];
        if (b.sha256 === undefined && b.sha256Url === undefined)
          return [
            {
              path: at,
              message: `no checksum for ${b.name}`,
              hint: 'give sha256 (64 hex digits) or sha256Url (the checksum file published beside the download)',
            },
          ];
        if (b.sha256 !== undefined && b.sha256Url !== undefined)
          return [
            {
              path: `${at}/sha256Url`,
              message: 'both sha256 and sha256Url given',
              hint: 'keep one: a pinned sha256 is the stronger of the two',
            },
          ];
        return [];
      }),
  },
  {
    name: 'binary-paths-unique',
    check: (s) => {
      const taken = new Map<string, string>([['/usr/bin/kiln-firstboot', 'kiln-firstboot']]);
      if (s.kubernetes.source) for (const c of s.kubernetes.components) taken.set(`/usr/bin/${c}`, `kubernetes.components (${c})`);
      return (s.binaries ?? []).flatMap((b, i) => {
        const dest = b.path ?? `/usr/local/bin/${b.name}`;
        const owner = taken.get(dest);
        taken.set(dest, `binaries/${i}`);
        return owner
          ? [
              {
                path: `/binaries/${i}${b.path ? '/path' : '/name'}`,
                message: `${dest} is already installed by ${owner}`,
                hint: 'give this binary another name or path',
              },
            ]
          : [];
      });
    },
  },
  {
    name: 'image-refs-pinned',
    check: (s) =>
      (s.images?.preload ?? []).flatMap((p, i) => {
        const at = `/images/preload/${i}/ref`;
        if (!hasRegistryHost(p.ref))
          return [
            {
              path: at,
              message: `"${p.ref}" does not name its registry`,
              hint: 'write the registry out (docker.io/library/nginx:1.27): containerd and kubelet must find the image under that exact name',
            },
          ];
        const parsed = parseImageRef(p.ref);
        if (parsed && !parsed.tag && !parsed.digest)
          return [
            {
              path: at,
              message: `"${p.ref}" has neither tag nor digest`,
              hint: 'add the tag the manifests use (:v1.2.3) or a digest (@sha256:…); an implicit latest does not reproduce',
            },
          ];
        const first = (s.images?.preload ?? []).findIndex((q) => q.ref === p.ref);
        return first !== i
          ? [{ path: at, message: `"${p.ref}" is listed twice (also /images/preload/${first})`, hint: 'list each image once' }]
          : [];
      }),
  },
  {
    name: 'kubernetes-images-need-kubeadm',
    check: (s) =>
      s.images?.kubernetes && (!s.kubernetes.source || s.kubernetes.source.apt || !s.kubernetes.components.includes('kubeadm'))
        ? [
            {
              path: '/images/kubernetes',
              message:
                'the control-plane images are listed by the kubeadm kiln installs, and there is none it can run before the rootfs is built',
              hint: 'set kubernetes.source to a release or bundle (not apt) and include kubeadm in kubernetes.components; or list the images under images.preload',
            },
          ]
        : [],
  },
  {
    name: 'addons-unique',
    check: (s) =>
      (s.addons ?? []).flatMap((a, i) => {
        const first = (s.addons ?? []).findIndex((b) => b.name === a.name);
        return first !== i
          ? [{ path: `/addons/${i}/name`, message: `${a.name} is listed twice (also /addons/${first})`, hint: 'list each addon once' }]
          : [];
      }),
  },
  {
    // firstboot installs addons with helm, and the build renders each chart with the same helm to
    // learn which images to preload: an addon without helm in the image would fail on both
    name: 'addons-need-helm',
    check: (s) =>
      (s.addons ?? []).length > 0 && !(s.binaries ?? []).some((b) => isNodeHelm(b.path ?? `/usr/local/bin/${b.name}`))
        ? [
            {
              path: '/addons',
              message: "addons are installed with helm, and the image has none on the node's PATH",
              hint: 'add helm to binaries (e.g. name: helm, url: https://get.helm.sh/helm-v3.17.3-linux-amd64.tar.gz, extract: linux-amd64/helm, sha256Url: …tar.gz.sha256sum)',
            },
          ]
        : [],
  },
  {
    name: 'mirror-hosts-unique',
    check: (s) =>
      (s.images?.mirrors ?? []).flatMap((m, i) => {
        const first = (s.images?.mirrors ?? []).findIndex((q) => q.host === m.host);
        return first !== i
          ? [
              {
                path: `/images/mirrors/${i}/host`,
                message: `${m.host} has mirrors already (/images/mirrors/${first})`,
                hint: 'put all endpoints of one host in one entry, in the order to try them',
              },
            ]
          : [];
      }),
  },
  {
    name: 'kept-modules-were-dropped',
    check: (s) => {
      const policy = s.node?.shippedModules;
      const dropped = droppedDirs({ profile: policy?.profile ?? 'server', drop: policy?.drop ?? [], keep: [] });
      return (policy?.keep ?? []).flatMap((k, i) => {
        const path = `/node/shippedModules/keep/${i}`;
        if (policy?.drop?.includes(k))
          return [{ path, message: `${k} is both dropped and kept`, hint: 'remove it from one of node.shippedModules.drop and keep' }];
        return dropped.some((d) => k === d || k.startsWith(`${d}/`))
          ? []
          : [
              {
                path,
                message: `${k} is not left out, so there is nothing to keep`,
                hint: `keep names a directory the profile or drop leaves out: ${dropped.join(', ') || '(none: profile all drops nothing)'}`,
              },
            ];
      });
    },
  },
];

/** The rules, in order (their names identify them in tests). */
export const IMAGE_RULES = rules;
