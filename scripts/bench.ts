// kiln benchmarks, measured side by side in one run on this machine:
//   1. cold `kiln build` ÷ bare mmdebstrap of the same package list (target ≤ 1.3×)
//   2. wall time of a warm rebuild after an overlay-only change (target ≤ 10 s)
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { baseRecipe, mmdebstrapArgs } from '../builder/rootfs/mmdebstrap.ts';
import { loadSpecFile } from '../builder/spec/load.ts';

const repo = path.resolve(import.meta.dirname, '..');
const specFile = path.join(repo, process.argv[2] ?? 'images/debian-bookworm.yaml');
const work = mkdtempSync(path.join(process.env.KILN_BENCH_TMP ?? '/var/tmp', 'kiln-bench-'));
const kilnCli = path.join(repo, 'builder/cli.ts');

async function timed(label: string, run: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await run();
  const s = (performance.now() - t0) / 1000;
  console.log(`  ${label}: ${s.toFixed(1)} s`);
  return s;
}

const kiln = (args: string[]) => execa(process.execPath, ['--import', 'tsx', kilnCli, ...args], { env: { CI: 'true' } });

try {
  const spec = await loadSpecFile(specFile);
  const recipe = baseRecipe(spec);
  console.log(`kiln bench — ${path.relative(repo, specFile)}, ${recipe.packages.length} packages, ${os.cpus().length} cores`);

  console.log('1. cold build vs bare mmdebstrap (same packages, same mirror, same SOURCE_DATE_EPOCH)');
  const bare = await timed('bare mmdebstrap', () =>
    execa('mmdebstrap', mmdebstrapArgs(recipe, path.join(work, 'bare.tar')), { env: { SOURCE_DATE_EPOCH: String(spec.sourceDateEpoch) } }),
  );
  rmSync(path.join(work, 'bare.tar'), { force: true });
  const cold = await timed('kiln build --no-cache', () => kiln(['build', specFile, '--out', path.join(work, 'cold'), '--cache-dir', path.join(work, 'cache'), '--no-cache']));
  const ratio = cold / bare;
  console.log(`  ratio: ${ratio.toFixed(2)}× (target ≤ 1.3×) ${ratio <= 1.3 ? 'MET' : 'MISSED'}`);

  console.log('2. warm rebuild after an overlay-only change');
  const doc = YAML.parse(readFileSync(specFile, 'utf8'));
  delete doc.$schema;
  doc.node = { ...(doc.node ?? {}), sysctls: { ...(doc.node?.sysctls ?? {}), 'vm.max_map_count': 262144 } };
  const changed = path.join(work, 'changed.yaml');
  writeFileSync(changed, YAML.stringify(doc));
  const warm = await timed('kiln build (cached base, changed sysctl)', () => kiln(['build', changed, '--out', path.join(work, 'warm'), '--cache-dir', path.join(work, 'cache')]));
  console.log(`  target ≤ 10 s: ${warm <= 10 ? 'MET' : 'MISSED'}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
