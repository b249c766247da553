import { defineConfig } from 'vitest/config';

// Real-VM test files boot QEMU under TCG: at most 2 files at once on the 2-core CI machine.
export default defineConfig({
  test: {
    // One test run (id, TMPDIR, VMS_HOME) swept however it ends: see @vms/core/testing's test-run.
    globalSetup: ['@vms/core/testing/vitest-setup'],
    include: ['src/**/*.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 300_000,
    maxWorkers: 2,
    fileParallelism: true,
  },
});
