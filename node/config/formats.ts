// String formats the node and metadata schemas use; registered once, wherever a schema is loaded.
import { isIP } from 'node:net';
import { FormatRegistry } from '@sinclair/typebox';

export function isCidr(value: string): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(value);
  if (!m) return false;
  const family = isIP(m[1]!);
  const bits = Number(m[2]);
  return family !== 0 && bits <= (family === 4 ? 32 : 128);
}

FormatRegistry.Set('kiln-ip', (value) => isIP(value) !== 0);
FormatRegistry.Set('kiln-cidr', isCidr);
// an address kubelet, kubeadm or a route takes: no IPv6 zone (fe80::1%eth0 names a resolver's link)
FormatRegistry.Set('kiln-host-ip', (value) => isIP(value) !== 0 && !value.includes('%'));

/** A URL that parses, with a host unless it is file:// (the pattern next to it says which schemes). */
export function isUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'file:' || u.hostname !== '';
  } catch {
    return false;
  }
}
FormatRegistry.Set('kiln-url', isUrl);
