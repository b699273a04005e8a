// Container image references and registry mirror files (pure).

export interface ImageRef {
  /** Registry host[:port], e.g. registry.k8s.io or 127.0.0.1:5000. */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const HOST = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?';
/** A reference as containerd/distribution parse it (docker/reference grammar), host included. */
export const REF_PATTERN = `^${HOST}/${COMPONENT}(?:/${COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$`;
const REF = new RegExp(REF_PATTERN);

/** Parses a full reference; undefined when it is not one. */
export function parseImageRef(ref: string): ImageRef | undefined {
  if (!REF.test(ref)) return undefined;
  const [nameTag, digest] = ref.split('@') as [string, string?];
  const slash = nameTag.indexOf('/');
  const registry = nameTag.slice(0, slash);
  const rest = nameTag.slice(slash + 1);
  const colon = rest.lastIndexOf(':');
  const [repository, tag] = colon === -1 ? [rest, undefined] : [rest.slice(0, colon), rest.slice(colon + 1)];
  return { registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/**
 * A reference as containerd's CRI names it when kubelet asks for it (reference.ParseDockerRef): the
 * docker.io registry and library/ filled in, :latest when neither tag nor digest is given, and the
 * tag dropped when a digest is given too. undefined when it is not a reference at all.
 */
export function normalizeImageRef(text: string): string | undefined {
  let ref = text.trim();
  if (!hasRegistryHost(ref)) ref = `docker.io/${ref.includes('/') ? '' : 'library/'}${ref}`;
  const parsed = parseImageRef(ref);
  if (!parsed) return undefined;
  const name = `${parsed.registry}/${parsed.repository}`;
  if (parsed.digest) return `${name}@${parsed.digest}`;
  return `${name}:${parsed.tag ?? 'latest'}`;
}

/** Whether the first component names a registry (docker's rule: a dot, a port, or localhost). */
export function hasRegistryHost(ref: string): boolean {
  const first = ref.split('/')[0]!;
  return ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['));
}

/** A file name for the archive of `ref` in the image: readable, unique, no path separators. */
export function archiveName(index: number, ref: string): string {
  return `${String(index).padStart(2, '0')}-${ref.replace(/@sha256:([0-9a-f]{12})[0-9a-f]*/, '@$1').replace(/[^A-Za-z0-9._-]+/g, '_')}.tar`;
}

export interface Mirror {
  host: string;
  endpoints: string[];
  skipVerify: boolean;
}

/** Where a registry host really lives when no mirror answers (containerd's `server`). */
function upstreamOf(host: string): string {
  return host === 'docker.io' ? 'https://registry-1.docker.io' : `https://${host}`;
}

const toml = (s: string) => JSON.stringify(s); // a TOML basic string is JSON-compatible for these values

/** /etc/containerd/certs.d/<host>/hosts.toml: mirrors tried in order, then the registry itself. */
export function hostsToml(m: Mirror): string {
  const lines = [
    `# kiln: registry mirrors for ${m.host}, tried in order before ${upstreamOf(m.host)}`,
    `server = ${toml(upstreamOf(m.host))}`,
    '',
  ];
  for (const endpoint of m.endpoints) {
    lines.push(`[host.${toml(endpoint)}]`, '  capabilities = ["pull", "resolve"]');
    if (m.skipVerify) lines.push('  skip_verify = true');
    lines.push('');
  }
  return lines.join('\n');
}
