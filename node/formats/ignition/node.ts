// /etc/hostname, whose contents kiln reads itself: Ignition has no hostname field, the file is how
// an Ignition config names the machine. (The node config file is config/node-file.ts's business.)
import { HOSTNAME_PATTERN } from '../../config/schema.ts';
import type { FileSpec, Provisioning } from '../../model.ts';
import type { Report } from '../../../core/problem.ts';

const HOSTNAME = new RegExp(HOSTNAME_PATTERN);

/** hostname (and fqdn when dotted) from an inline /etc/hostname; hostname(5) skips comments. */
export function hostnameOf(file: FileSpec, r: Report): Pick<Provisioning, 'hostname' | 'fqdn'> {
  if (file.contents?.kind !== 'inline' || file.append.length > 0) return {};
  const name = file.contents.data
    .toString('utf8')
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '' && !l.startsWith('#'));
  if (name === undefined) return {};
  if (!HOSTNAME.test(name) || name.length > 253) {
    r.error(
      `${file.origin.path}/contents/source`,
      `/etc/hostname holds "${name.slice(0, 64)}", which is not a valid host name`,
      'lower-case letters, digits, "-" and ".", starting and ending with a letter or digit (RFC 1123), e.g. worker-1',
    );
    return {};
  }
  return name.includes('.') ? { hostname: name.split('.')[0]!, fqdn: name } : { hostname: name };
}
