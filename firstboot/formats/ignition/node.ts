// Files whose contents kiln reads itself: the node config /etc/kiln/node.yaml (validated now when
// inline; remote ones are validated by the resolver after fetching) and /etc/hostname (Ignition
// has no hostname field: the file is how an Ignition config names the machine).
import { ValidationError } from '../../../builder/errors.ts';
import { readYaml } from '../../../builder/spec/yaml.ts';
import { nodeConfigProblems, SECRET_PATHS } from '../../config/parse.ts';
import { HOSTNAME_PATTERN, type NodeConfig } from '../../config/schema.ts';
import type { FileSpec, Provisioning } from '../../model.ts';
import type { Report } from './report.ts';

export const NODE_CONFIG_PATH = '/etc/kiln/node.yaml';

/** The node config of an inline /etc/kiln/node.yaml; problems go under the file's contents source. */
export function nodeConfigOf(file: FileSpec, r: Report): NodeConfig | undefined {
  const at = `${file.origin.path}/contents/source`;
  if (file.append.length > 0) {
    r.error(`${file.origin.path}/append`, `${NODE_CONFIG_PATH} is read as a whole; append is not supported for it`, 'put the whole node config in contents');
    return undefined;
  }
  if (file.contents?.kind !== 'inline') return undefined;
  let doc: ReturnType<typeof readYaml>;
  try {
    doc = readYaml(file.contents.data.toString('utf8'), NODE_CONFIG_PATH);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    for (const p of error.problems) r.error(at, `${p.file}: ${p.message}`, p.hint);
    return undefined;
  }
  if (doc.value === null || typeof doc.value !== 'object' || Array.isArray(doc.value)) {
    r.error(at, `${NODE_CONFIG_PATH}: the node config must be a YAML mapping`, 'start with role:, cluster:, node: (see `kiln schema node`)');
    return undefined;
  }
  const problems = nodeConfigProblems(doc.value, NODE_CONFIG_PATH);
  for (const p of problems) {
    const located = doc.locate(p);
    const message = SECRET_PATHS.includes(p.path) ? hideValue(p.message, valueAt(doc.value, p.path)) : p.message;
    r.error(at, `${located.file}: ${p.path || '(top)'}: ${message}`, p.hint);
  }
  return problems.length === 0 ? (doc.value as NodeConfig) : undefined;
}

function valueAt(root: unknown, pointer: string): unknown {
  return pointer
    .split('/')
    .slice(1)
    .reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), root);
}

/** Drops the value schema messages start with (`"abc...": expected ...`): secrets are never shown. */
function hideValue(message: string, value: unknown): string {
  if (value === undefined) return message;
  const text = JSON.stringify(value);
  const shown = text.length > 40 ? `${text.slice(0, 37)}...` : text;
  return message.startsWith(`${shown}: `) ? `(value hidden) ${message.slice(shown.length + 2)}` : message;
}

/** hostname (and fqdn when dotted) from an inline /etc/hostname; hostname(5) skips comments. */
export function hostnameOf(file: FileSpec, r: Report): Pick<Provisioning, 'hostname' | 'fqdn'> {
  if (file.contents?.kind !== 'inline' || file.append.length > 0) return {};
  const name = file.contents.data
    .toString('utf8')
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '' && !l.startsWith('#'));
  if (name === undefined) return {};
  if (!new RegExp(HOSTNAME_PATTERN).test(name) || name.length > 253) {
    r.error(
      `${file.origin.path}/contents/source`,
      `/etc/hostname holds "${name.slice(0, 64)}", which is not a valid host name`,
      'lower-case letters, digits, "-" and ".", starting and ending with a letter or digit (RFC 1123), e.g. worker-1',
    );
    return {};
  }
  return name.includes('.') ? { hostname: name.split('.')[0]!, fqdn: name } : { hostname: name };
}
