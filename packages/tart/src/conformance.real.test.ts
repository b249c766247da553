/**
 * The core conformance suite against the real tart, when it is on PATH (macOS on Apple silicon).
 * The fake is not put on PATH here. The image comes from VMS_TART_TEST_IMAGE (default: a
 * cirruslabs macOS image, which has the guest agent `tart exec` needs and supports suspend).
 */
import { runConformanceSuite, which } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tartWorld } from '../test/fake.js';
import { createTart } from './index.js';

const tartPath = which('tart');
const image = process.env.VMS_TART_TEST_IMAGE ?? 'ghcr.io/cirruslabs/macos-sequoia-base:latest';

if (tartPath) {
  runConformanceSuite(
    { describe, it, expect, beforeAll, afterAll },
    {
      name: `tart (real: ${tartPath})`,
      backend: () => createTart(),
      options: () => ({ source: image, suspendable: image.includes('macos') }),
      observe: tartWorld(tartPath),
      namePrefix: 'vmsconf-tart',
      timeoutMs: 1_800_000,
    },
  );
} else {
  const reason = 'tart is not on PATH (it runs only on macOS on Apple silicon)';
  console.info(`[@vms/tart] real-binary conformance skipped: ${reason}`);
  describe('tart (real binary)', () => {
    it.skipIf(true)(`conformance — skipped: ${reason}`, () => {});
  });
}
