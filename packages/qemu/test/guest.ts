/**
 * This package's real-VM tests: the test guest from `@vms/qemu/testing` (src/testing.ts), the
 * reason to skip, and the instance options that boot it.
 */
import type { QemuOptionsInput } from '../src/options.js';
import { loadTestGuest, type TestGuest, testGuestSkipReason } from '../src/testing.js';

export { processesUnder, sweep, type TestGuest, useTempHome } from '../src/testing.js';

export const guest = loadTestGuest();

/** Why the real-VM tests skip here, or undefined when they run. */
export const skipReason = testGuestSkipReason();
if (skipReason) console.warn(`[qemu tests] skipping real-VM tests: ${skipReason}`);

/** Options booting the test guest on a qcow2 overlay of its root disk, with a per-instance seed. */
export function guestOptions(
  g: TestGuest,
  extra: Partial<QemuOptionsInput> = {},
  cmdlineExtra = '',
): QemuOptionsInput {
  return {
    kernel: g.vmlinux,
    initrd: g.initrd,
    cmdline: `${g.rootCmdline}${cmdlineExtra ? ` ${cmdlineExtra}` : ''}`,
    disk: g.baseQcow2,
    accel: 'tcg' as const,
    memoryMiB: 256,
    cpus: 1,
    restrictNetwork: true,
    readyMarker: g.marker,
    ...extra,
  };
}
