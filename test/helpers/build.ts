// Shared helpers for integration tests: one rootfs cache per machine, builds through the real CLI.
import { execa } from 'execa';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import YAML from 'yaml';
import os from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '../..');

/** The mmdebstrap cache shared by every integration test (and by CI within one run). */
export const testCacheDir = process.env.KILN_TEST_CACHE_DIR ?? path.join(repoRoot, '.cache/test/kiln');

export function tempDir(prefix = 'kiln-it-'): string {
  return mkdtempSync(path.join(process.env.KILN_TEST_TMP ?? os.tmpdir(), prefix));
}

export async function kiln(args: string[], opts: { reject?: boolean; cwd?: string } = {}) {
  return execa(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'builder/cli.ts'), ...args], {
    cwd: opts.cwd ?? repoRoot,
    reject: opts.reject ?? true,
    env: { CI: 'true' },
    all: true,
  });
}

/** The events of `kiln build --json` (one JSON object per line; other lines are not events). */
export function progressEvents(stdout: string): Array<{ event: string; stage?: string; [k: string]: unknown }> {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

/** The stages a `kiln build --json` run finished, in order. */
export const stagesEnded = (stdout: string) =>
  progressEvents(stdout)
    .filter((e) => e.event === 'stage-end')
    .map((e) => e.stage);

export async function kilnBuild(spec: string, outDir: string, extra: string[] = []) {
  return kiln(['build', spec, '--out', outDir, '--cache-dir', testCacheDir, ...extra]);
}

/**
 * The default spec with only the rootfs output: rootfs tests need not pay for disk, ISO and PXE
 * conversions on every build. Same base, same overlays; only the spec hash differs.
 */
export function rootfsOnlySpec(dir: string): string {
  const text = readFileSync(path.join(repoRoot, 'images/debian-bookworm.yaml'), 'utf8');
  const doc = YAML.parseDocument(text);
  doc.delete('$schema');
  doc.set('outputs', [{ format: 'tar' }]);
  const file = path.join(dir, 'debian-bookworm.yaml');
  writeFileSync(file, doc.toString());
  return file;
}
