// The kernel command line as the kernel splits it: spaces separate, double quotes group.
// Pure: the caller reads /proc/cmdline.
import { KilnError } from '../../core/errors.ts';
import { parseTlsPin, TLS_CA_PARAM } from '../../node/serve.ts';

export type Cmdline = Map<string, string | true>;

export function parseCmdline(text: string): Cmdline {
  const out: Cmdline = new Map();
  const words = text.trim().match(/(?:[^\s"]+|"[^"]*")+/g) ?? [];
  for (const word of words) {
    const unquoted = word.replace(/"/g, '');
    const eq = unquoted.indexOf('=');
    // later words win, as for most kernel and systemd parameters
    if (eq === -1) out.set(unquoted, true);
    else out.set(unquoted.slice(0, eq), unquoted.slice(eq + 1));
  }
  return out;
}

export function cmdlineValue(cmdline: Cmdline, key: string): string | undefined {
  const v = cmdline.get(key);
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * cloud-init's `ds=nocloud;s=<seed url>` (also `nocloud-net`, and the `seedfrom=` spelling).
 * The seed URL ends with `/` in cloud-init's examples; kiln adds one when missing.
 */
export function nocloudSeedFrom(cmdline: Cmdline): string | undefined {
  const ds = cmdlineValue(cmdline, 'ds');
  if (!ds) return undefined;
  const [name, ...options] = ds.split(';');
  if (name !== 'nocloud' && name !== 'nocloud-net') return undefined;
  for (const option of options) {
    const m = /^(s|seedfrom)=(.+)$/.exec(option);
    if (m) return m[2]!.endsWith('/') ? m[2]! : `${m[2]!}/`;
  }
  return undefined;
}

/** kiln.tls.ca's pin (hex), checked: a malformed pin is bad input, never ignored. */
export function cmdlineTlsPin(cmdline: Cmdline): string | undefined {
  const text = cmdlineValue(cmdline, TLS_CA_PARAM);
  if (text === undefined) return undefined;
  const pin = parseTlsPin(text);
  if (!pin)
    throw new KilnError(`kernel command line: ${TLS_CA_PARAM}=${text} is not a CA pin kiln understands`, {
      path: TLS_CA_PARAM,
      hint: 'use sha256:<64 hex digits>, the hash kubeadm calls --discovery-token-ca-cert-hash (cluster.json caCertHash)',
      exitCode: 2,
    });
  return pin;
}
