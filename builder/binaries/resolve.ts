// The binaries an image carries: kubeadm/kubelet/kubectl from a release tree or a local bundle,
// and further tools (crictl, helm, the Cilium CLI), each verified against its SHA-256 before
// anything is built. Downloads land in the blob store and are found there by checksum next time.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { KilnError } from '../../core/errors.ts';
import type { ResolvedBinarySpec, ResolvedSpec } from '../spec/defaults.ts';
import { ArchiveError, extractMember, readArchive } from './archive.ts';
import { BlobStore, ChecksumMismatch, type Blob } from './blobs.ts';
import { ChecksumFormatError, findByBaseName, parseChecksumFile, parseChecksumList } from './checksums.ts';
import { FetchError, fetchText, openUrl } from './fetch.ts';
import { preflightAptKey } from '../rootfs/apt-source.ts';

export interface InstalledBinary {
  /** Absolute path in the image. */
  path: string;
  /** The verified blob on the build host. */
  blob: string;
  sha256: string;
  size: number;
  /** Where it came from (a URL, or a bundle and member), for the manifest. */
  origin: string;
}

const CHECKSUMS = 'SHA256SUMS';
const isArchive = (p: string) => /\.(tar|tar\.gz|tgz)$/.test(p);

/** Checks what is on this machine (bundles, local files) before the first side effect. */
export function preflightBinaries(spec: ResolvedSpec): void {
  const src = spec.kubernetes.source;
  if (src && 'apt' in src) preflightAptKey(spec, src.apt);
  if (src && 'bundle' in src) {
    const at = '/kubernetes/source/bundle';
    const abs = path.resolve(spec.dir, src.bundle);
    const st = existsSync(abs) ? statSync(abs) : undefined;
    if (!st)
      throw new KilnError(`bundle ${abs} does not exist`, {
        file: spec.file,
        path: at,
        hint: 'paths are relative to the spec file',
        exitCode: 2,
      });
    if (st.isDirectory()) {
      const sums = path.join(abs, CHECKSUMS);
      if (!existsSync(sums))
        throw new KilnError(`bundle ${abs} has no ${CHECKSUMS}`, {
          file: spec.file,
          path: at,
          hint: `create it in the bundle: (cd ${src.bundle} && sha256sum kubeadm kubelet kubectl > ${CHECKSUMS})`,
          exitCode: 2,
        });
    } else if (!isArchive(abs))
      throw new KilnError(`bundle ${abs} is neither a directory nor a .tar/.tar.gz/.tgz`, {
        file: spec.file,
        path: at,
        hint: 'point at the unpacked bundle directory or its tarball',
        exitCode: 2,
      });
  }
  for (const [i, b] of spec.binaries.entries()) {
    if (!('file' in b.from)) continue;
    const abs = path.resolve(spec.dir, b.from.file);
    if (!existsSync(abs) || !statSync(abs).isFile())
      throw new KilnError(`${abs} is not a file`, {
        file: spec.file,
        path: `/binaries/${i}/file`,
        hint: 'paths are relative to the spec file',
        exitCode: 2,
      });
    if (b.extract !== undefined && !isArchive(abs))
      throw new KilnError(`extract given but ${abs} is not a .tar/.tar.gz/.tgz`, {
        file: spec.file,
        path: `/binaries/${i}/extract`,
        hint: 'drop extract for a bare binary',
        exitCode: 2,
      });
  }
}

/** A failure while getting one binary, said with the spec field it came from. */
function failure(spec: ResolvedSpec, at: string, what: string, cause: unknown): KilnError {
  if (cause instanceof KilnError) return cause;
  const hint =
    cause instanceof ChecksumMismatch
      ? 'the download is not what its checksum says: a corrupt or tampered file, or a checksum for another version; nothing was installed'
      : cause instanceof ChecksumFormatError
        ? 'the checksum file must hold the 64 hex digits sha256sum prints'
        : cause instanceof FetchError
          ? 'check the URL and that this machine can reach it (kiln never installs an unverified file)'
          : cause instanceof ArchiveError
            ? 'check extract: the member path inside the archive (tar tf ARCHIVE lists them)'
            : undefined;
  return new KilnError(`${what}: ${(cause as Error).message}`, { file: spec.file, path: at, hint, cause, exitCode: 2 });
}

/** The values, or the first failure once every download has finished. */
function settled<T>(results: PromiseSettledResult<T>[]): T[] {
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** A download verified against `sha256`: from the store when it is already there. */
async function download(store: BlobStore, url: string, sha256: string, log: (m: string) => void): Promise<Blob> {
  const hit = await store.get(sha256);
  if (hit) return hit;
  log(`downloading ${url}`);
  return store.put(await openUrl(url), sha256);
}

async function kubernetesBinaries(spec: ResolvedSpec, store: BlobStore, log: (m: string) => void): Promise<InstalledBinary[]> {
  const src = spec.kubernetes.source;
  // apt: the packages install them, inside mmdebstrap (builder/rootfs/apt-source.ts)
  if (!src || 'apt' in src) return [];
  const { version, components } = spec.kubernetes;
  if ('release' in src) {
    // allSettled: a failure must not leave other downloads writing temp files behind it
    return settled(
      await Promise.allSettled(
        components.map(async (name) => {
          const url = `${src.release}/${version}/bin/linux/${spec.base.arch}/${name}`;
          try {
            const sha256 = parseChecksumFile(await fetchText(`${url}.sha256`));
            const blob = await download(store, url, sha256, log);
            return { path: `/usr/bin/${name}`, blob: blob.file, sha256, size: blob.size, origin: url };
          } catch (cause) {
            throw failure(spec, '/kubernetes/source/release', `${name} ${version}`, cause);
          }
        }),
      ),
    );
  }
  const at = '/kubernetes/source/bundle';
  const bundle = path.resolve(spec.dir, src.bundle);
  try {
    let sums: Map<string, string>;
    let blobOf: (member: string) => Promise<Blob | undefined>;
    if (isArchive(bundle)) {
      const members = await readArchive(
        bundle,
        (m) => path.posix.basename(m) === CHECKSUMS || components.includes(path.posix.basename(m)),
        store,
      );
      const list = [...members.keys()].find((m) => path.posix.basename(m) === CHECKSUMS);
      if (!list)
        throw new KilnError(`bundle ${bundle} has no ${CHECKSUMS}`, {
          file: spec.file,
          path: at,
          hint: `add one listing each binary (sha256sum's format) to the tarball`,
          exitCode: 2,
        });
      sums = parseChecksumList(await readFile(members.get(list)!.file, 'utf8'));
      const dir = path.posix.dirname(list) === '.' ? '' : `${path.posix.dirname(list)}/`;
      blobOf = async (member) => members.get(`${dir}${member}`);
    } else {
      sums = parseChecksumList(await readFile(path.join(bundle, CHECKSUMS), 'utf8'));
      blobOf = async (member) => {
        const file = path.join(bundle, member);
        return existsSync(file) ? store.put(createReadStream(file)) : undefined;
      };
    }
    const out: InstalledBinary[] = [];
    for (const name of components) {
      const entry = findByBaseName(sums, name);
      if ('error' in entry)
        throw new KilnError(`${CHECKSUMS} of bundle ${bundle} ${entry.error}`, {
          file: spec.file,
          path: at,
          hint: 'every binary kiln installs must have its checksum listed',
          exitCode: 2,
        });
      const blob = await blobOf(entry.path);
      if (!blob)
        throw new KilnError(`bundle ${bundle} lists ${entry.path} but does not hold it`, {
          file: spec.file,
          path: at,
          hint: 'add the file, or rebuild the bundle',
          exitCode: 2,
        });
      if (blob.sha256 !== entry.sha256) throw new ChecksumMismatch(entry.sha256, blob.sha256);
      out.push({ path: `/usr/bin/${name}`, blob: blob.file, sha256: blob.sha256, size: blob.size, origin: `${src.bundle}:${entry.path}` });
    }
    return out;
  } catch (cause) {
    throw failure(spec, at, `bundle ${src.bundle}`, cause);
  }
}

async function extraBinary(
  spec: ResolvedSpec,
  b: ResolvedBinarySpec,
  i: number,
  store: BlobStore,
  log: (m: string) => void,
): Promise<InstalledBinary> {
  const from = 'url' in b.from ? b.from.url : path.resolve(spec.dir, b.from.file);
  const at = `/binaries/${i}/${'sha256Url' in b.checksum ? 'sha256Url' : 'url' in b.from ? 'url' : 'file'}`;
  try {
    const sha256 = 'sha256' in b.checksum ? b.checksum.sha256 : parseChecksumFile(await fetchText(b.checksum.sha256Url));
    const blob = 'url' in b.from ? await download(store, b.from.url, sha256, log) : await store.put(createReadStream(from), sha256);
    if (b.extract === undefined) return { path: b.path, blob: blob.file, sha256, size: blob.size, origin: from };
    const member = await extractMember(blob.file, b.extract, store).catch((cause) => {
      throw failure(spec, `/binaries/${i}/extract`, `${b.name}: ${from}`, cause);
    });
    return { path: b.path, blob: member.file, sha256: member.sha256, size: member.size, origin: `${from}:${b.extract}` };
  } catch (cause) {
    throw failure(spec, at, `${b.name}: ${from}`, cause);
  }
}

/** Every binary the spec asks for, verified; throws a KilnError naming the spec field on the first failure. */
export async function resolveBinaries(spec: ResolvedSpec, cacheDir: string, log: (m: string) => void): Promise<InstalledBinary[]> {
  const store = new BlobStore(path.join(cacheDir, 'blobs'));
  const kube = await kubernetesBinaries(spec, store, log);
  const extra = settled(await Promise.allSettled(spec.binaries.map((b, i) => extraBinary(spec, b, i, store, log))));
  return [...kube, ...extra].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
