/** The core conformance suite against fake-colima (test/fake-colima.mjs first on PATH, driving fake-limactl). */
import { execFileSync } from 'node:child_process';
import { fakeToolAfterAll, runConformanceSuite, which } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeColimaWorld, installFakeColima } from '../../test/fake-colima.js';
import { createColima } from '../index.js';

// Installed when the file loads: the suite reads the backend's capabilities at registration.
const fake = installFakeColima();
fakeToolAfterAll({ afterAll, expect }, fake);

runConformanceSuite(
  { describe, it, expect, beforeAll, afterAll },
  {
    name: 'colima (fake-colima 0.8.4)',
    backend: () => createColima({ colimaHome: fake.home }),
    options: () => ({ cpus: 1, memoryMiB: 1024, runtime: 'none' as const }),
    observe: fakeColimaWorld(fake),
    removeBehindBack: async (name) => {
      execFileSync('colima', ['delete', '--profile', name, '--force'], {
        env: { ...process.env, COLIMA_HOME: fake.home },
        stdio: 'pipe',
      });
    },
    timeoutMs: 60_000,
    // What the fakes cannot model: the "guest" is this host's filesystem and process table.
    skip: {
      ...(which('sudo') ? {} : { user: 'the fake runs commands on this host, which has no sudo' }),
      tty: 'colima ssh allocates a terminal only when its own stdin is one',
      mounts: 'the fakes mount nothing (the guest is the host)',
    },
  },
);
