import { defineConfig } from 'vitest/config';

// Tests mirror the source layout: unit (fast, pure), integration (real host tools, root),
// vm (boots images in QEMU). Each tier is a project so CI and developers can pick.
export default defineConfig({
  test: {
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
