// A small but real node root for firstboot tests: passwd/group/shadow for useradd --prefix,
// busybox as /bin/sh for chroot'd commands, a zoneinfo entry, the image's default network file.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, rmSync, readdirSync, symlinkSync, writeFileSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { repoRoot, tempDir } from './build.ts';

export function makeNodeRoot(): string {
  const root = tempDir('kiln-fb-root-');
  const w = (p: string, text: string, mode = 0o644) => {
    mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    writeFileSync(path.join(root, p), text, { mode });
  };
  w('etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
  w('etc/group', 'root:x:0:\nsudo:x:27:\nsystemd-journal:x:999:\nnogroup:x:65534:\n');
  w('etc/shadow', 'root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n', 0o640);
  w('etc/gshadow', 'root:*::\nsudo:*::\nsystemd-journal:!::\nnogroup:*::\n', 0o640);
  w(
    'etc/login.defs',
    'UID_MIN 1000\nUID_MAX 60000\nSYS_UID_MIN 100\nSYS_UID_MAX 999\nGID_MIN 1000\nGID_MAX 60000\nSYS_GID_MIN 100\nSYS_GID_MAX 999\nUSERGROUPS_ENAB yes\n',
  );
  w('etc/hostname', 'localhost\n');
  w('etc/hosts', '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n');
  w('etc/chrony/chrony.conf', 'confdir /etc/chrony/conf.d\npool 2.debian.pool.ntp.org iburst\n');
  w('etc/systemd/network/99-kiln-default.network', '[Match]\nType=ether\n\n[Network]\nDHCP=yes\n');
  w('usr/share/zoneinfo/Europe/Berlin', 'TZif-stand-in\n');
  w('usr/share/zoneinfo/UTC', 'TZif-stand-in\n');
  mkdirSync(path.join(root, 'root'), { recursive: true, mode: 0o700 });
  mkdirSync(path.join(root, 'home'), { recursive: true });
  mkdirSync(path.join(root, 'bin'), { recursive: true });
  mkdirSync(path.join(root, 'tmp'), { recursive: true, mode: 0o1777 });
  copyFileSync('/bin/busybox', path.join(root, 'bin/busybox'));
  for (const tool of ['sh', 'echo', 'touch', 'cat', 'id']) symlinkSync('busybox', path.join(root, 'bin', tool));
  return root;
}

/** Every path under root with its type, mode and content hash: what a run changed is a diff of two. */
export function snapshotTree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const abs = path.join(dir, name);
      const st = lstatSync(abs);
      const rel = path.relative(root, abs);
      if (st.isDirectory()) {
        out.set(rel, `dir ${st.mode.toString(8)}`);
        walk(abs);
      } else if (st.isFile())
        out.set(rel, `file ${st.mode.toString(8)} ${st.uid}:${st.gid} ${createHash('sha256').update(readFileSync(abs)).digest('hex')}`);
      else if (st.isSymbolicLink()) out.set(rel, `link ${readlinkSync(abs)}`);
      else out.set(rel, `other ${st.mode.toString(8)}`);
    }
  };
  walk(root);
  return out;
}

export function changedPaths(before: Map<string, string>, after: Map<string, string>): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((k) => before.get(k) !== after.get(k)).sort();
}

const bundles = new Map<string, Promise<string>>();

/**
 * `entry` (relative to the repository) bundled once per test process with esbuild: a child process
 * starts in a fraction of tsx's time (the crash test and the stand-ins start dozens of them).
 */
export function bundled(entry: string): Promise<string> {
  let out = bundles.get(entry);
  if (!out) {
    const dir = tempDir('kiln-bundle-');
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, `${path.basename(entry, '.ts')}.mjs`);
    out = esbuild
      .build({
        absWorkingDir: repoRoot,
        entryPoints: [entry],
        outfile: file,
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'esm',
        // ES modules first: some packages' `main` is a UMD build whose require() calls esbuild cannot
        // follow (jsonc-parser's lib/umd loads ./impl/* at run time)
        mainFields: ['module', 'main'],
        logLevel: 'silent',
        // CommonJS dependencies call require() for node's built-ins
        banner: { js: "import { createRequire as __kilnRequire } from 'node:module'; const require = __kilnRequire(import.meta.url);" },
      })
      .then(() => file);
    bundles.set(entry, out);
  }
  return out;
}

/** TEST ONLY: a PATH with the kubeadm/helm/kubectl stand-ins (test/standins, bundled) first. */
export async function standinPath(): Promise<string> {
  const main = await bundled('test/standins/main.ts');
  const bin = path.join(path.dirname(main), 'bin');
  mkdirSync(bin, { recursive: true });
  for (const tool of ['kubeadm', 'helm', 'kubectl']) {
    writeFileSync(path.join(bin, tool), `#!/bin/sh\nexec "${process.execPath}" "${main}" ${tool} "$@"\n`, { mode: 0o755 });
  }
  return `${bin}:${process.env.PATH}`;
}
