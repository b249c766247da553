/** The core conformance suite on the test guest under TCG. */
import { join } from 'node:path';
import { runConformanceSuite } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guest, guestOptions, skipReason, sweep, useTempHome } from '../test/guest.js';
import { createQemu } from './backend.js';
import { qemuWorld } from './testing.js';

if (skipReason) {
  describe('qemu: vms-backend-v1 conformance', () => {
    it.skip(`skipped: ${skipReason}`, () => {});
  });
} else {
  const home = useTempHome();
  afterAll(() => sweep(home));
  const dirOf = (name: string) => join(home, 'state', 'qemu', name);
  runConformanceSuite(
    { describe, it, expect, beforeAll, afterAll },
    {
      name: 'qemu',
      backend: () => createQemu(),
      // Initramfs boot (no disk): the quickest to boot. Snapshots need a disk: the driver turns
      // them off for these options (they are covered in vm-lifecycle.test.ts).
      options: () => ({ ...guestOptions(guest!), disk: undefined, cmdline: guest!.cmdline }),
      observe: qemuWorld(dirOf),
      removeBehindBack: async (name) => {
        sweep(dirOf(name));
      },
      logs: { expect: guest!.marker },
      skip: { user: 'the test guest has only root' },
      timeoutMs: 180_000,
      stopGraceMs: 30_000,
    },
  );
}
