/** The core conformance suite for podman-machine against the fake `podman` (podman 5.x). */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  killProcessesMentioning,
  processesRunning,
  runConformanceSuite,
  type WorldObserver,
} from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodmanMachine } from './machine.js';

const FAKE = fileURLToPath(new URL('./__fixtures__/fake-podman.mjs', import.meta.url));
const home = mkdtempSync(path.join(os.tmpdir(), 'vms-fake-podman-conf-'));
process.env.VMS_HOME = path.join(home, 'vms-home');
afterAll(() => {
  killProcessesMentioning(home);
  rmSync(home, { recursive: true, force: true });
});

/** The fake's machines.json, read without the backend; `machine ssh` runs commands on this host. */
const world: WorldObserver = {
  async state(name) {
    let machines: Record<string, { state?: string }> = {};
    try {
      machines = JSON.parse(readFileSync(path.join(home, 'machines.json'), 'utf8'));
    } catch {
      // no machine yet
    }
    const m = machines[name];
    if (!m) return 'absent';
    return m.state === 'running' ? 'running' : 'stopped';
  },
  async processes(_name, text) {
    return processesRunning(text).length;
  },
};

runConformanceSuite(
  { describe, it, expect, beforeAll, afterAll },
  {
    name: 'podman-machine (fake podman 5.8.2)',
    backend: () =>
      createPodmanMachine({
        binary: FAKE,
        env: { FAKE_PODMAN_HOME: home, FAKE_PODMAN_VERSION: '5.8.2' },
      }),
    options: () => ({ cpus: 1, memoryMiB: 1024 }),
    observe: world,
    exclusive: true,
    timeoutMs: 60_000,
    skip: {
      user: "the fake's ssh runs commands as this host's user",
      tty: "the fake's ssh allocates no terminals",
    },
  },
);
