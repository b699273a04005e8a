// Parsers for published checksums (pure): a `<file>.sha256` beside a download, and a SHA256SUMS
// list as sha256sum writes it.

const HEX64 = /^[0-9a-fA-F]{64}$/;

export class ChecksumFormatError extends Error {}

/**
 * A checksum file published beside one download: dl.k8s.io's `kubeadm.sha256` holds the bare hex,
 * others (helm's `.sha256sum`) hold `<hex>  <name>`. Returns the lower-case hex.
 */
export function parseChecksumFile(text: string): string {
  const first = text.trim().split(/\s+/)[0] ?? '';
  if (!HEX64.test(first)) throw new ChecksumFormatError(`expected 64 hex digits, found ${JSON.stringify(text.trim().slice(0, 40))}`);
  return first.toLowerCase();
}

/** `<hex>  <path>` or `<hex> *<path>` lines (sha256sum's text and binary modes); # comments and blank lines skipped. */
export function parseChecksumList(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line);
    if (!m) throw new ChecksumFormatError(`line ${i + 1} is not "<sha256>  <path>": ${JSON.stringify(line.slice(0, 60))}`);
    const name = m[2]!.replace(/^\.\//, '');
    if (out.has(name) && out.get(name) !== m[1]!.toLowerCase())
      throw new ChecksumFormatError(`line ${i + 1}: ${name} is listed twice with different checksums`);
    out.set(name, m[1]!.toLowerCase());
  }
  return out;
}

/** The one list entry whose base name is `name` (bundles may keep binaries in sub-directories). */
export function findByBaseName(list: Map<string, string>, name: string): { path: string; sha256: string } | { error: string } {
  const hits = [...list].filter(([p]) => p === name || p.endsWith(`/${name}`));
  if (hits.length === 1) return { path: hits[0]![0], sha256: hits[0]![1] };
  return { error: hits.length === 0 ? `lists no ${name}` : `lists ${name} more than once (${hits.map(([p]) => p).join(', ')})` };
}
