import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killProcessesMentioning, runConformanceSuite } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProc } from './proc-backend.js';
import { procWorld } from './proc-world.js';

const root = mkdtempSync(join(tmpdir(), 'vms-proc-'));
afterAll(() => {
  killProcessesMentioning(root); // whatever a failed test left running
  rmSync(root, { recursive: true, force: true });
});

runConformanceSuite(
  { describe, it, expect, beforeAll, afterAll },
  {
    name: 'proc',
    backend: () => createProc({ root }),
    options: () => ({ labels: { suite: 'conformance' } }),
    observe: procWorld(root),
    removeBehindBack: async (name) => rmSync(join(root, name), { recursive: true, force: true }),
    skip: {
      tty: 'proc runs commands without a terminal',
      ...(process.getuid?.() === 0 ? {} : { user: 'switching users needs root' }),
    },
  },
);
