import { runContainerSuite } from '@vms/container-engine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodman } from './podman.js';
import { podmanSkipReason, removeBehindBack, TEST_IMAGE } from './test-helpers.js';

const skip = podmanSkipReason();
if (skip) {
  console.warn(`[skipped] podman (cli) tests: ${skip}`);
  describe.skip(`podman (cli): ${skip}`, () => {});
} else {
  runContainerSuite(
    { describe, it, expect, beforeAll, afterAll },
    {
      name: 'podman (cli)',
      transport: 'cli',
      backend: () => createPodman({ transport: 'cli' }),
      deadBackend: () =>
        createPodman({ transport: 'cli', host: 'unix:///tmp/vms-nothing-listens-here.sock' }),
      image: TEST_IMAGE,
      removeBehindBack,
      prefix: 'vmspc',
    },
  );
}
