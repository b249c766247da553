import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@vms\/core\/testing$/, replacement: src('testing/index.ts') },
      { find: /^@vms\/core\/spec$/, replacement: src('spec/index.ts') },
      { find: /^@vms\/core\/zod$/, replacement: src('zod.ts') },
      { find: /^@vms\/core$/, replacement: src('index.ts') },
    ],
  },
  test: {
    // One test run (id, TMPDIR, VMS_HOME) swept however it ends: see @vms/core/testing's test-run.
    globalSetup: ['@vms/core/testing/vitest-setup'],
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
