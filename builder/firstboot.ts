// The kiln-firstboot executable every image carries. A released kiln finds it beside itself; a
// source checkout builds it (scripts/dist.mjs) into the cache, keyed by the sources it is built from.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { execOrFail } from '../core/exec.ts';
import { repoRoot } from './assets.ts';
import { KilnError } from '../core/errors.ts';
import { lock } from '../core/fs.ts';
import { sha256File } from '../core/hash.ts';

declare const __KILN_ASSETS__: unknown;

export interface FirstbootBinary {
  path: string;
  sha256: string;
  /** How it was found, for the build log. */
  origin: string;
}

/**
 * The trees the agent is built from: its own and the two layers under it. The agent never imports
 * builder/ (lint enforces it; test/unit/builder/firstboot-bundle.test.ts checks the bundle), so a
 * builder-only change leaves its cached binary valid.
 */
export const AGENT_SOURCE_DIRS = ['core', 'node', 'firstboot'] as const;

/** The files besides those trees that decide the agent's bytes: locked packages and the bundler. */
export const AGENT_BUILD_FILES = ['package.json', 'package-lock.json', 'scripts/dist.mjs'] as const;

/** Cache key of the agent: node's version and every source it is built from. */
export async function agentSourceKey(root: string): Promise<string> {
  const hash = createHash('sha256').update(process.version);
  for (const dir of AGENT_SOURCE_DIRS) {
    const entries = await readdir(path.join(root, dir), { recursive: true, withFileTypes: true });
    const files = entries
      .filter((e) => e.isFile() && e.name.endsWith('.ts'))
      .map((e) => path.join(e.parentPath, e.name))
      .sort();
    for (const f of files)
      hash
        .update(path.relative(root, f))
        .update('\0')
        .update(await readFile(f));
  }
  for (const f of AGENT_BUILD_FILES) hash.update(f).update(await readFile(path.join(root, f)).catch(() => Buffer.alloc(0)));
  return hash.digest('hex');
}

export async function firstbootBinary(cacheDir: string, log: (line: string) => void): Promise<FirstbootBinary> {
  const fromEnv = process.env.KILN_FIRSTBOOT_BINARY;
  if (fromEnv) {
    if (!existsSync(fromEnv))
      throw new KilnError(`KILN_FIRSTBOOT_BINARY=${fromEnv} does not exist`, {
        hint: 'point it at a kiln-firstboot executable built by `npm run dist`, or unset it',
      });
    return { path: fromEnv, sha256: await sha256File(fromEnv), origin: 'KILN_FIRSTBOOT_BINARY' };
  }
  if (typeof __KILN_ASSETS__ === 'object') {
    const beside = path.join(path.dirname(process.execPath), 'kiln-firstboot');
    if (!existsSync(beside))
      throw new KilnError(`kiln-firstboot is not beside kiln (${beside})`, {
        hint: 'ship dist/kiln-firstboot next to dist/kiln (npm run dist builds both), or set KILN_FIRSTBOOT_BINARY',
      });
    return { path: beside, sha256: await sha256File(beside), origin: 'beside kiln' };
  }
  const root = repoRoot();
  const key = await agentSourceKey(root);
  const dir = path.join(cacheDir, 'firstboot');
  const exe = path.join(dir, `kiln-firstboot-${key.slice(0, 16)}`);
  const ready = () =>
    stat(exe).then(
      (s) => s.isFile(),
      () => false,
    );
  if (!(await ready())) {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir, { recursive: true });
    const release = await lock(`${exe}.lock`, log);
    try {
      if (!(await ready())) {
        log(`building kiln-firstboot from source (${key.slice(0, 12)})`);
        await execOrFail(process.execPath, [path.join(root, 'scripts/dist.mjs'), '--only', 'kiln-firstboot', '--out', exe], {
          cwd: root,
          hint: 'building kiln-firstboot failed; run `npm run dist` to see the whole error',
        });
      }
    } finally {
      await release();
    }
  }
  return { path: exe, sha256: await sha256File(exe), origin: `built from source ${key.slice(0, 12)}` };
}
