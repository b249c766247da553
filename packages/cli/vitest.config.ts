import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // The tests spawn the built CLI (dist/bin.js); real-engine tests share a 2-core machine.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Locks and state of the tests live in a throw-away home, never the user's.
    env: { VMS_HOME: mkdtempSync(join(tmpdir(), 'vms-cli-test-')) },
  },
});
