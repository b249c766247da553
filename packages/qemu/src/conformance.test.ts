/** The core conformance suite on the test guest under TCG. */
import { runConformanceSuite } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guest, guestOptions, skipReason, sweep, useTempHome } from '../test/guest.js';
import { createQemu } from './backend.js';

if (skipReason) {
  describe('qemu: vms-backend-v1 conformance', () => {
    it.skip(`skipped: ${skipReason}`, () => {});
  });
} else {
  let home = '';
  afterAll(() => {
    if (home) sweep(home);
  });
  runConformanceSuite(
    { describe, it, expect, beforeAll, afterAll },
    {
      name: 'qemu',
      backend: () => {
        home = useTempHome();
        return createQemu();
      },
      // Initramfs boot (no disk): the quickest to boot; snapshots are covered in vm-lifecycle.
      options: () => ({ ...guestOptions(guest!), disk: undefined, cmdline: guest!.cmdline }),
      timeoutMs: 180_000,
      stopGraceMs: 30_000,
    },
  );
}
