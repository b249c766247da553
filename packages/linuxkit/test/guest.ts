/**
 * The project's test guest (from `@vms/qemu/testing`) repackaged as LinuxKit outputs, and the
 * options every real test VM uses.
 */
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  loadTestGuest,
  type TestGuest,
  useTempHome as tempHome,
  testGuestSkipReason,
} from '@vms/qemu/testing';

import type { LinuxkitOptionsInput } from '../src/options.js';

export { processesUnder, sweep, type TestGuest } from '@vms/qemu/testing';

export const guest = loadTestGuest();

/** Why the real-VM tests skip here, or undefined when they run. */
export const skipReason = testGuestSkipReason();
if (skipReason) console.warn(`[linuxkit tests] skipping real-VM tests: ${skipReason}`);

/** A fresh VMS_HOME for this test file (set in process.env, read lazily by the backend). */
export const useTempHome = (prefix = 'vlk-') => tempHome(prefix);

/**
 * The guest as LinuxKit's kernel+initrd output in `dir`: `NAME-kernel` (the bzImage),
 * `NAME-initrd.img`, `NAME-cmdline`. Returns the prefix (what `linuxkit run` takes).
 */
export function kernelTriple(g: TestGuest, dir: string, name = 'guest'): string {
  const prefix = join(dir, name);
  symlinkSync(g.bzImage, `${prefix}-kernel`);
  symlinkSync(g.initrd, `${prefix}-initrd.img`);
  writeFileSync(`${prefix}-cmdline`, `${g.cmdline}\n`);
  return prefix;
}

/** Options every real test VM uses: TCG, 1 vCPU, 256 MiB, the guest's baked-in key. */
export function vmOptions(
  g: TestGuest,
  extra: Partial<LinuxkitOptionsInput> = {},
): LinuxkitOptionsInput {
  return {
    accel: 'tcg' as const,
    cpus: 1,
    memoryMiB: 256,
    restrictNetwork: true,
    readyMarker: g.marker,
    ssh: { privateKey: g.idKey },
    ...extra,
  };
}
