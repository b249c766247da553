import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const core = (path: string) => fileURLToPath(new URL(`../core/src/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    // In-process unit tests use core's sources; the CLI tests spawn the built dist instead.
    alias: [
      { find: /^@vms\/core\/testing$/, replacement: core('testing/index.ts') },
      { find: /^@vms\/core$/, replacement: core('index.ts') },
    ],
  },
  test: {
    // One test run (id, TMPDIR, VMS_HOME) swept however it ends: see @vms/core/testing's test-run.
    globalSetup: ['@vms/core/testing/vitest-setup'],
    include: ['src/**/*.test.ts'],
    // The tests spawn the built CLI (dist/bin.cjs); real-engine tests share a 2-core machine.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
