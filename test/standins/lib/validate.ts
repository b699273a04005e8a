// TEST ONLY. Kubernetes' name, label, address and network checks (k8s.io/apimachinery validation,
// Go's net package), with their messages, for the stand-ins.
import { isIP } from 'node:net';

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const QUALIFIED_NAME = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_VALUE = `(${QUALIFIED_NAME})?`;

export function isDns1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push('must be no more than 253 characters');
  if (!new RegExp(`^${DNS1123_SUBDOMAIN}$`).test(value))
    errs.push(
      `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '${DNS1123_SUBDOMAIN}')`,
    );
  return errs;
}

export function isDns1123Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 characters');
  if (!new RegExp(`^${DNS1123_LABEL}$`).test(value))
    errs.push(
      `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '${DNS1123_LABEL}')`,
    );
  return errs;
}

/** A label or taint key: an optional DNS subdomain prefix and "/", then a name of up to 63 characters. */
export function isQualifiedName(value: string): string[] {
  const parts = value.split('/');
  let name = value;
  const errs: string[] = [];
  if (parts.length === 2) {
    const [prefix, n] = parts as [string, string];
    name = n;
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else errs.push(...isDns1123Subdomain(prefix).map((e) => `prefix part ${e}`));
  } else if (parts.length > 2) {
    return [
      `a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '${QUALIFIED_NAME}') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  if (name.length > 0 && !new RegExp(`^${QUALIFIED_NAME}$`).test(name))
    errs.push(
      `name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '${QUALIFIED_NAME}')`,
    );
  return errs;
}

export function isValidLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 characters');
  if (!new RegExp(`^${LABEL_VALUE}$`).test(value))
    errs.push(
      `a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '${LABEL_VALUE}')`,
    );
  return errs;
}

/** Go's net.SplitHostPort: host and port, or Go's error message. */
export function splitHostPort(hostport: string): { host: string; port: string } | { error: string } {
  const missingPort = { error: `address ${hostport}: missing port in address` };
  if (hostport.startsWith('[')) {
    const end = hostport.indexOf(']');
    if (end === -1) return { error: `address ${hostport}: missing ']' in address` };
    if (end + 1 === hostport.length) return missingPort;
    if (hostport[end + 1] !== ':') return { error: `address ${hostport}: missing port in address` };
    return { host: hostport.slice(1, end), port: hostport.slice(end + 2) };
  }
  const i = hostport.lastIndexOf(':');
  if (i === -1) return missingPort;
  if (hostport.indexOf(':') !== i) return { error: `address ${hostport}: too many colons in address` };
  return { host: hostport.slice(0, i), port: hostport.slice(i + 1) };
}

export function isValidPort(port: string | number): boolean {
  const n = typeof port === 'number' ? port : /^[0-9]+$/.test(port) ? Number(port) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

/** kubeadm's ParseHostPort: `host[:port]`, host an IP or a DNS subdomain. */
export function parseHostPort(endpoint: string): { host: string; port?: string } | undefined {
  let host = endpoint;
  let port: string | undefined;
  const split = splitHostPort(endpoint);
  if ('host' in split) {
    host = split.host;
    port = split.port;
  }
  if (port !== undefined && !isValidPort(port)) return undefined;
  if (isIP(host) === 0 && isDns1123Subdomain(host).length > 0) return undefined;
  return port === undefined ? { host } : { host, port };
}

// --- addresses and networks -------------------------------------------------------------------

function ipToBigInt(ip: string): { value: bigint; bits: 32 | 128 } {
  if (isIP(ip) === 4) return { value: ip.split('.').reduce((a, o) => (a << 8n) | BigInt(Number(o)), 0n), bits: 32 };
  let text = ip;
  const v4 = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = ipToBigInt(v4[1]!).value;
    text = `${text.slice(0, v4.index)}:${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return { value: groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n), bits: 128 };
}

function bigIntToIp(value: bigint, bits: 32 | 128): string {
  if (bits === 32) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 255n)).join('.');
  const groups: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((value >> s) & 0xffffn).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

export interface Cidr {
  text: string;
  base: bigint;
  prefix: number;
  bits: 32 | 128;
}

/** Go's net.ParseCIDR; undefined when it would fail. */
function parseCidr(text: string): Cidr | undefined {
  const m = /^([^/]+)\/([0-9]{1,3})$/.exec(text);
  if (!m || isIP(m[1]!) === 0) return undefined;
  const { value, bits } = ipToBigInt(m[1]!);
  const prefix = Number(m[2]);
  if (prefix > bits) return undefined;
  const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - prefix)) - 1n);
  return { text, base: value & mask, prefix, bits };
}

function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(c.bits - c.prefix);
}

/** The n-th address of a network (kubeadm puts cluster DNS at .10 of the service subnet). */
export function nthAddress(c: Cidr, n: number): string {
  return bigIntToIp(c.base + BigInt(n), c.bits);
}

/** kubeadm's ValidateIPNetFromString for one or two (dual-stack) comma-separated networks. */
export function validateSubnets(text: string, minAddresses: number): { cidrs: Cidr[]; errors: string[] } {
  const cidrs: Cidr[] = [];
  for (const part of text.split(',')) {
    const c = parseCidr(part);
    if (!c) return { cidrs: [], errors: ["couldn't parse subnet"] };
    cidrs.push(c);
  }
  const errors: string[] = [];
  if (cidrs.length > 2 || (cidrs.length === 2 && cidrs[0]!.bits === cidrs[1]!.bits))
    errors.push('expected one (IPv4 or IPv6) CIDR or two CIDRs from each family for dual-stack networking');
  for (const c of cidrs) {
    const size = cidrSize(c);
    if (size < BigInt(minAddresses)) errors.push(`subnet with ${size} address(es) is too small, the minimum is ${minAddresses}`);
  }
  return { cidrs, errors };
}
