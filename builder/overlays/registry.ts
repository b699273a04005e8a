// The overlays, in the order they apply. Each is a named entry: when it applies, and what it
// adds or removes. Files come from overlays/<dir>/ (rendered when they end in .hbs).
import path from 'node:path';
import { listAssets, readTree, type Asset } from '../assets.ts';
import { KilnError } from '../../core/errors.ts';
import type { ResolvedSpec } from '../spec/defaults.ts';
import { templateData } from './data.ts';
import { renderTemplate } from './render.ts';
import type { BaseView, FileOp, OverlayOps } from './types.ts';
import type { InstalledBinary } from '../binaries/resolve.ts';
import { hostsToml } from '../images/refs.ts';
import type { PreloadedImage } from '../images/preload.ts';
import { chartPath } from '../addons/catalogue.ts';
import { addonDescriptor, descriptorPath, type BakedAddon } from '../addons/resolve.ts';
import { trustedKeys } from '../update/keys.ts';
import { UPDATE_KEYS_DIR } from '../../node/layout.ts';

export interface OverlayContext {
  spec: ResolvedSpec;
  base: BaseView;
  /** The kiln-firstboot executable; absent when overlays are only checked (validate stage). */
  firstboot?: Buffer;
  /** Verified binaries (kubeadm, kubelet, kubectl, further tools); absent in the validate stage. */
  binaries?: InstalledBinary[];
  /** Container image archives to preload; absent in the validate stage. */
  images?: PreloadedImage[];
  /** Verified addon charts; absent in the validate stage. */
  addons?: BakedAddon[];
}

export interface Overlay {
  name: string;
  why: string;
  when: (spec: ResolvedSpec) => boolean;
  ops: (ctx: OverlayContext) => Promise<OverlayOps>;
}

/** Symlinks systemd's `enable` would create, so units are enabled without running systemctl. */
function enable(overlay: string, unit: string, target: string, kind: 'wants' | 'requires' = 'wants'): FileOp {
  return {
    overlay,
    type: 'symlink',
    mode: 0o777,
    path: `etc/systemd/system/${target}.${kind}/${unit}`,
    target: `/usr/lib/systemd/system/${unit}`,
  };
}

function file(overlay: string, p: string, data: string, mode = 0o644, group?: string): FileOp {
  return { overlay, type: 'file', path: p, data: Buffer.from(data), mode, ...(group ? { group } : {}) };
}

/** Files of an asset tree placed at the rootfs root; `.hbs` templates rendered with the spec. */
function treeOps(overlay: string, assets: Asset[], prefix: string, spec: ResolvedSpec): FileOp[] {
  const data = templateData(spec);
  return assets.map((a): FileOp => {
    const rel = a.path.slice(prefix.length + 1);
    if (a.symlink !== undefined) return { overlay, type: 'symlink', path: rel, mode: 0o777, target: a.symlink };
    const isTemplate = rel.endsWith('.hbs');
    const content = isTemplate ? Buffer.from(renderTemplate(a.data.toString('utf8'), data, a.path)) : a.data;
    return { overlay, type: 'file', path: isTemplate ? rel.slice(0, -4) : rel, data: content, mode: a.mode & 0o111 ? 0o755 : 0o644 };
  });
}

const builtin =
  (name: string, extra: (ctx: OverlayContext) => Partial<OverlayOps> = () => ({})) =>
  async (ctx: OverlayContext): Promise<OverlayOps> => {
    const more = extra(ctx);
    return {
      files: [...treeOps(name, await listAssets(`overlays/${name}`), `overlays/${name}`, ctx.spec), ...(more.files ?? [])],
      remove: more.remove ?? [],
    };
  };

export const OVERLAYS: Overlay[] = [
  {
    name: 'identity',
    why: 'every node booted from one image gets its own machine-id, SSH host keys and hostname',
    when: () => true,
    ops: builtin('identity', () => ({
      // mmdebstrap copies the build host's hostname; SSH host keys come from package postinsts.
      remove: ['etc/ssh/ssh_host_*', 'var/lib/dbus/machine-id'],
      files: [
        // empty: systemd generates the id on first boot and treats that boot as the first
        file('identity', 'etc/machine-id', '', 0o444),
        file('identity', 'etc/hostname', 'localhost\n'),
        enable('identity', 'kiln-ssh-keygen.service', 'ssh.service', 'requires'),
      ],
    })),
  },
  {
    name: 'node-tuning',
    why: 'slices, cgroup accounting, sysctls, kernel modules, bpffs, journald and kubelet defaults from the node-tuning guides',
    when: () => true,
    ops: builtin('node-tuning', () => ({
      files: [
        { overlay: 'node-tuning', type: 'directory', path: 'var/log/journal', mode: 0o2755, group: 'systemd-journal' },
        // started at boot, so the cgroups and their limits exist before the first pod or service lands
        ...['container.slice', 'kubesvc.slice'].map((slice): FileOp => ({
          overlay: 'node-tuning',
          type: 'symlink',
          mode: 0o777,
          path: `etc/systemd/system/slices.target.wants/${slice}`,
          target: `/etc/systemd/system/${slice}`,
        })),
      ],
    })),
  },
  {
    name: 'network',
    why: 'systemd-networkd with DHCP until firstboot writes the node network; resolved for DNS',
    when: () => true,
    ops: builtin('network', () => ({
      files: [
        enable('network', 'systemd-networkd.service', 'multi-user.target'),
        enable('network', 'systemd-networkd.socket', 'sockets.target'),
        enable('network', 'systemd-networkd-wait-online.service', 'network-online.target'),
      ],
    })),
  },
  {
    name: 'disk-grow',
    why: 'disk images grow their root partition and file system to fill the real disk on first boot',
    when: () => true,
    ops: builtin('disk-grow', () => ({ files: [enable('disk-grow', 'kiln-grow-root.service', 'local-fs.target')] })),
  },
  {
    name: 'containerd',
    why: 'CRI config with the systemd cgroup driver, pause image, registry mirror path and CNI directory',
    when: () => true,
    ops: builtin('containerd', ({ base }) => ({
      // containerd 1.x reads one CNI bin_dir; Cilium installs into /opt/cni/bin, Debian's plugins live in /usr/lib/cni.
      files: [
        enable('containerd', 'var-lib-containerd.mount', 'local-fs.target'),
        { overlay: 'containerd', type: 'directory', path: 'opt/cni/bin', mode: 0o755 },
        { overlay: 'containerd', type: 'directory', path: 'etc/containerd/certs.d', mode: 0o755 },
        { overlay: 'containerd', type: 'directory', path: 'etc/cni/net.d', mode: 0o755 },
        ...base.list('usr/lib/cni').map((p): FileOp => ({
          overlay: 'containerd',
          type: 'symlink',
          mode: 0o777,
          path: `opt/cni/bin/${path.posix.basename(p)}`,
          target: `/${p}`,
        })),
      ],
    })),
  },
  {
    name: 'binaries',
    why: 'kubeadm, kubelet and kubectl from the release or bundle the spec names, and further tools, each verified by SHA-256',
    when: (spec) => spec.kubernetes.source !== undefined || spec.binaries.length > 0,
    ops: async ({ binaries }) => ({
      files: (binaries ?? []).map((b): FileOp => ({
        overlay: 'binaries',
        type: 'file',
        path: b.path.slice(1),
        mode: 0o755,
        source: { file: b.blob, size: b.size },
      })),
      remove: [],
    }),
  },
  {
    name: 'images',
    why: 'container images baked in for air-gapped sites (imported by firstboot before kubeadm) and containerd registry mirrors',
    when: (spec) =>
      spec.images.preload.length > 0 || spec.images.kubernetes !== undefined || spec.addons.length > 0 || spec.images.mirrors.length > 0,
    ops: async ({ spec, images }) => ({
      files: [
        ...(images ?? []).map((im): FileOp => ({
          overlay: 'images',
          type: 'file',
          path: im.path.slice(1),
          mode: 0o644,
          source: { file: im.archive, size: im.size },
        })),
        ...spec.images.mirrors.map((m) => file('images', `etc/containerd/certs.d/${m.host}/hosts.toml`, hostsToml(m))),
      ],
      remove: [],
    }),
  },
  {
    name: 'addons',
    why: 'the charts of the catalogue addons the spec names, verified, with the descriptors firstboot installs them from',
    when: (spec) => spec.addons.length > 0,
    ops: async ({ addons }) => ({
      files: (addons ?? []).flatMap((a): FileOp[] => [
        {
          overlay: 'addons',
          type: 'file',
          path: chartPath(a.addon).slice(1),
          mode: 0o644,
          source: { file: a.chart.file, size: a.chart.size },
        },
        file('addons', descriptorPath(a.addon).slice(1), `${JSON.stringify(addonDescriptor(a), null, 2)}\n`),
      ]),
      remove: [],
    }),
  },
  {
    name: 'kubelet',
    why: 'the kubelet unit and kubeadm drop-in, kubelet in kubesvc.slice and held until configured',
    when: (spec) => spec.kubernetes.components.includes('kubelet'),
    ops: builtin('kubelet', () => ({
      files: [
        enable('kubelet', 'kubelet.service', 'multi-user.target'),
        { overlay: 'kubelet', type: 'directory', path: 'var/lib/kubelet', mode: 0o700 },
        { overlay: 'kubelet', type: 'directory', path: 'etc/kubernetes/manifests', mode: 0o755 },
      ],
    })),
  },
  {
    name: 'firstboot',
    why: 'kiln-firstboot and its two passes: early (before networkd) applies the metadata, late (after network-online) the role',
    when: () => true,
    ops: builtin('firstboot', ({ firstboot }) => ({
      files: [
        ...(firstboot
          ? [{ overlay: 'firstboot', type: 'file', path: 'usr/bin/kiln-firstboot', data: firstboot, mode: 0o755 } satisfies FileOp]
          : []),
        { overlay: 'firstboot', type: 'directory', path: 'var/lib/kiln', mode: 0o700 },
        { overlay: 'firstboot', type: 'directory', path: 'etc/kiln', mode: 0o700 },
        enable('firstboot', 'kiln-firstboot-early.service', 'sysinit.target'),
        enable('firstboot', 'kiln-firstboot.service', 'multi-user.target'),
      ],
    })),
  },
  {
    name: 'docker',
    why: 'dockerd with the systemd cgroup driver, pods in container.slice, journald logging, loopback-only metrics',
    when: (spec) => spec.runtime.engine === 'docker',
    ops: builtin('docker'),
  },
  {
    name: 'update-keys',
    why: 'the ed25519 public keys whose signed update bundles this node accepts (update.trustedKeys, or the signing key’s)',
    when: (spec) => spec.update.signingKey !== undefined || spec.update.trustedKeys.length > 0,
    ops: async ({ spec }) => ({
      files: [
        { overlay: 'update-keys', type: 'directory', path: UPDATE_KEYS_DIR.slice(1), mode: 0o755 },
        ...(await trustedKeys(spec)).map((k) => file('update-keys', `${UPDATE_KEYS_DIR.slice(1)}/${k.keyId}.pub`, k.pem)),
      ],
      remove: [],
    }),
  },
];

/** Overlays the spec adds from its own directories, applied after the built-in ones. */
async function userOverlayOps(spec: ResolvedSpec): Promise<OverlayOps[]> {
  const out: OverlayOps[] = [];
  for (const [i, o] of spec.overlays.entries()) {
    const abs = path.resolve(spec.dir, o.path);
    let assets: Asset[];
    try {
      assets = await readTree(abs, '.');
    } catch (cause) {
      throw new KilnError(`overlay directory ${abs} cannot be read`, {
        file: spec.file,
        path: `/overlays/${i}/path`,
        hint: 'paths are relative to the spec file',
        cause,
        exitCode: 2,
      });
    }
    const name = `user:${o.path}`;
    out.push({
      files: treeOps(
        name,
        assets.map((a) => ({ ...a, path: `root/${a.path}` })),
        'root',
        spec,
      ),
      remove: [],
    });
  }
  return out;
}

export async function overlayOps(ctx: OverlayContext): Promise<Array<{ name: string; ops: OverlayOps }>> {
  const builtins = await Promise.all(OVERLAYS.filter((o) => o.when(ctx.spec)).map(async (o) => ({ name: o.name, ops: await o.ops(ctx) })));
  const users = (await userOverlayOps(ctx.spec)).map((ops, i) => ({ name: `user:${ctx.spec.overlays[i]!.path}`, ops }));
  return [...builtins, ...users];
}
