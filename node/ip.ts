// IP address spelling both programs compare by.
import { isIP } from 'node:net';

/**
 * One spelling per address (IPv6 compressed, lower case), so equal addresses compare equal. An
 * IPv6 zone (`fe80::3%lan0`, a link-local resolver) is kept as written: the URL parser that
 * canonicalises the address refuses zones.
 */
export function canonicalIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const [address, zone] = ip.split('%');
  return `${new URL(`http://[${address}]/`).hostname.slice(1, -1)}${zone === undefined ? '' : `%${zone}`}`;
}
