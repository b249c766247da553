import { defineConfig } from 'vitest/config';

// Real-VM test files boot QEMU under TCG and share the CI machine's 2 cores with other packages:
// one test file at a time.
export default defineConfig({
  test: {
    // One test run (id, TMPDIR, VMS_HOME) swept however it ends: see @vms/core/testing's test-run.
    globalSetup: ['@vms/core/testing/vitest-setup'],
    include: ['src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 240_000,
    maxWorkers: 1,
    fileParallelism: false,
  },
});
