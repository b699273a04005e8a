import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * vitest's own order (failed, then longest, first; by size on a fresh clone), except the cluster
 * test goes last: its four TCG VMs get both cores once the integration files are done, instead of
 * stalling beside mmdebstrap for seconds at a time (long enough for VRRP to see a dead master).
 */
class SuiteOrder extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const last = (f: TestSpecification) => f.moduleId.endsWith('/test/vm/cluster.test.ts');
    return [...sorted.filter((f) => !last(f)), ...sorted.filter(last)];
  }
}

// Tests mirror the source layout: unit (fast, pure), integration (real host tools, root),
// vm (boots images in QEMU). Each tier is a project so CI and developers can pick.
export default defineConfig({
  test: {
    sequence: { sequencer: SuiteOrder },
    maxWorkers: 2,
    minWorkers: 1,
    projects: [
      {
        // 60 s: a few unit tests start tsx children, slow while the VM setup builds images beside them
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 60_000 },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 20 * 60_000,
          hookTimeout: 30 * 60_000,
          // Integration tests share the rootfs cache and the two cores: run files one at a time.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
      {
        test: {
          name: 'vm',
          include: ['test/vm/**/*.test.ts'],
          globalSetup: ['test/vm/setup.ts'],
          testTimeout: 20 * 60_000,
          hookTimeout: 30 * 60_000,
          // One VM test file at a time, beside the integration files: a pool of its own kind runs
          // concurrently with the integration project's forks (projects sharing a pool kind run one
          // after the other), so the two cores hold one booting VM test and one host-tool test,
          // and boots never starve each other (two VM files side by side timed out on CI).
          pool: 'threads',
          poolOptions: { threads: { singleThread: true } },
        },
      },
    ],
  },
});
