// Global setup of the VM tests: builds the boot-test image (default image + test-only probe
// overlay) as the hybrid ISO the live tests boot, and the role-test disk image and PXE bundle (plus
// the kubeadm/helm/kubectl stand-ins) for the firstboot, cluster and rack tests; the test files
// boot those artifacts.
import path from 'node:path';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import YAML from 'yaml';
import { kilnBuild, repoRoot, tempDir } from '../helpers/build.ts';
import { pushTestImage, startRegistry } from '../helpers/registry.ts';
import { buildStandinsOverlay } from '../standins/build.ts';

/** The image the role-test image preloads: named so in the image, pushed to a local registry first. */
const PRELOADED = 'registry.kiln.test/kiln-test/preloaded:1';

/**
 * role-test.yaml plus one preloaded image pulled from a docker-registry on loopback (its port
 * changes per run, so the spec is written next to the fixture's own directory layout).
 */
async function roleSpecWithPreload(work: string): Promise<{ spec: string; digest: string; stop: () => Promise<void> }> {
  const registry = await startRegistry(path.join(work, 'registry'));
  const from = `${registry.host}/kiln-test/preloaded:1`;
  const digest = await pushTestImage(work, from, 'preloaded into the role-test image\n');
  const fixture = path.join(repoRoot, 'test/fixtures/specs/role-test.yaml');
  const doc = YAML.parse(readFileSync(fixture, 'utf8'));
  doc.overlays = doc.overlays.map((o: { path: string }) => ({ path: path.resolve(path.dirname(fixture), o.path) }));
  doc.images = { preload: [{ ref: PRELOADED, from, tlsVerify: false }] };
  const spec = path.join(work, 'role-test.yaml');
  writeFileSync(spec, YAML.stringify(doc));
  return { spec, digest, stop: registry.stop };
}

/** boot-test.yaml with only the ISO output (the bench builds all of them; the VM tests boot the ISO). */
function isoOnlySpec(work: string): string {
  const fixture = path.join(repoRoot, 'test/fixtures/specs/boot-test.yaml');
  const doc = YAML.parse(readFileSync(fixture, 'utf8'));
  doc.overlays = doc.overlays.map((o: { path: string }) => ({ path: path.resolve(path.dirname(fixture), o.path) }));
  doc.outputs = [{ format: 'iso' }];
  delete doc.pxe;
  const spec = path.join(work, 'boot-test.yaml');
  writeFileSync(spec, YAML.stringify(doc));
  return spec;
}

export default async function setup(project: TestProject) {
  const outDir = path.join(repoRoot, '.cache/test/vm-images');
  mkdirSync(outDir, { recursive: true });
  const roleDir = path.join(repoRoot, '.cache/test/vm-role-images');
  mkdirSync(roleDir, { recursive: true });
  const t0 = Date.now();
  await buildStandinsOverlay(path.join(repoRoot, '.cache/test/standins-overlay'));
  const work = tempDir('kiln-vm-setup-');
  const role = await roleSpecWithPreload(work);
  try {
    // both share the cached base; the second waits for the first's mmdebstrap if there is one
    await Promise.all([kilnBuild(isoOnlySpec(work), outDir), kilnBuild(role.spec, roleDir)]);
  } finally {
    await role.stop();
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`vm images built in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${outDir}, ${roleDir}`);
  project.provide('vmImages', outDir);
  project.provide('vmRoleImages', roleDir);
  project.provide('vmPreloaded', { ref: PRELOADED, digest: role.digest });
}

declare module 'vitest' {
  export interface ProvidedContext {
    vmImages: string;
    vmRoleImages: string;
    /** The image baked into the role-test image, and the digest its registry served. */
    vmPreloaded: { ref: string; digest: string };
  }
}
