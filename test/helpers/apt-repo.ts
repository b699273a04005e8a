// A signed apt repository made by the test (flat, like pkgs.k8s.io): packages built with
// dpkg-deb, indexed with apt-ftparchive, Release signed with a throwaway gpg key.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface AptPackage {
  name: string;
  version: string;
  /** Files by absolute path in the package. */
  files: Record<string, string>;
}

/** Builds the repository in `dir` (served as is); returns the armored public key. */
export function makeAptRepo(dir: string, packages: AptPackage[]): string {
  const gnupg = path.join(dir, '.gnupg');
  mkdirSync(gnupg, { recursive: true, mode: 0o700 });
  const gpg = (args: string[], opts: { input?: string } = {}) =>
    execFileSync('gpg', ['--homedir', gnupg, '--batch', '--quiet', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], {
      input: opts.input,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  gpg(['--quick-gen-key', 'kiln test repository <repo@kiln.invalid>', 'ed25519', 'sign', 'never']);
  const repo = path.join(dir, 'repo');
  mkdirSync(repo, { recursive: true });
  for (const p of packages) {
    const root = path.join(dir, '.build', `${p.name}_${p.version}`);
    mkdirSync(path.join(root, 'DEBIAN'), { recursive: true });
    writeFileSync(
      path.join(root, 'DEBIAN/control'),
      `Package: ${p.name}\nVersion: ${p.version}\nArchitecture: amd64\nMaintainer: kiln tests <repo@kiln.invalid>\nDescription: kiln test stand-in package for ${p.name}\n`,
    );
    for (const [file, text] of Object.entries(p.files)) {
      mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
      writeFileSync(path.join(root, file), text);
      chmodSync(path.join(root, file), 0o755);
    }
    execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, path.join(repo, `${p.name}_${p.version}_amd64.deb`)], {
      stdio: 'ignore',
    });
  }
  writeFileSync(path.join(repo, 'Packages'), execFileSync('apt-ftparchive', ['packages', '.'], { cwd: repo }));
  writeFileSync(path.join(repo, 'Release'), execFileSync('apt-ftparchive', ['release', '.'], { cwd: repo }));
  writeFileSync(path.join(repo, 'InRelease'), gpg(['--clearsign', '--output', '-', path.join(repo, 'Release')]));
  const key = gpg(['--armor', '--export']).toString('utf8');
  if (!key.includes('BEGIN PGP PUBLIC KEY BLOCK')) throw new Error('gpg exported no key');
  return key;
}
