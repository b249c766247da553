import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // One test run (id, TMPDIR, VMS_HOME) swept however it ends: see @vms/core/testing's test-run.
    globalSetup: ['@vms/core/testing/vitest-setup'],
    include: ['src/**/*.test.ts', 'web/**/*.test.ts'],
    // One browser and real engines on a 2-core machine: at most 2 files at once.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
