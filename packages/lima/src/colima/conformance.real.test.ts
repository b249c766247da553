/**
 * The core conformance suite against the real colima, when it is on PATH and can run here: not
 * as root (Lima refuses), with Lima installed, and a hypervisor to boot a VM (the first create
 * downloads colima's disk image). The fakes are not put on PATH. Runtime: VMS_COLIMA_TEST_RUNTIME
 * (default `none`, the quickest to provision).
 */
import { runConformanceSuite, which } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limactlWorld } from '../../test/fake.js';
import { createColima } from '../index.js';

const colima = which('colima');
const RUNTIMES = ['docker', 'containerd', 'incus', 'none'] as const;
const wanted = process.env.VMS_COLIMA_TEST_RUNTIME ?? 'none';
const runtime = RUNTIMES.find((r) => r === wanted) ?? 'none';
const reason = !colima
  ? 'colima is not on PATH'
  : !which('limactl')
    ? 'colima needs Lima, and limactl is not on PATH'
    : process.getuid?.() === 0
      ? 'Lima (which colima drives) refuses to run as root'
      : undefined;

if (reason === undefined) {
  runConformanceSuite(
    { describe, it, expect, beforeAll, afterAll },
    {
      name: `colima (real: ${colima})`,
      backend: () => createColima(),
      options: () => ({ runtime, cpus: 1, memoryMiB: 1024 }),
      // colima's Lima instance of profile NAME is colima-NAME.
      observe: {
        state: (name) => limactlWorld('limactl').state(`colima-${name}`),
      },
      namePrefix: 'vmsconf-colima',
      timeoutMs: 1_800_000,
    },
  );
} else {
  console.info(`[@vms/lima] real colima conformance skipped: ${reason}`);
  describe('colima (real binary)', () => {
    it.skipIf(true)(`conformance — skipped: ${reason}`, () => {});
  });
}
