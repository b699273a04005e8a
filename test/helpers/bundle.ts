// What esbuild reads to bundle an entry point: the repository files a program really carries.
import * as esbuild from 'esbuild';
import { repoRoot } from './build.ts';

/** The repository files (node_modules left out) esbuild bundles for `entry`, relative to the root. */
export async function bundleInputs(entry: string): Promise<string[]> {
  const result = await esbuild.build({
    absWorkingDir: repoRoot,
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs).filter((f) => !f.startsWith('node_modules/'));
}
