// What `kiln cluster serve` serves, read and checked before it listens: the cluster gen wrote
// (every node with a MAC, no MAC twice, each node's seed), the image's PXE bundle, and where the
// server listens and is reached. Any problem is an exit-2 error naming the file and a hint.
import { stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { KilnError, ValidationError } from '../../../core/errors.ts';
import { readInputBytes, readInputFile } from '../../../core/fs.ts';
import { digestHex } from '../../../core/hash.ts';
import type { Problem } from '../../../core/problem.ts';
import { caCertHash } from '../../../node/config/parse.ts';
import { seedProof } from '../../../node/serve.ts';
import { caPairProblem, type CaPair } from '../pki.ts';
import { readSummary } from '../lab/summary.ts';
import type { DiskImage } from './disk-image.ts';

/** The files of the image's pxe/ the server hands out (boot.ipxe is read, not served). */
export const SERVED_FILES = ['vmlinuz', 'initrd.img', 'rootfs.squashfs'] as const;

export interface ServedNode {
  name: string;
  role: string;
  /** Every MAC of the node: it may PXE boot from any of its NICs. */
  macs: string[];
  /** The IPv4 address of each MAC's interface, for the DHCP snippets to pin (no prefix). */
  addresses: Record<string, string>;
  seed: Buffer;
  /** sha256 of the seed, hex: pinned on the node's command line, and the key of its progress. */
  seedHash: string;
  proof: string;
}

export interface ServePlan {
  dir: string;
  cluster: string;
  nodes: ServedNode[];
  /** The image's pxe/ directory, absolute. */
  pxeDir: string;
  /** The kernel arguments of the image's boot.ipxe, `${base}` still unexpanded. */
  kernelArgs: string;
  host: string;
  port: number;
  /** The URL nodes reach the server at, no trailing slash. */
  url: string;
  /** The raw disk image install writes (set by the caller from diskImage, once the plan is checked). */
  disk?: DiskImage;
  /** --tls-listen: seeds and reports over HTTPS only, with a certificate from the cluster CA. */
  tls?: ServeTls;
}

export interface ServeTls {
  host: string;
  port: number;
  /** https://HOST:PORT the nodes reach, HOST as in the plan's url (the certificate's one name). */
  url: string;
  /** The cluster CA (DIR/pki/ca.crt and ca.key) that signs the server's certificate. */
  ca: CaPair;
  /** The CA's discovery hash (hex of sha256 over its public key): kiln.tls.ca on every node's command line. */
  pin: string;
}

export interface ServeOptions {
  image: string;
  listen?: string;
  url?: string;
  /** ADDRESS:PORT for the HTTPS listener of seeds and reports. */
  tlsListen?: string;
}

const IMAGE_HINT = 'give --image the --out directory of a kiln build whose spec has the pxe output';
const SEED_MAX_BYTES = 1024 * 1024;

function parseListen(listen: string, flag = '--listen'): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(listen);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || !host || isIP(host) === 0 || !(port > 0 && port < 65536))
    throw new KilnError(`${flag} "${listen}" is not ADDRESS:PORT`, {
      hint: 'e.g. --listen 10.0.0.1:8080 or --listen [fd00::1]:8080 (an IP address the nodes reach)',
      exitCode: 2,
    });
  return { host, port };
}

function baseUrl(host: string, port: number, url: string | undefined): string {
  if (url !== undefined) {
    const parsed = URL.canParse(url) ? new URL(url) : undefined;
    if (
      !parsed ||
      parsed.protocol !== 'http:' ||
      parsed.search ||
      parsed.hash ||
      parsed.username ||
      parsed.password ||
      /[\s$"'`]/.test(url)
    )
      throw new KilnError(`--url "${url}" is not a plain http URL`, {
        hint: 'the URL nodes reach this server at, e.g. --url http://10.0.0.1:8080 (no query, credentials or spaces)',
        exitCode: 2,
      });
    return url.replace(/\/+$/, '');
  }
  if (host === '0.0.0.0' || host === '::')
    throw new KilnError(`--listen ${host} is every address; the nodes need one they can reach`, {
      hint: 'add --url http://ADDRESS:PORT with the address the nodes reach, or listen on that address',
      exitCode: 2,
    });
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/** The `kernel ${base}/vmlinuz ARGS` line of the image's boot.ipxe: the args every node boots with. */
export function kernelArgsOf(script: string, file: string): string {
  const lines = script.split('\n');
  const kernel = lines.find((l) => l.startsWith('kernel ${base}/vmlinuz '));
  if (!lines[0]?.startsWith('#!ipxe') || !kernel || !lines.some((l) => l === 'initrd ${base}/initrd.img'))
    throw new KilnError('this boot.ipxe is not one kiln build wrote (no kernel ${base}/vmlinuz or initrd ${base}/initrd.img line)', {
      file,
      hint: IMAGE_HINT,
      exitCode: 2,
    });
  return kernel.slice('kernel ${base}/vmlinuz '.length).trim();
}

async function imageProblems(pxeDir: string): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const name of SERVED_FILES) {
    const file = path.join(pxeDir, name);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile())
      problems.push({ file, path: '', message: info ? 'is not a regular file' : 'is missing', hint: IMAGE_HINT, severity: 'error' });
  }
  return problems;
}

export async function servePlan(dir: string, opts: ServeOptions): Promise<ServePlan> {
  const { host, port } = parseListen(opts.listen ?? '0.0.0.0:8080');
  const url = baseUrl(host, port, opts.url);
  const summary = await readSummary(dir);
  const problems: Problem[] = [];
  const summaryFile = path.join(dir, 'cluster.json');
  const owner = new Map<string, string>();
  const nodes: ServedNode[] = [];
  for (const [i, n] of summary.nodes.entries()) {
    const macs = n.interfaces.flatMap((f) => (f.mac ? [f.mac] : []));
    const addresses: Record<string, string> = {};
    for (const f of n.interfaces) {
      const v4 = f.addresses.map((a) => a.split('/')[0]!).find((a) => isIP(a) === 4);
      if (f.mac && v4) addresses[f.mac] = v4;
    }
    if (macs.length === 0)
      problems.push({
        file: summaryFile,
        path: `/nodes/${i}/interfaces`,
        message: `node ${n.name} has no interface with a MAC, so no PXE boot can be told apart as it`,
        hint: `set mac: on an interface of node ${n.name} in the cluster spec (the NIC it PXE boots from), then kiln cluster gen again`,
        severity: 'error',
      });
    for (const mac of macs) {
      const other = owner.get(mac);
      if (other !== undefined)
        problems.push({
          file: summaryFile,
          path: `/nodes/${i}/interfaces`,
          message: `MAC ${mac} is node ${other}'s and node ${n.name}'s`,
          hint: 'every NIC has its own MAC: fix the cluster spec and kiln cluster gen again',
          severity: 'error',
        });
      owner.set(mac, n.name);
    }
    const seed = (await readInputBytes(path.join(dir, n.ignition), {
      what: `node ${n.name}'s Ignition config`,
      hint: 'run kiln cluster gen again to rewrite it',
      maxBytes: SEED_MAX_BYTES,
    }))!;
    nodes.push({ name: n.name, role: n.role, macs, addresses, seed, seedHash: digestHex(seed), proof: seedProof(seed) });
  }
  const pxeDir = path.resolve(opts.image, 'pxe');
  problems.push(...(await imageProblems(pxeDir)));
  if (problems.length > 0) throw new ValidationError(problems);
  const scriptFile = path.join(pxeDir, 'boot.ipxe');
  const script = (await readInputFile(scriptFile, { what: "the image's boot.ipxe", hint: IMAGE_HINT, maxBytes: 64 * 1024 }))!;
  const tls = opts.tlsListen === undefined ? undefined : await tlsPlan(dir, opts.tlsListen, url);
  return {
    dir: path.resolve(dir),
    cluster: summary.name,
    nodes,
    pxeDir,
    kernelArgs: kernelArgsOf(script, scriptFile),
    host,
    port,
    url,
    ...(tls ? { tls } : {}),
  };
}

/** The HTTPS listener: its address, the URL nodes reach (the http URL's host), and the cluster CA that signs for it. */
async function tlsPlan(dir: string, tlsListen: string, url: string): Promise<ServeTls> {
  const { host, port } = parseListen(tlsListen, '--tls-listen');
  const hostname = new URL(url).hostname;
  const read = (file: string) =>
    readInputFile(path.join(dir, 'pki', file), {
      what: `the cluster CA's ${file}`,
      hint: 'kiln cluster gen writes DIR/pki/ca.crt and ca.key; serve the DIR it made',
      maxBytes: 64 * 1024,
    });
  const ca = { cert: (await read('ca.crt'))!, key: (await read('ca.key'))! };
  const problem = caPairProblem(ca);
  if (problem)
    throw new KilnError(`DIR/pki/ca.crt and ca.key are not a CA and its key: ${problem}`, {
      file: path.join(dir, 'pki/ca.crt'),
      hint: 'kiln cluster gen --rotate writes a new cluster CA (every node then needs its new seed)',
      exitCode: 2,
    });
  const hash = caCertHash(ca.cert)!;
  return { host, port, url: `https://${hostname}:${port}`, ca, pin: hash.slice('sha256:'.length) };
}
