// Container images baked into the image (air-gap): skopeo copies each into an OCI layout, packed
// reproducibly and cached by what the registry serves; firstboot imports them into containerd's
// k8s.io namespace before kubeadm runs, so kubelet never pulls them.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { KilnError } from '../../core/errors.ts';
import { writeFileAtomic } from '../../core/fs.ts';
import { PRELOAD_DIR } from '../../node/layout.ts';
import type { ResolvedSpec } from '../spec/defaults.ts';
import { layoutDigest, packLayout } from './oci-archive.ts';
import type { InstalledBinary } from '../binaries/resolve.ts';
import { kubeadmImages, pullSource } from './kubernetes.ts';
import { archiveName } from './refs.ts';

export interface PreloadedImage {
  ref: string;
  /** The manifest digest containerd will list for it. */
  digest: string;
  /** Bytes the archive adds to the image. */
  size: number;
  /** The archive on the build host (in the cache). */
  archive: string;
  /** Absolute path in the image. */
  path: string;
}

async function skopeo(args: string[], at: string, spec: ResolvedSpec, what: string): Promise<string> {
  const r = await execa('skopeo', args, { reject: false, encoding: 'buffer', timeout: 30 * 60_000 });
  if (r.exitCode !== 0) {
    const message =
      Buffer.from(r.stderr as Uint8Array)
        .toString('utf8')
        .trim()
        .split('\n')
        .at(-1) ?? '';
    throw new KilnError(`${what}: skopeo failed: ${message}`, {
      file: spec.file,
      path: at,
      hint: 'check the reference and that this machine reaches the registry (tlsVerify: false for a plain-HTTP registry)',
      exitCode: 2,
    });
  }
  return Buffer.from(r.stdout as Uint8Array).toString('utf8');
}

/** An addon's images as its rendered chart names them. */
export interface AddonImages {
  images: string[];
}

/** One image to bake in: named `ref` in the image, pulled from `from`; `at` is its spec field. */
interface Wanted {
  ref: string;
  from: string;
  tlsVerify: boolean;
  at: string;
}

async function preloadOne(
  spec: ResolvedSpec,
  { ref, from, tlsVerify, at }: Wanted,
  i: number,
  cacheDir: string,
  log: (m: string) => void,
): Promise<PreloadedImage> {
  const tls = `--tls-verify=${tlsVerify}`;
  // A digest in the reference pins the content: the cache answers without asking the registry
  // (an air-gapped rebuild). A tag is asked about: a new push is a new cache entry.
  const pinned = /@(sha256:[0-9a-f]{64})$/.exec(from)?.[1];
  const remote =
    pinned ??
    createHash('sha256')
      .update(await skopeo(['inspect', '--raw', tls, `docker://${from}`], at, spec, from))
      .digest('hex');
  const key = createHash('sha256').update(`${ref}\n${from}\n${remote}\nlinux/${spec.base.arch}\n${spec.sourceDateEpoch}`).digest('hex');
  const dir = path.join(cacheDir, 'images');
  const archive = path.join(dir, `${key}.tar`);
  const meta = path.join(dir, `${key}.json`);
  if (!existsSync(archive) || !existsSync(meta)) {
    await mkdir(dir, { recursive: true });
    const tmp = path.join(dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      await mkdir(tmp);
      log(`copying ${from === ref ? ref : `${from} as ${ref}`}`);
      await skopeo(
        [
          'copy',
          '--quiet',
          `--src-${tls.slice(2)}`,
          '--override-os',
          'linux',
          '--override-arch',
          spec.base.arch,
          `docker://${from}`,
          `oci:${tmp}/layout:${ref}`,
        ],
        at,
        spec,
        from,
      );
      const digest = await layoutDigest(path.join(tmp, 'layout'));
      await packLayout(path.join(tmp, 'layout'), `${tmp}/archive.tar`, spec.sourceDateEpoch);
      await rename(`${tmp}/archive.tar`, archive);
      await writeFileAtomic(meta, `${JSON.stringify({ ref, digest })}\n`);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  const { digest } = JSON.parse(await readFile(meta, 'utf8')) as { digest: string };
  return { ref, digest, size: (await stat(archive)).size, archive, path: `${PRELOAD_DIR}/${archiveName(i, ref)}` };
}

/** The images to bake in: kubeadm's control-plane list first (when asked), then the spec's own, each once. */
async function wanted(spec: ResolvedSpec, binaries: InstalledBinary[], addons: AddonImages[]): Promise<Wanted[]> {
  const k = spec.images.kubernetes;
  const control = k
    ? (await kubeadmImages(spec, binaries)).map((ref) => ({
        ref,
        from: pullSource(ref, k.pullFrom),
        tlsVerify: k.tlsVerify,
        at: '/images/kubernetes',
      }))
    : [];
  // the spec's own entries before the addons': a `from` there can redirect an addon's image to a mirror
  const own = spec.images.preload.map((p, i) => ({ ...p, at: `/images/preload/${i}/ref` }));
  const ofAddons = addons.flatMap((a, i) => a.images.map((ref) => ({ ref, from: ref, tlsVerify: true, at: `/addons/${i}/name` })));
  const seen = new Set<string>();
  return [...control, ...own, ...ofAddons].filter((w) => !seen.has(w.ref) && seen.add(w.ref));
}

/** Every image to bake in (kubeadm's list when asked, the spec's, the addons'), each once, in that order. */
export async function preloadImages(
  spec: ResolvedSpec,
  binaries: InstalledBinary[],
  cacheDir: string,
  log: (m: string) => void,
  addons: AddonImages[] = [],
): Promise<PreloadedImage[]> {
  const out: PreloadedImage[] = [];
  for (const [i, w] of (await wanted(spec, binaries, addons)).entries()) out.push(await preloadOne(spec, w, i, cacheDir, log));
  return out;
}
