/** The core conformance suite against fake-limactl (test/fake-limactl.mjs first on PATH). */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { runConformanceSuite } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeLima, installFakeLima } from '../test/fake.js';
import { createLima } from './index.js';

let fake: FakeLima;

beforeAll(() => {
  fake = installFakeLima();
  process.env.VMS_HOME = join(fake.root, 'vms-home');
});

afterAll(() => {
  const left = fake.leftovers();
  fake.cleanup();
  expect(left, 'processes left behind').toEqual([]);
});

runConformanceSuite(
  { describe, it, expect, beforeAll, afterAll },
  {
    name: 'lima (fake-limactl)',
    backend: () => createLima({ limaHome: fake.home }),
    options: () => ({ cpus: 1, memoryMiB: 1024 }),
    removeBehindBack: async (name) => {
      execFileSync('limactl', ['delete', '--force', name], {
        env: { ...process.env, LIMA_HOME: fake.home },
      });
    },
    timeoutMs: 60_000,
  },
);
