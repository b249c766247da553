import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // One test run (id, TMPDIR, VMS_HOME) swept however it ends: see @vms/core/testing's test-run.
    globalSetup: ['@vms/core/testing/vitest-setup'],
    include: ['src/**/*.test.ts'],
    // README blocks drive real engines and VMs on a 2-core machine: at most 2 files at once.
    maxWorkers: 2,
    // Above the snippet and shell-line deadlines (170 s, 240 s), so theirs are the errors seen.
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
