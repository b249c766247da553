import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@vms\/core\/testing$/, replacement: src('testing/index.ts') },
      { find: /^@vms\/core$/, replacement: src('index.ts') },
    ],
  },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Locks and state of the tests live in a throw-away home, never the user's.
    env: { VMS_HOME: mkdtempSync(join(tmpdir(), 'vms-core-test-')) },
  },
});
