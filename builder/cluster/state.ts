// The output directory between runs: its layout, and the secrets a re-run keeps (the CAs, the
// token, the certificate key) unless --rotate. Everything is read and checked before any write.
import { readdir, stat } from 'node:fs/promises';
import { checkOutputDir, readInputFile } from '../../core/fs.ts';
import path from 'node:path';
import { KilnError } from '../../core/errors.ts';
import { readJson } from '../../core/json.ts';
import { DEFAULT_ALGORITHM } from './model.ts';
import type { ClusterSecrets } from './node-config.ts';
import {
  CAS,
  CERTIFICATE_KEY_PATTERN,
  TOKEN_PATTERN,
  caPairProblem,
  generateCa,
  generateCertificateKey,
  generateToken,
  type CaName,
  type CaPair,
  type KeyAlgorithm,
} from './pki.ts';
import type { ClusterSpec } from './schema.ts';

/** Where everything lives under DIR; scripts and PXE servers rely on these names (README). */
export const LAYOUT = {
  summary: 'cluster.json',
  secrets: 'secrets.json',
  caCert: (ca: CaName) => `pki/${CAS[ca].file}.crt`,
  caKey: (ca: CaName) => `pki/${CAS[ca].file}.key`,
  nodesDir: 'nodes',
  nodeDir: (node: string) => `nodes/${node}`,
  nocloud: (node: string, file: string) => `nodes/${node}/nocloud/${file}`,
  iso: (node: string) => `nodes/${node}/cidata.iso`,
  ignition: (node: string) => `nodes/${node}/ignition.json`,
} as const;

const ROTATE_HINT =
  'restore it from a backup, or run with --rotate to make a new CA, token and key (every node then needs its new metadata)';

export type Stored = Partial<ClusterSecrets>;

// a file of DIR that is a directory, a FIFO or huge (tampered with) is an exit-2 error naming it
const readText = (file: string) =>
  readInputFile(file, { what: 'this file of kiln cluster gen', hint: ROTATE_HINT, optional: true, maxBytes: 1024 * 1024 });

/** Refuses a DIR that is not (yet) a kiln cluster directory, or holds another cluster. */
async function checkDir(dir: string, spec: ClusterSpec): Promise<boolean> {
  const info = await stat(dir).catch(() => undefined);
  if (!info) {
    // before any key is made: a DIR that cannot be made fails now
    await checkOutputDir(dir, 'give --out a new directory under a writable one');
    return false;
  }
  if (!info.isDirectory())
    throw new KilnError('the output path exists and is not a directory', {
      file: dir,
      hint: 'give --out a directory (new or made by kiln cluster gen)',
      exitCode: 2,
    });
  const entries = await readdir(dir);
  if (entries.length > 0 && !entries.some((e) => e === LAYOUT.summary || e === LAYOUT.secrets || e === 'pki'))
    throw new KilnError('the output directory is not empty and was not made by kiln cluster gen', {
      file: dir,
      hint: 'use a new directory; kiln keeps secrets there and will not mix them with other files',
      exitCode: 2,
    });
  const summary = await readText(path.join(dir, LAYOUT.summary));
  if (summary !== undefined) {
    const name = (() => {
      try {
        return (readJson(summary, LAYOUT.summary, '') as { name?: unknown } | null)?.name;
      } catch {
        return undefined;
      }
    })();
    if (name !== undefined && name !== spec.name)
      throw new KilnError(`the output directory holds cluster "${String(name)}", not "${spec.name}"`, {
        file: path.join(dir, LAYOUT.summary),
        hint: 'one directory per cluster: give another --out',
        exitCode: 2,
      });
  }
  return true;
}

async function readCa(dir: string, ca: CaName): Promise<CaPair | undefined> {
  const [certFile, keyFile] = [path.join(dir, LAYOUT.caCert(ca)), path.join(dir, LAYOUT.caKey(ca))];
  const [cert, key] = await Promise.all([readText(certFile), readText(keyFile)]);
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined)
    throw new KilnError(`${LAYOUT.caCert(ca)} and ${LAYOUT.caKey(ca)} come as a pair; one is missing`, {
      file: cert === undefined ? certFile : keyFile,
      hint: ROTATE_HINT,
      exitCode: 2,
    });
  const problem = caPairProblem({ cert, key });
  if (problem) throw new KilnError(`cannot keep this CA: ${problem}`, { file: certFile, hint: ROTATE_HINT, exitCode: 2 });
  return { cert, key };
}

async function readSecrets(dir: string): Promise<Pick<Stored, 'token' | 'certificateKey'>> {
  const file = path.join(dir, LAYOUT.secrets);
  const text = await readText(file);
  if (text === undefined) return {};
  // never quote the file in a message: it holds the token
  const fail = (jsonPath: string, message: string): never => {
    throw new KilnError(message, { file, path: jsonPath, hint: ROTATE_HINT, exitCode: 2 });
  };
  const parsed = readJson(text, file, ROTATE_HINT);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) fail('', 'not a JSON object with token and certificateKey');
  const value = parsed as Record<string, unknown>;
  if (typeof value.token !== 'string' || !TOKEN_PATTERN.test(value.token))
    fail('/token', 'not a bootstrap token ([a-z0-9]{6}.[a-z0-9]{16})');
  if (typeof value.certificateKey !== 'string' || !CERTIFICATE_KEY_PATTERN.test(value.certificateKey))
    fail('/certificateKey', 'not a certificate key (64 hex digits)');
  return { token: value.token as string, certificateKey: value.certificateKey as string };
}

/** What DIR already holds; nothing with --rotate (after the same checks of DIR itself). */
export async function readStored(dir: string, spec: ClusterSpec, rotate: boolean): Promise<Stored> {
  if (!(await checkDir(dir, spec)) || rotate) return {};
  const [ca, frontProxy, etcd, rest] = await Promise.all([
    readCa(dir, 'ca'),
    readCa(dir, 'frontProxy'),
    readCa(dir, 'etcd'),
    readSecrets(dir),
  ]);
  return { ...(ca ? { ca } : {}), ...(frontProxy ? { frontProxy } : {}), ...(etcd ? { etcd } : {}), ...rest };
}

/** The stored secrets, and new ones for whatever is missing; `created` names what is new. */
export async function completeSecrets(stored: Stored, spec: ClusterSpec): Promise<{ secrets: ClusterSecrets; created: string[] }> {
  const algorithm = (spec.pki?.algorithm ?? DEFAULT_ALGORITHM) as KeyAlgorithm;
  const created: string[] = [];
  const ca = async (name: CaName, wanted: boolean) => {
    if (!wanted) return undefined;
    if (stored[name]) return stored[name];
    created.push(LAYOUT.caCert(name));
    return generateCa(CAS[name].commonName, algorithm);
  };
  const [main, frontProxy, etcd] = [
    await ca('ca', true),
    await ca('frontProxy', spec.pki?.frontProxyCa === true),
    await ca('etcd', spec.pki?.etcdCa === true),
  ];
  if (!stored.token) created.push('token');
  if (!stored.certificateKey) created.push('certificateKey');
  return {
    secrets: {
      ca: main!,
      ...(frontProxy ? { frontProxy } : {}),
      ...(etcd ? { etcd } : {}),
      token: stored.token ?? generateToken(),
      certificateKey: stored.certificateKey ?? generateCertificateKey(),
    },
    created,
  };
}
