// Between parsing and applying: fetch remote contents (verified against their pinned hashes) and
// read the kiln node config from /etc/kiln/node.yaml. After this, the model is complete and
// every check that needs data has run; nothing has been written.
import { gunzipBounded, TOO_LARGE } from '../core/compress.ts';
import { type Problem } from '../core/problem.ts';
import { ValidationError } from '../core/errors.ts';
import { adoptNodeConfig } from '../node/config/node-file.ts';
import { verifyHash } from '../core/hash.ts';
import { redactUrl } from '../core/redact.ts';
import { fetchBytes } from './metadata/fetch.ts';
import type { Contents, Provisioning } from '../node/model.ts';

export function needsNetwork(model: Provisioning): boolean {
  return model.files.some((f) => [f.contents, ...f.append].some((c) => c?.kind === 'remote' && /^https?:/.test(c.url)));
}

const GZIP_HINT = 'serve the file gzip-compressed (gzip -9) and at most 64 MiB uncompressed, or drop compression';

async function inline(c: Contents): Promise<Contents> {
  if (c.kind === 'inline') return c;
  const fetched = (await fetchBytes(c.url))!;
  const inflated = c.compression === 'gzip' ? gunzipBounded(fetched) : fetched;
  // the resolver turns these into problems at the file's origin (exit 2)
  if (inflated === 'too-large') throw Object.assign(new Error(`${redactUrl(c.url)} ${TOO_LARGE}`), { hint: GZIP_HINT });
  if (inflated === 'not-gzip')
    throw Object.assign(new Error(`${redactUrl(c.url)}: compression is "gzip" but the data is not gzip`), { hint: GZIP_HINT });
  const data = inflated;
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
      problems.push({
        ...f.origin,
        message: `${f.path}: ${(error as Error).message}`,
        hint: (error as { hint?: string }).hint ?? 'check the source URL and its verification hash',
        severity: 'error' as const,
      });
    }
  }
  if (problems.length > 0) throw new ValidationError(problems);
  const nodeProblems = adoptNodeConfig(model);
  if (nodeProblems.length > 0) throw new ValidationError(nodeProblems);
  return model;
}
