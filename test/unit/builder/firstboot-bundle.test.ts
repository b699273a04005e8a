// The agent's bundle is built from core/, node/ and firstboot/ only, and its cache key covers
// exactly what it is built from: a builder-only change never rebuilds kiln-firstboot.
import { cp, mkdtemp, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_BUILD_FILES, AGENT_SOURCE_DIRS, agentSourceKey } from '../../../builder/firstboot.ts';
import { bundleInputs } from '../../helpers/bundle.ts';
import { repoRoot } from '../../helpers/build.ts';

describe('kiln-firstboot bundle', () => {
  let inputs: string[];
  beforeAll(async () => {
    inputs = await bundleInputs('firstboot/cli.ts');
  });

  it('holds no builder/ file', () => {
    expect(inputs.length).toBeGreaterThan(50);
    expect(inputs.filter((f) => f.startsWith('builder/'))).toEqual([]);
  });

  it('is built from the trees its cache key hashes, and nothing else of the repository', () => {
    const outside = inputs.filter((f) => !AGENT_SOURCE_DIRS.some((d) => f.startsWith(`${d}/`)));
    expect(outside).toEqual([]);
    // every layer is really used: the key does not hash a tree for nothing
    for (const d of AGENT_SOURCE_DIRS)
      expect(
        inputs.some((f) => f.startsWith(`${d}/`)),
        d,
      ).toBe(true);
  });

  it('the builder bundle, by contrast, does carry builder files (the check can fail)', async () => {
    const builder = await bundleInputs('builder/cli.ts');
    expect(builder.some((f) => f.startsWith('builder/'))).toBe(true);
  });
});

describe('agentSourceKey', () => {
  let tree: string;
  beforeAll(async () => {
    tree = await mkdtemp(path.join(tmpdir(), 'kiln-agent-key-'));
    for (const d of [...AGENT_SOURCE_DIRS, 'builder']) await cp(path.join(repoRoot, d), path.join(tree, d), { recursive: true });
    for (const f of AGENT_BUILD_FILES) await cp(path.join(repoRoot, f), path.join(tree, f));
  });
  afterAll(async () => {
    await rm(tree, { recursive: true, force: true });
  });

  it('does not change with a builder-only edit', async () => {
    const before = await agentSourceKey(tree);
    await appendFile(path.join(tree, 'builder/pipeline.ts'), '\n// an edit\n');
    await writeFile(path.join(tree, 'builder/new-module.ts'), 'export const x = 1;\n');
    expect(await agentSourceKey(tree)).toBe(before);
  });

  it.each(['core/errors.ts', 'node/layout.ts', 'firstboot/run.ts', 'package-lock.json'])('changes when %s changes', async (file) => {
    const before = await agentSourceKey(tree);
    await appendFile(path.join(tree, file), '\n');
    expect(await agentSourceKey(tree)).not.toBe(before);
  });
});
