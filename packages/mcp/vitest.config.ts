import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Real-engine and real-VM files share the machine's 2 cores: at most 2 files at once.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Records and locks of the tests' instances live in a throw-away home, never the user's.
    env: { VMS_HOME: mkdtempSync(join(tmpdir(), 'vms-mcp-test-')) },
  },
});
