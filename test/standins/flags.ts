// TEST ONLY. A strict command-line flag parser with spf13/pflag's rules and messages (kubeadm,
// helm and kubectl all parse flags with pflag via cobra): `--name=value`, `--name value`,
// shorthand groups (`-ojson`, `-o json`, `-o=json`), `--` ends the flags, flags may follow
// positional arguments. Unknown flags, missing values and unparsable values are errors worded as
// pflag words them; each tool prints them in its own style.

export type FlagType = 'bool' | 'string' | 'int' | 'int32' | 'float32' | 'stringSlice' | 'stringArray' | 'stringToString' | 'duration';

export interface FlagSpec {
  type: FlagType;
  short?: string;
  /** pflag's NoOptDefVal: the flag may be given bare (`--dry-run`) and then takes this value; a value needs `=`. */
  noOptDefVal?: string;
}

export type FlagSpecs = Record<string, FlagSpec>;
type FlagValue = string | number | boolean | string[];

export interface ParsedFlags {
  /** Values of the flags that were set, by long name. */
  values: Map<string, FlagValue>;
  /** Long names of the flags that were set, sorted (pflag's Visit order). */
  changed: string[];
  positional: string[];
}

export class FlagError extends Error {}

const GO_DURATION = /^[-+]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$/;

/** Go's time.ParseDuration, to milliseconds; throws Go's message. */
export function parseGoDuration(text: string): number {
  if (text === '0' || text === '+0' || text === '-0') return 0;
  if (text === '') throw new FlagError('time: invalid duration ""');
  if (!GO_DURATION.test(text)) {
    if (/^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$/.test(text)) throw new FlagError(`time: missing unit in duration ${JSON.stringify(text)}`);
    const unit = /^[-+]?[0-9.]+([^0-9.]+)/.exec(text)?.[1];
    if (unit) throw new FlagError(`time: unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(text)}`);
    throw new FlagError(`time: invalid duration ${JSON.stringify(text)}`);
  }
  const scale: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const m of text.matchAll(/([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(m[1]) * scale[m[2]!]!;
  return text.startsWith('-') ? -total : total;
}

/** pflag's stringSlice: values are CSV fields. */
function csv(value: string): string[] {
  if (value === '') return [];
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted) {
      if (c === '"' && value[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      out.push(field);
      field = '';
    } else field += c;
  }
  if (quoted) throw new FlagError(`parse error on line 1, column ${value.length}: extraneous or missing " in quoted-field`);
  out.push(field);
  return out;
}

function flagTitle(name: string, spec: FlagSpec): string {
  return spec.short ? `-${spec.short}, --${name}` : `--${name}`;
}

function convert(name: string, spec: FlagSpec, raw: string, previous: FlagValue | undefined): FlagValue {
  const invalid = (why: string) =>
    new FlagError(`invalid argument ${JSON.stringify(raw)} for ${JSON.stringify(flagTitle(name, spec))} flag: ${why}`);
  switch (spec.type) {
    case 'bool': {
      const v = {
        '1': true,
        t: true,
        T: true,
        TRUE: true,
        true: true,
        True: true,
        '0': false,
        f: false,
        F: false,
        FALSE: false,
        false: false,
        False: false,
      }[raw];
      if (v === undefined) throw invalid(`strconv.ParseBool: parsing ${JSON.stringify(raw)}: invalid syntax`);
      return v;
    }
    case 'int':
    case 'int32': {
      if (!/^[-+]?[0-9]+$/.test(raw)) throw invalid(`strconv.ParseInt: parsing ${JSON.stringify(raw)}: invalid syntax`);
      const n = Number(raw);
      const limit = spec.type === 'int32' ? 2 ** 31 : 2 ** 63;
      if (n >= limit || n < -limit) throw invalid(`strconv.ParseInt: parsing ${JSON.stringify(raw)}: value out of range`);
      return n;
    }
    case 'float32': {
      // strconv.ParseFloat(s, 32): Go's float syntax, finite within float32's range
      if (!/^[-+]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?|[iI]nf(inity)?|NaN)$/.test(raw))
        throw invalid(`strconv.ParseFloat: parsing ${JSON.stringify(raw)}: invalid syntax`);
      const n = Number(raw.replace(/^([-+]?)[iI]nf(inity)?$/, '$1Infinity'));
      if (Number.isFinite(n) && Math.abs(n) > 3.4028234663852886e38)
        throw invalid(`strconv.ParseFloat: parsing ${JSON.stringify(raw)}: value out of range`);
      return n;
    }
    case 'stringToString': {
      // pflag's stringToString: CSV fields of key=value, merged into the earlier ones
      let fields: string[];
      try {
        fields = csv(raw);
      } catch (error) {
        throw invalid((error as Error).message);
      }
      const pairs = fields.map((f) => {
        const eq = f.indexOf('=');
        if (eq === -1) throw invalid(`${f} must be formatted as key=value`);
        return `${f.slice(0, eq)}=${f.slice(eq + 1)}`;
      });
      return [...((previous as string[] | undefined) ?? []), ...pairs];
    }
    case 'duration':
      try {
        parseGoDuration(raw);
      } catch (error) {
        throw invalid((error as Error).message);
      }
      return raw;
    case 'stringSlice':
      try {
        return [...((previous as string[] | undefined) ?? []), ...csv(raw)];
      } catch (error) {
        throw invalid((error as Error).message);
      }
    case 'stringArray':
      return [...((previous as string[] | undefined) ?? []), raw];
    case 'string':
      return raw;
  }
}

interface ParseOptions {
  /** kubeadm normalises `_` to `-` in flag names (cliflag.WordSepNormalizeFunc). */
  normalizeUnderscores?: boolean;
}

export function parseFlags(args: string[], specs: FlagSpecs, opts: ParseOptions = {}): ParsedFlags {
  const values = new Map<string, FlagValue>();
  const positional: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) if (spec.short) byShort.set(spec.short, name);
  const set = (name: string, raw: string) => {
    const spec = specs[name]!;
    values.set(name, convert(name, spec, raw, values.get(name)));
  };

  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      let name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      if (opts.normalizeUnderscores) name = name.replace(/_/g, '-');
      if (name === '' || name.startsWith('-') || name.startsWith('=')) throw new FlagError(`bad flag syntax: ${arg}`);
      const spec = specs[name];
      if (!spec) throw new FlagError(`unknown flag: --${name}`);
      if (eq !== -1) set(name, arg.slice(eq + 1));
      else if (spec.type === 'bool') set(name, 'true');
      else if (spec.noOptDefVal !== undefined) set(name, spec.noOptDefVal);
      else if (i + 1 < args.length) set(name, args[++i]!);
      else throw new FlagError(`flag needs an argument: ${arg}`);
      continue;
    }
    if (arg.startsWith('-') && arg !== '-') {
      // a group of shorthands: -abc, -ojson, -o=json
      let rest = arg.slice(1);
      while (rest.length > 0) {
        const c = rest[0]!;
        const name = byShort.get(c);
        if (!name) throw new FlagError(`unknown shorthand flag: '${c}' in -${rest}`);
        const spec = specs[name]!;
        const after = rest.slice(1);
        if (after.startsWith('=')) {
          set(name, after.slice(1));
          rest = '';
        } else if (spec.type === 'bool') {
          set(name, 'true');
          rest = after;
        } else if (spec.noOptDefVal !== undefined) {
          set(name, after.length > 0 ? after : spec.noOptDefVal);
          rest = '';
        } else if (after.length > 0) {
          set(name, after);
          rest = '';
        } else if (i + 1 < args.length) {
          set(name, args[++i]!);
          rest = '';
        } else throw new FlagError(`flag needs an argument: '${c}' in -${c}`);
      }
      continue;
    }
    positional.push(arg);
  }
  return { values, changed: [...values.keys()].sort(), positional };
}

/**
 * The first positional argument (the subcommand), found the way cobra's stripFlags finds it: a
 * `--flag` without `=` (or a lone `-f`) is taken to have a value in the next argument, unless it is
 * a known flag that needs none (bool, or one with a NoOptDefVal).
 */
export function findCommand(args: string[], globals: FlagSpecs): { command: string | undefined; rest: string[] } {
  const byShort = new Map<string, FlagSpec>();
  for (const spec of Object.values(globals)) if (spec.short) byShort.set(spec.short, spec);
  const takesValue = (spec: FlagSpec | undefined) => !spec || (spec.type !== 'bool' && spec.noOptDefVal === undefined);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return { command: undefined, rest: args };
    if (arg.startsWith('--')) {
      if (!arg.includes('=') && takesValue(globals[arg.slice(2)])) i++;
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      if (arg.length === 2 && takesValue(byShort.get(arg[1]!))) i++;
      continue;
    }
    if (arg === '') continue;
    return { command: arg, rest: [...args.slice(0, i), ...args.slice(i + 1)] };
  }
  return { command: undefined, rest: args };
}

export function str(p: ParsedFlags, name: string): string | undefined {
  const v = p.values.get(name);
  return v === undefined ? undefined : String(v);
}

export function list(p: ParsedFlags, name: string): string[] {
  const v = p.values.get(name);
  return Array.isArray(v) ? v : [];
}

export function bool(p: ParsedFlags, name: string): boolean {
  return p.values.get(name) === true;
}
