import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // One test run (id, TMPDIR, VMS_HOME) swept however it ends: see @vms/core/testing's test-run.
    globalSetup: ['@vms/core/testing/vitest-setup'],
    include: ['src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
