/**
 * The core conformance suite against the real limactl, when it is on PATH and can run here
 * (not as root; it needs a hypervisor and downloads a cloud image). The fake is not put on PATH.
 * The template comes from VMS_LIMA_TEST_TEMPLATE (default `default`).
 */
import { runConformanceSuite, which } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limactlWorld } from '../test/fake.js';
import { createLima } from './index.js';

const limactl = which('limactl');
const template = process.env.VMS_LIMA_TEST_TEMPLATE ?? 'default';
const reason = !limactl
  ? 'limactl is not on PATH'
  : process.getuid?.() === 0
    ? 'limactl refuses to run as root'
    : undefined;

if (reason === undefined) {
  runConformanceSuite(
    { describe, it, expect, beforeAll, afterAll },
    {
      name: `lima (real: ${limactl})`,
      backend: () => createLima(),
      options: () => ({ template, cpus: 1, memoryMiB: 1024 }),
      observe: limactlWorld(limactl as string),
      namePrefix: 'vmsconf-lima',
      timeoutMs: 1_800_000,
    },
  );
} else {
  console.info(`[@vms/lima] real-binary conformance skipped: ${reason}`);
  describe('lima (real binary)', () => {
    it.skipIf(true)(`conformance — skipped: ${reason}`, () => {});
  });
}
