// Hostname, FQDN and /etc/hosts, the way cloud-init's set_hostname and update_etc_hosts work it out:
//   fqdn set            → fqdn; hostname is `hostname` or fqdn's first label
//   hostname is dotted  → it is the fqdn; hostname is its first label
//   otherwise           → `hostname`, else meta-data local-hostname (whose dotted form gives the fqdn)
// prefer_fqdn_over_hostname makes the fqdn the system hostname; preserve_hostname leaves the
// hostname alone (but /etc/hosts is still managed from the names, as cloud-init does).
import type { FileSpec } from '../../model.ts';
import { FQDN_PATTERN, KEY_SCHEMAS } from './schema.ts';
import type { Context } from './report.ts';

export interface MetaData {
  instanceId: string;
  localHostname?: string;
}

const FQDN = new RegExp(FQDN_PATTERN);

interface Names {
  hostname?: string;
  fqdn?: string;
}

function names(cfg: Record<string, unknown>, meta: MetaData): Names {
  const host = typeof cfg.hostname === 'string' ? cfg.hostname : undefined;
  const fqdn = typeof cfg.fqdn === 'string' ? cfg.fqdn : undefined;
  if (fqdn) return { fqdn, hostname: host ?? fqdn.split('.')[0] };
  if (host?.includes('.')) return { fqdn: host, hostname: host.split('.')[0] };
  const local = meta.localHostname;
  const localFqdn = local?.includes('.') ? local : undefined;
  return { hostname: host ?? local?.split('.')[0], fqdn: localFqdn };
}

export function applyHostname(cfg: Record<string, unknown>, meta: MetaData, ctx: Context): void {
  const { report, model } = ctx;
  const ok = (key: 'hostname' | 'fqdn' | 'prefer_fqdn_over_hostname' | 'preserve_hostname' | 'manage_etc_hosts') =>
    cfg[key] === undefined || report.check(KEY_SCHEMAS[key], cfg[key], `/${key}`);
  const valid = [ok('hostname'), ok('fqdn'), ok('prefer_fqdn_over_hostname'), ok('preserve_hostname'), ok('manage_etc_hosts')].every(
    Boolean,
  );
  if (!valid) return;
  if (typeof cfg.fqdn === 'string' && !FQDN.test(cfg.fqdn))
    return report.error(
      '/fqdn',
      `fqdn "${cfg.fqdn}" is not dotted: a fully qualified name has a domain part`,
      'e.g. node-1.example.com; to set only the short name use hostname',
    );

  const found = names(cfg, meta);
  if (cfg.preserve_hostname === true) {
    if (cfg.hostname !== undefined || cfg.fqdn !== undefined)
      report.warn(
        '/preserve_hostname',
        'preserve_hostname is true: the hostname and fqdn given here are not set',
        'remove preserve_hostname to set them',
      );
  } else {
    model.hostname = cfg.prefer_fqdn_over_hostname === true && found.fqdn ? found.fqdn : found.hostname;
    if (found.fqdn) model.fqdn = found.fqdn;
  }

  const manage = cfg.manage_etc_hosts;
  if (manage === undefined || manage === false) return;
  if (manage === 'template')
    report.warn('/manage_etc_hosts', '"template" is a deprecated value of manage_etc_hosts; it means true', 'write manage_etc_hosts: true');
  if (!found.hostname)
    return report.warn(
      '/manage_etc_hosts',
      'manage_etc_hosts needs a hostname; /etc/hosts is left as the image has it',
      'set hostname, or local-hostname in meta-data',
    );
  const aliases = [...new Set([found.fqdn, found.hostname].filter((n): n is string => Boolean(n)))].join(' ');
  const origin = { file: report.origin, path: '/manage_etc_hosts' };
  if (manage === 'localhost') {
    model.files.push(hostsFile([`127.0.1.1 ${aliases}\n`], undefined, origin));
  } else {
    // cloud-init's hosts.debian.tmpl, with the names filled in
    const text = [
      '# Written by kiln-firstboot (cloud-config manage_etc_hosts)',
      `127.0.1.1 ${aliases}`,
      '127.0.0.1 localhost',
      '',
      '# The following lines are desirable for IPv6 capable hosts',
      '::1 localhost ip6-localhost ip6-loopback',
      'ff02::1 ip6-allnodes',
      'ff02::2 ip6-allrouters',
      '',
    ].join('\n');
    model.files.push(hostsFile([], text, origin));
  }
}

function hostsFile(append: string[], contents: string | undefined, origin: FileSpec['origin']): FileSpec {
  return {
    path: '/etc/hosts',
    ...(contents !== undefined ? { contents: { kind: 'inline', data: Buffer.from(contents) } } : {}),
    append: append.map((a) => ({ kind: 'inline', data: Buffer.from(a) })),
    mode: 0o644,
    overwrite: true,
    secret: false,
    origin,
  };
}
