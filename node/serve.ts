// What a network-booted node and `kiln cluster serve` agree on: where the node fetches its seed and
// reports back (kernel parameters), the report it posts when its first boot ends, and the proof
// that it holds the seed it was served (so a bystander cannot mark a node done and revoke its seed).
import { createHash } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Strict } from '../core/schema.ts';

/** `kiln.report=<url>`: where kiln-firstboot posts the outcome of the node's first boot. */
export const REPORT_PARAM = 'kiln.report';

/** A report is a few lines; anything bigger is not one. */
export const REPORT_MAX_BYTES = 16 * 1024;
export const REASON_MAX_CHARS = 1000;

export const ReportSchema = Type.Object(
  {
    outcome: Type.Union([Type.Literal('done'), Type.Literal('failed')]),
    /** Why it failed, secret-free (firstboot's redacted error line). */
    reason: Type.Optional(Type.String({ maxLength: REASON_MAX_CHARS })),
    proof: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  },
  Strict,
);
export type Report = Static<typeof ReportSchema>;

/**
 * sha256 over a fixed prefix and the seed's bytes. The seed's own sha256 is public (it is pinned on
 * the kernel command line); this one can only be computed by whoever holds the seed.
 */
export function seedProof(seed: Buffer): string {
  return createHash('sha256').update('kiln-report-v1\0').update(seed).digest('hex');
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** `52:54:00:12:34:56` ↔ `52-54-00-12-34-56`, the form iPXE's `${mac:hexhyp}` gives and URLs carry. */
export const macToUrl = (mac: string): string => mac.replace(/:/g, '-');
export function macFromUrl(text: string): string | undefined {
  const mac = text.toLowerCase().replace(/-/g, ':');
  return MAC.test(mac) ? mac : undefined;
}

/** The server's paths, one place for the node's URLs and the routes. */
export const SERVE_PATHS = {
  chain: '/boot.ipxe',
  node: (mac: string) => `/node/${macToUrl(mac)}.ipxe`,
  image: (file: string) => `/pxe/${file}`,
  disk: '/image/disk.raw',
  seed: (mac: string) => `/seed/${macToUrl(mac)}/ignition.json`,
  report: (mac: string) => `/report/${macToUrl(mac)}`,
} as const;

/** `kiln.install.image=<url>` and `kiln.install.hash=sha256-<hex>`: the raw disk image `install` writes, pinned. */
export const INSTALL_IMAGE_PARAM = 'kiln.install.image';
export const INSTALL_HASH_PARAM = 'kiln.install.hash';

/**
 * `kiln.tls.ca=sha256:<hex>`: the CA (kubeadm's discovery hash form: sha256 of its
 * SubjectPublicKeyInfo) that the boot server's certificate must chain to. With it, the node trusts
 * that CA alone for its https:// seed and report URLs, whatever the system's trust store says.
 */
export const TLS_CA_PARAM = 'kiln.tls.ca';
const TLS_PIN = /^sha256:([0-9a-f]{64})$/;

/** Where a node reports: the URL, and the pinned CA's hash (hex) when it is https to kiln cluster serve's TLS. */
export interface ReportTarget {
  url: string;
  tlsPin?: string;
}

/** The pin's hex digest, or undefined when the text is not sha256:<64 hex>. */
export const parseTlsPin = (text: string): string | undefined => TLS_PIN.exec(text)?.[1];
