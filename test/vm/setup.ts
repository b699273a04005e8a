// Global setup of the VM tests: builds the boot-test image (default image + test-only probe
// overlay) once in every bootable format, and the role-test disk image (plus the kubeadm/helm/
// kubectl stand-ins) for the firstboot tests; the test files boot those artifacts.
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { kilnBuild, repoRoot } from '../helpers/build.ts';
import { buildStandinsOverlay } from '../standins/build.ts';

export default async function setup(project: TestProject) {
  const outDir = path.join(repoRoot, '.cache/test/vm-images');
  mkdirSync(outDir, { recursive: true });
  const roleDir = path.join(repoRoot, '.cache/test/vm-role-images');
  mkdirSync(roleDir, { recursive: true });
  const t0 = Date.now();
  await buildStandinsOverlay(path.join(repoRoot, '.cache/test/standins-overlay'));
  // both share the cached base; the second waits for the first's mmdebstrap if there is one
  await Promise.all([
    kilnBuild(path.join(repoRoot, 'test/fixtures/specs/boot-test.yaml'), outDir),
    kilnBuild(path.join(repoRoot, 'test/fixtures/specs/role-test.yaml'), roleDir),
  ]);
  console.log(`vm images built in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${outDir}, ${roleDir}`);
  project.provide('vmImages', outDir);
  project.provide('vmRoleImages', roleDir);
}

declare module 'vitest' {
  export interface ProvidedContext {
    vmImages: string;
    vmRoleImages: string;
  }
}
