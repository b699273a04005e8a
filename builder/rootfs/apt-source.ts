// Kubernetes from an apt repository (pkgs.k8s.io or a site's mirror): a deb822 source with the
// repository's key inline, handed to mmdebstrap beside the Debian mirror. apt checks every package
// against the signed Release file, and the image keeps the source (and key) for later upgrades.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { KilnError } from '../../core/errors.ts';
import type { AptSource, ResolvedSpec } from '../spec/defaults.ts';
import { sha256 } from '../spec/defaults.ts';

const ARMOR = /^-----BEGIN PGP PUBLIC KEY BLOCK-----\n[\s\S]+\n-----END PGP PUBLIC KEY BLOCK-----\s*$/;

function keyText(spec: ResolvedSpec, apt: AptSource): string {
  const file = path.resolve(spec.dir, apt.key);
  const at = { file: spec.file, path: '/kubernetes/source/apt/key', exitCode: 2 };
  if (!existsSync(file))
    throw new KilnError(`${file} does not exist`, {
      ...at,
      hint: 'download the repository key (e.g. https://pkgs.k8s.io/core:/stable:/v1.31/deb/Release.key) next to the spec',
    });
  const text = readFileSync(file, 'utf8').replace(/\r\n/g, '\n');
  if (!ARMOR.test(text))
    throw new KilnError(`${file} is not an ASCII-armored OpenPGP public key`, {
      ...at,
      hint: 'use the armored key (BEGIN PGP PUBLIC KEY BLOCK); convert a binary one with gpg --enarmor',
    });
  return text;
}

export function preflightAptKey(spec: ResolvedSpec, apt: AptSource): void {
  keyText(spec, apt);
}

/** What the base cache key needs from the apt source: everything but the key's location. */
export function aptRecipe(
  spec: ResolvedSpec,
): { uri: string; suite: string; components: string[]; keySha256: string; packages: string[] } | undefined {
  const src = spec.kubernetes.source;
  if (!src || !('apt' in src)) return undefined;
  const version = spec.kubernetes.version.slice(1);
  return {
    uri: src.apt.url,
    suite: src.apt.suite,
    components: src.apt.components,
    keySha256: sha256(keyText(spec, src.apt)),
    // pkgs.k8s.io versions are <version>-<revision>: any revision of the spec's version
    packages: spec.kubernetes.components.map((c) => `${c}=${version}-*`),
  };
}

/** The deb822 .sources text: Signed-By carries the key itself (apt ≥ 2.3.10), no path to get wrong. */
export function deb822(spec: ResolvedSpec): string | undefined {
  const src = spec.kubernetes.source;
  if (!src || !('apt' in src)) return undefined;
  const key = keyText(spec, src.apt)
    .trimEnd()
    .split('\n')
    .map((l) => ` ${l === '' ? '.' : l}`)
    .join('\n');
  return [
    'Types: deb',
    `URIs: ${src.apt.url}`,
    `Suites: ${src.apt.suite}`,
    ...(src.apt.components.length ? [`Components: ${src.apt.components.join(' ')}`] : []),
    `Signed-By:\n${key}`,
    '',
  ].join('\n');
}
