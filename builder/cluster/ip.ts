// IPv4/IPv6 addresses and networks as numbers, for the cluster spec's "is this address in that
// subnet" checks. BigInt so both families use the same arithmetic.
import { isIP } from 'node:net';

export interface Net {
  family: 4 | 6;
  /** The address as given (host bits kept). */
  address: bigint;
  prefix: number;
}

const bitsOf = (family: 4 | 6) => (family === 4 ? 32 : 128);

/** An IP address as a number; undefined when it is not one. */
function ipValue(ip: string): { family: 4 | 6; value: bigint } | undefined {
  const family = isIP(ip);
  if (family === 4) return { family, value: ip.split('.').reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n) };
  if (family !== 6) return undefined;
  // an embedded IPv4 tail (::ffff:10.0.0.1) becomes two hextets
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  const text = v4 ? ip.replace(v4[1]!, ((n) => `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`)(ipValue(v4[1]!)!.value)) : ip;
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return { family, value: groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

/** `address/prefix` (or a bare address, as a host route); undefined when malformed. */
export function parseNet(cidr: string): Net | undefined {
  const [ip, len] = cidr.split('/');
  const parsed = ipValue(ip ?? '');
  if (!parsed) return undefined;
  const prefix = len === undefined ? bitsOf(parsed.family) : Number(len);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bitsOf(parsed.family)) return undefined;
  return { family: parsed.family, address: parsed.value, prefix };
}

const mask = (net: Net) => ((1n << BigInt(net.prefix)) - 1n) << BigInt(bitsOf(net.family) - net.prefix);

/** Whether the address lies in the network (same family, same network bits). */
export function contains(net: Net, ip: string): boolean {
  const v = ipValue(ip);
  return v !== undefined && v.family === net.family && (v.value & mask(net)) === (net.address & mask(net));
}

/** Whether two networks share any address. */
export function overlaps(a: Net, b: Net): boolean {
  if (a.family !== b.family) return false;
  const shorter = a.prefix <= b.prefix ? a : b;
  const other = shorter === a ? b : a;
  return (other.address & mask(shorter)) === (shorter.address & mask(shorter));
}

/** An address (its number) as text: dotted quad, or IPv6 in its canonical short form. */
export function ipText(family: 4 | 6, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1); // WHATWG URL shortens it (RFC 5952)
}

export const ipv4Text = (value: bigint): string => ipText(4, value);

/** The network address of a net, e.g. 10.0.2.11/24 → 10.0.2.0/24. */
export const networkText = (net: Net): string => `${ipText(net.family, net.address & mask(net))}/${net.prefix}`;

/** The dotted netmask of an IPv4 prefix length (dnsmasq and dhcpd want 255.255.255.0, not /24). */
export const ipv4Netmask = (prefix: number): string => ipv4Text(mask({ family: 4, address: 0n, prefix }));

/** The address part of `address/prefix`. */
export const hostOf = (cidr: string): string => cidr.split('/')[0]!;

export { canonicalIp } from '../../node/ip.ts';
