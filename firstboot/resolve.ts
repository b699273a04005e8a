// Between parsing and applying: fetch remote contents (verified against their pinned hashes) and
// read the kiln node config from /etc/kiln/node.yaml. After this, the model is complete and
// every check that needs data has run; nothing has been written.
import { ValidationError, type Problem } from '../builder/errors.ts';
import { readYaml } from '../builder/spec/yaml.ts';
import { decompress } from './apply/storage.ts';
import { nodeConfigProblems } from './config/parse.ts';
import type { NodeConfig } from './config/schema.ts';
import { fetchBytes, redactUrl, verifyHash } from './metadata/fetch.ts';
import type { Contents, Provisioning } from './model.ts';

export const NODE_CONFIG_PATH = '/etc/kiln/node.yaml';

export function needsNetwork(model: Provisioning): boolean {
  return model.files.some((f) => [f.contents, ...f.append].some((c) => c?.kind === 'remote' && /^https?:/.test(c.url)));
}

async function inline(c: Contents): Promise<Contents> {
  if (c.kind === 'inline') return c;
  const data = decompress((await fetchBytes(c.url))!, c.compression);
  // Ignition: with compression, the hash describes the decompressed file
  if (c.hash) verifyHash(data, c.hash, redactUrl(c.url));
  return { kind: 'inline', data };
}

export async function resolveModel(model: Provisioning): Promise<Provisioning> {
  const problems: Problem[] = [];
  for (const f of model.files) {
    try {
      if (f.contents) f.contents = await inline(f.contents);
      f.append = await Promise.all(f.append.map(inline));
    } catch (error) {
      problems.push({ ...f.origin, message: `${f.path}: ${(error as Error).message}`, hint: (error as { hint?: string }).hint ?? 'check the source URL and its verification hash' });
    }
  }
  if (problems.length > 0) throw new ValidationError(problems);
  if (!model.node) {
    const file = model.files.find((f) => f.path === NODE_CONFIG_PATH);
    if (file?.contents?.kind === 'inline') {
      const where = `${file.origin.file} ${NODE_CONFIG_PATH}`;
      const doc = readYaml(file.contents.data.toString('utf8'), where);
      const found = nodeConfigProblems(doc.value, where);
      if (found.length > 0) throw new ValidationError(found.map(doc.locate));
      model.node = doc.value as NodeConfig;
    }
  }
  return model;
}
