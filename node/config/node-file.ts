// The node config as a file, /etc/kiln/node.yaml: how the model gets its `node` whichever format
// wrote the file (an Ignition file, a cloud-config write_files entry, a remote source the resolver
// fetched). Problems point into the YAML (file:line:col) and are reported at the file's contents.
import { where, type Problem } from '../../core/problem.ts';
import { ValidationError } from '../../core/errors.ts';
import { readYaml } from '../../core/yaml.ts';
import { NODE_CONFIG_PATH } from '../layout.ts';
import { type FileSpec, type Provisioning } from '../model.ts';
import { nodeConfigProblems } from './parse.ts';
import type { NodeConfig } from './schema.ts';

/** Node config text (YAML) → the config, or every problem with its line and column. */
export function readNodeConfig(text: string, where: string): { config?: NodeConfig; problems: Problem[] } {
  let doc: ReturnType<typeof readYaml>;
  try {
    doc = readYaml(text, where);
  } catch (error) {
    if (error instanceof ValidationError) return { problems: error.problems };
    throw error;
  }
  if (doc.value === null || typeof doc.value !== 'object' || Array.isArray(doc.value))
    return {
      problems: [
        {
          file: where,
          path: '',
          message: 'the node config must be a YAML mapping',
          hint: 'start with role:, cluster:, node: (see `kiln schema node`)',
          severity: 'error' as const,
        },
      ],
    };
  const problems = nodeConfigProblems(doc.value, where).map(doc.locate);
  return problems.length > 0 ? { problems } : { config: doc.value as NodeConfig, problems: [] };
}

// where each format keeps a file's data, for problems in it
const CONTENTS_AT: Record<Provisioning['format'], string> = { ignition: '/contents/source', 'cloud-config': '/content' };

/**
 * Sets `model.node` from an inline /etc/kiln/node.yaml when the model has no node config yet;
 * returns the problems (a remote file waits for the resolver; nothing to do without the file).
 */
export function adoptNodeConfig(model: Provisioning): Problem[] {
  const file = model.files.find((f) => f.path === NODE_CONFIG_PATH);
  if (model.node || !file) return [];
  const at = (f: FileSpec, suffix: string) => ({ file: f.origin.file, path: `${f.origin.path}${suffix}` });
  if (file.append.length > 0)
    return [
      {
        ...at(file, '/append'),
        message: `${NODE_CONFIG_PATH} is read as a whole; append is not supported for it`,
        hint: 'put the whole node config in its contents',
        severity: 'error' as const,
      },
    ];
  if (file.contents?.kind !== 'inline') return [];
  const { config, problems } = readNodeConfig(file.contents.data.toString('utf8'), NODE_CONFIG_PATH);
  if (config) model.node = config;
  return problems.map((p) => ({
    ...at(file, CONTENTS_AT[model.format]),
    message: `${where(p)}: ${p.path || '(top)'}: ${p.message}`,
    ...(p.hint ? { hint: p.hint } : {}),
    severity: p.severity,
  }));
}
