// Reading untrusted network-config values: each reader checks one field, reports what is wrong at
// that field's JSON path with a hint saying what is expected, and returns undefined when unusable,
// so a parser can go on and report every problem in one pass.
import { isIP } from 'node:net';
import type { Report } from '../../../core/problem.ts';
import { closest } from '../../../core/schema.ts';
import { isCidr } from '../../config/formats.ts';

export type Mapping = Record<string, unknown>;

/** Appends JSON-pointer segments (escaping `~` and `/`). */
export const at = (base: string, ...keys: Array<string | number>): string =>
  base + keys.map((k) => `/${String(k).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

export const isMapping = (v: unknown): v is Mapping => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

/** A value as a message shows it: short JSON, or the kind of thing it is. */
export function show(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (isMapping(value)) return 'a mapping';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}..."` : text;
}

/** A string format: its test, what a value failing it is not, and what to write instead. */
export interface Format {
  test: (s: string) => boolean;
  what: string;
  hint: string;
}

export const familyOf = (address: string): 4 | 6 | undefined => {
  const f = isIP(address.split('/')[0]!);
  return f === 4 || f === 6 ? f : undefined;
};

export const IP: Format = {
  test: (s) => isIP(s) !== 0,
  what: 'an IP address',
  hint: 'an IPv4 or IPv6 address, e.g. 192.0.2.1 or 2001:db8::1',
};
export const IPV4: Format = { test: (s) => isIP(s) === 4, what: 'an IPv4 address', hint: 'an IPv4 address, e.g. 192.0.2.1' };
export const CIDR: Format = {
  test: isCidr,
  what: 'an address with a prefix length',
  hint: 'an IPv4 or IPv6 address with its prefix length, e.g. 192.0.2.10/24 or 2001:db8::10/64',
};
/** Route and rule endpoints: a prefix, or a bare address meaning a single host. */
export const PREFIX: Format = {
  test: (s) => isCidr(s) || isIP(s) !== 0,
  what: 'an address or prefix',
  hint: 'an IPv4 or IPv6 prefix such as 10.0.0.0/8 or 2001:db8::/32, or a single address',
};
export const MAC: Format = {
  // 6 bytes for Ethernet, 20 for InfiniBand (IPoIB), as netplan allows
  test: (s) => /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(s) || /^[0-9a-f]{2}(:[0-9a-f]{2}){19}$/i.test(s),
  what: 'a MAC address',
  hint: 'six colon-separated hex bytes, e.g. 52:54:00:12:34:56 (quote it in YAML)',
};
export const IFNAME: Format = {
  test: (s) => /^[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,14}$/.test(s),
  what: 'a valid interface name',
  hint: 'a Linux interface name: 1 to 15 characters from letters, digits and _ . - @ + (no spaces, / or :)',
};
/** Netplan ids of matched devices are labels, not names: only file-name safety matters. */
export const ID: Format = {
  test: (s) => /^[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,63}$/.test(s),
  what: 'a usable id',
  hint: 'up to 64 characters from letters, digits and _ . - @ + (the id names the generated files)',
};
export const DOMAIN: Format = {
  test: (s) => s === '~.' || /^~?[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/.test(s),
  what: 'a DNS domain',
  hint: 'a domain name such as example.com',
};
export const GLOB: Format = {
  test: (s) => s.length > 0 && !/\s/.test(s),
  what: 'a name or glob',
  hint: 'an interface name or shell glob without spaces, e.g. enp3s0 or enp*',
};

/** Booleans as netplan and cloud-init read them (YAML 1.1): true/false plus yes/no/on/off strings. */
function toBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number' && (v === 0 || v === 1)) return v === 1;
  if (typeof v !== 'string') return undefined;
  const s = v.toLowerCase();
  if (['true', 'yes', 'y', 'on', '1'].includes(s)) return true;
  if (['false', 'no', 'n', 'off', '0'].includes(s)) return false;
  return undefined;
}

/** Whole numbers, also when quoted (netplan reads every scalar as text). */
function toInt(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  if (typeof v === 'string' && /^\d{1,15}$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

/**
 * A duration for a networkd `...Sec=` key: a number in `unit`, or a number with a suffix
 * (`100ms`, `2s`), as netplan accepts.
 */
export function toTimespan(v: unknown, unit: 'ms' | 's'): string | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? `${v}${unit}` : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^(\d{1,12})\s*(us|ms|s|sec|min|m|h)?$/.exec(v.trim());
  return m ? `${m[1]}${m[2] ?? unit}` : undefined;
}

export const UINT32_MAX = 4294967295;

/** Reads the fields of one mapping, reporting each bad one at its own path. */
export class Fields {
  constructor(
    readonly report: Report,
    readonly value: Mapping,
    readonly path: string,
  ) {}

  /** Starts on a value that must be a mapping; reports and returns undefined otherwise. */
  static of(report: Report, value: unknown, path: string, what: string, hint: string): Fields | undefined {
    if (isMapping(value)) return new Fields(report, value, path);
    report.error(path, `${what} must be a mapping, not ${show(value)}`, hint);
    return undefined;
  }

  has(key: string): boolean {
    return this.value[key] !== undefined && this.value[key] !== null;
  }

  at(key: string | number, ...more: Array<string | number>): string {
    return at(this.path, key, ...more);
  }

  /**
   * Reports every key not in `known`: valid-but-unsupported keys (with their reason) as warnings,
   * anything else as an error with the nearest known key.
   */
  keys(known: readonly string[], unsupported: Readonly<Record<string, string>> = {}, skip: readonly string[] = []): void {
    for (const key of Object.keys(this.value)) {
      if (known.includes(key) || skip.includes(key)) continue;
      if (Object.hasOwn(unsupported, key)) {
        this.report.warn(this.at(key), `"${key}" is not supported by kiln and is ignored`, unsupported[key]!);
        continue;
      }
      const near = closest(key, [...known, ...Object.keys(unsupported)]);
      this.report.error(
        this.at(key),
        `unknown key "${key}"`,
        near ? `did you mean "${near}"? allowed here: ${known.join(', ')}` : `allowed here: ${known.join(', ')}`,
      );
    }
  }

  /** A required field: reports its absence. */
  need(key: string, hint: string): boolean {
    if (this.has(key)) return true;
    this.report.error(this.path, `missing required key "${key}"`, hint);
    return false;
  }

  str(key: string, format?: Format): string | undefined {
    return readString(this.report, this.value[key], this.at(key), format);
  }

  int(key: string, min: number, max: number, hint?: string): number | undefined {
    return readInt(this.report, this.value[key], this.at(key), min, max, hint);
  }

  bool(key: string): boolean | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    const b = toBool(v);
    if (b === undefined) this.report.error(this.at(key), `${show(v)} is not a boolean`, 'true or false');
    return b;
  }

  /** A string out of a fixed set. */
  choice<T extends string>(key: string, options: readonly T[]): T | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string' && (options as readonly string[]).includes(v)) return v as T;
    const near = typeof v === 'string' ? closest(v, [...options]) : undefined;
    this.report.error(
      this.at(key),
      `${show(v)} is not one of: ${options.join(', ')}`,
      near ? `did you mean "${near}"?` : `one of: ${options.join(', ')}`,
    );
    return undefined;
  }

  list(key: string, hint: string): unknown[] | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (Array.isArray(v)) return v;
    this.report.error(this.at(key), `${show(v)} is not a list`, hint);
    return undefined;
  }

  /** A list of strings of one format; bad entries are reported and left out. */
  strings(key: string, format: Format | undefined, hint: string): string[] | undefined {
    const items = this.list(key, hint);
    return items?.flatMap((item, i) => readString(this.report, item, this.at(key, i), format) ?? []);
  }

  map(key: string, hint: string): Fields | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    return Fields.of(this.report, v, this.at(key), `"${key}"`, hint);
  }
}

export function readString(report: Report, v: unknown, path: string, format?: Format): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v === '') {
    report.error(path, `${show(v)} is not ${format ? format.what : 'a non-empty string'}`, format?.hint ?? 'a non-empty string');
    return undefined;
  }
  if (format && !format.test(v)) {
    report.error(path, `${show(v)} is not ${format.what}`, format.hint);
    return undefined;
  }
  return v;
}

function readInt(report: Report, v: unknown, path: string, min: number, max: number, hint?: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = toInt(v);
  const range = `a whole number from ${min} to ${max}`;
  if (n === undefined) {
    report.error(path, `${show(v)} is not a whole number`, hint ?? range);
    return undefined;
  }
  if (n < min || n > max) {
    report.error(path, `${n} is out of range`, hint ?? range);
    return undefined;
  }
  return n;
}

/** Whether `address` lies inside `prefix` (both of one family). */
export function inPrefix(address: string, prefix: string): boolean {
  const [net, bits] = prefix.split('/');
  const fa = familyOf(address);
  if (!fa || fa !== familyOf(net!)) return false;
  const width = fa === 4 ? 32 : 128;
  const len = bits === undefined ? width : Number(bits);
  const shift = BigInt(width - len);
  return toBig(address) >> shift === toBig(net!) >> shift;
}

/** A prefix whose address has bits set past its length (10.1.2.3/8): the kernel rejects it as a route. */
export function hasHostBits(prefix: string): boolean {
  const [net, bits] = prefix.split('/');
  const f = familyOf(net!);
  if (!f || bits === undefined) return false;
  const host = BigInt((f === 4 ? 32 : 128) - Number(bits));
  return (toBig(net!) & ((1n << host) - 1n)) !== 0n;
}

function toBig(address: string): bigint {
  if (isIP(address) === 4) return address.split('.').reduce((acc, o) => (acc << 8n) + BigInt(Number(o)), 0n);
  let text = address.split('%')[0]!;
  // an embedded IPv4 tail (::ffff:192.0.2.1) becomes two hextets
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = toBig(v4[1]!);
    text = `${text.slice(0, -v4[1]!.length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g || '0', 16)), 0n);
}

/** A dotted IPv4 netmask (255.255.255.0) or a prefix length ("24") as a prefix length. */
export function prefixLength(mask: unknown, family: 4 | 6): number | undefined {
  const text = typeof mask === 'number' ? String(mask) : typeof mask === 'string' ? mask.trim().replace(/^\//, '') : undefined;
  if (text === undefined) return undefined;
  if (/^\d{1,3}$/.test(text)) {
    const n = Number(text);
    return n <= (family === 4 ? 32 : 128) ? n : undefined;
  }
  if (family !== 4 || isIP(text) !== 4) return undefined;
  const bits = toBig(text).toString(2).padStart(32, '0');
  return /^1*0*$/.test(bits) ? (bits.indexOf('0') === -1 ? 32 : bits.indexOf('0')) : undefined;
}
