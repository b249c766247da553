/** The core conformance suite against fake-tart (test/fake-tart.mjs first on PATH). */
import { execFileSync } from 'node:child_process';
import { fakeToolAfterAll, runConformanceSuite, which } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeTart, fakeTartWorld, installFakeTart } from '../test/fake.js';
import { createTart } from './index.js';

// Installed when the file loads: the suite reads the backend's capabilities at registration.
const fake: FakeTart = installFakeTart();
fakeToolAfterAll({ afterAll, expect }, fake);

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
    observe: fakeTartWorld(fake),
    removeBehindBack: async (name) => {
      execFileSync('tart', ['delete', name], { env: { ...process.env, TART_HOME: fake.home } });
    },
    timeoutMs: 60_000,
    // What fake-tart cannot model: its guest agent runs commands on this host, without a terminal.
    skip: {
      ...(which('sudo') ? {} : { user: 'fake-tart runs commands on this host, which has no sudo' }),
      tty: 'fake-tart allocates no terminals',
    },
  },
);
