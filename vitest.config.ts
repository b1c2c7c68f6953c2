import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs no server and runs in milliseconds; `integration` runs against the real test bed
// (kube-apiserver + etcd, moto, the fault proxy), which the global setup starts once per run and stops at the end.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/env/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 600_000,
          // Files share one test bed; run them one at a time so they do not reset moto under each other.
          fileParallelism: false,
        },
      },
    ],
  },
});
