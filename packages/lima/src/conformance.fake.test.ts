/** The core conformance suite against fake-limactl (test/fake-limactl.mjs first on PATH). */
import { execFileSync } from 'node:child_process';
import { fakeToolAfterAll, runConformanceSuite, which } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeLimaWorld, installFakeLima } from '../test/fake.js';
import { createLima } from './index.js';

// Installed when the file loads: the suite reads the backend's capabilities at registration.
const fake = installFakeLima();
fakeToolAfterAll({ afterAll, expect }, fake);

runConformanceSuite(
  { describe, it, expect, beforeAll, afterAll },
  {
    name: 'lima (fake-limactl)',
    backend: () => createLima({ limaHome: fake.home }),
    options: () => ({ cpus: 1, memoryMiB: 1024 }),
    observe: fakeLimaWorld(fake),
    removeBehindBack: async (name) => {
      execFileSync('limactl', ['delete', '--force', name], {
        env: { ...process.env, LIMA_HOME: fake.home },
      });
    },
    timeoutMs: 60_000,
    // What fake-limactl cannot model: its "guest" is this host's filesystem and process table.
    skip: {
      ...(which('sudo')
        ? {}
        : { user: 'fake-limactl runs commands on this host, which has no sudo' }),
      tty: 'limactl shell allocates a terminal only when its own stdin is one',
      snapshot: "fake-limactl's guest is the host filesystem: a snapshot cannot bring content back",
      ports: 'fake-limactl forwards no ports',
      mounts: 'fake-limactl mounts nothing (its guest is the host)',
    },
  },
);
