/** The core conformance suite on the test guest packaged as a LinuxKit kernel+initrd output. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runConformanceSuite } from '@vms/core/testing';
import { qemuWorld } from '@vms/qemu/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guest, kernelTriple, skipReason, sweep, useTempHome, vmOptions } from '../test/guest.js';
import { createLinuxkit } from './backend.js';

if (skipReason) {
  describe('linuxkit: vms-backend-v1 conformance', () => {
    it.skip(`skipped: ${skipReason}`, () => {});
  });
} else {
  const home = useTempHome();
  const images = mkdtempSync(join(tmpdir(), 'vlk-conf-images-'));
  const image = kernelTriple(guest!, images, 'guest');
  afterAll(() => {
    sweep(home);
    sweep(images);
  });
  runConformanceSuite(
    { describe, it, expect, beforeAll, afterAll },
    {
      name: 'linuxkit',
      backend: () => createLinuxkit(),
      options: () => vmOptions(guest!, { image }),
      observe: qemuWorld(
        (name) => join(home, 'state', 'linuxkit', name, 'qemu', name),
        (name) => join(home, 'state', 'linuxkit', name),
      ),
      logs: { expect: guest!.marker },
      skip: {
        user: 'the test guest has only root',
        snapshot: 'the test image is kernel+initrd: it has no disk to snapshot',
        mounts: "the test guest's kernel has no 9p filesystem (mount: No such device)",
      },
      timeoutMs: 180_000,
      stopGraceMs: 30_000,
      // A stopped instance's whole state directory removed behind the runtime's back.
      removeBehindBack: async (name) => {
        rmSync(join(home, 'state', 'linuxkit', name), { recursive: true, force: true });
      },
    },
  );
}
