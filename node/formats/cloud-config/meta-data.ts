// NoCloud meta-data: YAML (or JSON, which YAML reads) with `instance-id` and optionally
// `local-hostname`. Providers put many other keys here (public-keys, availability-zone, ...);
// they are ignored. A numeric instance-id is taken as its decimal text.
import { isIPv4 } from 'node:net';
import { type Problem } from '../../../core/problem.ts';
import { ValidationError } from '../../../core/errors.ts';
import { byPosition } from '../../../core/problem.ts';
import { readYaml } from '../../../core/yaml.ts';
import { Hostname } from './schema.ts';
import { Report } from '../../../core/problem.ts';
import type { MetaData } from './hostname.ts';

export function parseMetaData(text: string, file: string): MetaData {
  const doc = readYaml(text, file);
  const report = new Report(file);
  const meta = doc.value;
  const fail = (): never => {
    throw new ValidationError(report.problems.map((p: Problem) => doc.locate(p)).sort(byPosition));
  };
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    report.error(
      '',
      `meta-data must be a mapping with at least "instance-id", not ${meta === null || meta === undefined ? 'empty' : Array.isArray(meta) ? 'a list' : typeof meta}`,
      'e.g. instance-id: node-1-v1\nlocal-hostname: node-1',
    );
    return fail();
  }
  const m = meta as Record<string, unknown>;
  const id = m['instance-id'];
  let instanceId = '';
  if (id === undefined || id === null || id === '')
    report.error('', 'meta-data has no "instance-id"', 'add "instance-id: <id>"; a new id makes kiln-firstboot provision the node again');
  else if (typeof id === 'number' && Number.isSafeInteger(id)) instanceId = String(id);
  else if (typeof id !== 'string' || /[\s/]/.test(id) || id.length > 255)
    report.error(
      '/instance-id',
      'instance-id must be a string without spaces or "/"',
      'e.g. instance-id: node-1-v1 (quote it if YAML would read it as something else)',
    );
  else instanceId = id;

  let localHostname: string | undefined;
  const host = m['local-hostname'];
  if (host !== undefined && host !== null) {
    // cloud-init names a node whose local-hostname is an IPv4 address ip-a-b-c-d
    const name = typeof host === 'string' && isIPv4(host) ? `ip-${host.replace(/\./g, '-')}` : host;
    if (report.check(Hostname, name, '/local-hostname')) localHostname = name as string;
  }
  if (report.problems.length > 0) return fail();
  return { instanceId, ...(localHostname ? { localHostname } : {}) };
}
