// The one redaction layer: every text either program shows (console, stderr, status files, JSON
// problem lists) passes through redactText at its sink, so a secret is hidden whichever message
// path carried it — a parser's error, a tool's output tail or a value a rule repeated.
// Two nets: shapes that are secret wherever they appear (credentials and queries in URLs, private
// key blocks, bootstrap tokens, crypt(3) hashes), and the values a reader found under a field its
// schema marks `x-secret` (registered with rememberSecret before anything is reported).

/** What is left of a value that must not be shown. */
export const HIDDEN = '(secret not shown)';

/**
 * URLs may carry credentials or tokens in user-info or the query: never show those parts. The
 * scheme is matched in any case (`HTTPS://` is a URL to fetchers); a URL that does not parse keeps
 * only its scheme, since where its credentials end cannot be told.
 */
export function redactUrl(location: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(location);
  // no scheme, or already redacted (the sinks may see a message a reader redacted)
  if (!scheme || location.startsWith('…', scheme[0].length)) return location;
  try {
    const u = new URL(location);
    // nothing that can hold a secret: left exactly as written (a JSON Schema's "$schema" URL included)
    if (!u.username && !u.password && !u.search && !u.hash) return location;
    const auth = u.username || u.password ? '***@' : '';
    return `${u.protocol}//${auth}${u.host}${u.pathname}${u.search ? '?…' : ''}${u.hash ? '#…' : ''}`;
  } catch {
    return `${scheme[1]!.toLowerCase()}://…`;
  }
}

/** Shapes that are secret wherever they appear, in the order they are replaced. */
const SECRET_SHAPES: Array<{ what: string; pattern: RegExp; replace: (match: string) => string }> = [
  {
    what: 'private key blocks (PEM), even cut short',
    pattern: /-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----[\s\S]*?(?:-----END \1-----|$)/g,
    replace: () => '(private key not shown)',
  },
  {
    what: 'URLs (user-info and query), parseable or not',
    // a backslash ends it too: in JSON text it starts the escape of the closing quote
    pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'`<>\\]*/gi,
    replace: redactUrl,
  },
  {
    what: 'kubeadm bootstrap tokens (abcdef.0123456789abcdef)',
    pattern: /\b[a-z0-9]{6}\.[a-z0-9]{16}\b/g,
    replace: () => HIDDEN,
  },
  {
    what: 'crypt(3) password hashes ($6$…, $y$…, $2b$…)',
    pattern: /\$(?:1|2[abxy]?|5|6|y|gy|7|sha1|md5)\$[./0-9A-Za-z$=,]{16,}/g,
    replace: () => HIDDEN,
  },
];

// Values under x-secret fields: shorter ones would hide ordinary words in every message.
const MIN_REMEMBERED = 4;
// longest first, so a secret that contains another is hidden whole (kept sorted as they come)
const remembered: string[] = [];

/** Registers a secret value (and each of its lines) so that no later message shows it. */
export function rememberSecret(value: unknown): void {
  if (typeof value !== 'string') return;
  for (const part of [value, ...value.split('\n')].map((s) => s.trim()))
    if (part.length >= MIN_REMEMBERED && !remembered.includes(part)) {
      remembered.push(part);
      remembered.sort((a, b) => b.length - a.length);
    }
}

/** The text with every secret shape and remembered secret replaced. */
export function redactText(text: string): string {
  let out = text;
  for (const secret of remembered) out = out.split(secret).join(HIDDEN);
  for (const shape of SECRET_SHAPES) out = out.replace(shape.pattern, shape.replace);
  return out;
}

/** A copy of a JSON-shaped value with every string redacted (status files, --json problem lists). */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redactText(value) as T;
  if (Array.isArray(value)) return value.map(redactDeep) as T;
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redactDeep(v)])) as T;
  return value;
}
