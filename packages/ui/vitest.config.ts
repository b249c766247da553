import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'web/**/*.test.ts'],
    // One browser and real engines on a 2-core machine: at most 2 files at once.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Locks and records of the tests' instances live in a throw-away home, never the user's.
    env: { VMS_HOME: mkdtempSync(join(tmpdir(), 'vms-ui-test-')) },
  },
});
