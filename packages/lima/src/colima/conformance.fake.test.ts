/** The core conformance suite against fake-colima (test/fake-colima.mjs first on PATH, driving fake-limactl). */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { runConformanceSuite } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeColima, installFakeColima } from '../../test/fake-colima.js';
import { createColima } from '../index.js';

let fake: FakeColima;

beforeAll(() => {
  fake = installFakeColima();
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
    name: 'colima (fake-colima 0.8.4)',
    backend: () => createColima({ colimaHome: fake.home }),
    options: () => ({ cpus: 1, memoryMiB: 1024, runtime: 'none' }),
    removeBehindBack: async (name) => {
      execFileSync('colima', ['delete', '--profile', name, '--force'], {
        env: { ...process.env, COLIMA_HOME: fake.home },
        stdio: 'pipe',
      });
    },
    timeoutMs: 60_000,
  },
);
