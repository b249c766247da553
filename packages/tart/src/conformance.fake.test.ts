/** The core conformance suite against fake-tart (test/fake-tart.mjs first on PATH). */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { runConformanceSuite } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeTart, installFakeTart } from '../test/fake.js';
import { createTart } from './index.js';

let fake: FakeTart;

beforeAll(() => {
  fake = installFakeTart();
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
    name: 'tart (fake-tart)',
    backend: () => createTart({ tartHome: fake.home, stateDir: fake.stateDir }),
    // A macOS image, so that suspend is supported.
    options: () => ({
      source: 'ghcr.io/cirruslabs/macos-sequoia-base:latest',
      suspendable: true,
      readiness: { maxPollIntervalMs: 100 },
    }),
    removeBehindBack: async (name) => {
      execFileSync('tart', ['delete', name], { env: { ...process.env, TART_HOME: fake.home } });
    },
    timeoutMs: 60_000,
  },
);
