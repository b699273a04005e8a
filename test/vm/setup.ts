// Global setup of the VM tests: builds the boot-test image (default image + test-only probe
// overlay) once in every bootable format; the test files boot those artifacts.
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { kilnBuild, repoRoot } from '../helpers/build.ts';

export default async function setup(project: TestProject) {
  const outDir = path.join(repoRoot, '.cache/test/vm-images');
  mkdirSync(outDir, { recursive: true });
  const t0 = Date.now();
  await kilnBuild(path.join(repoRoot, 'test/fixtures/specs/boot-test.yaml'), outDir);
  console.log(`vm images built in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${outDir}`);
  project.provide('vmImages', outDir);
}

declare module 'vitest' {
  export interface ProvidedContext {
    vmImages: string;
  }
}
