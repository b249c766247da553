import { runContainerSuite } from '@vms/container-engine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodman } from './podman.js';
import { podmanClis, podmanSkipReason, removeBehindBack, TEST_IMAGE } from './test-helpers.js';

// Once per podman CLI version found here, named with it.
const skip = podmanSkipReason();
if (skip) {
  console.warn(`[skipped] podman (cli) tests: ${skip}`);
  describe.skip(`podman (cli): ${skip}`, () => {});
} else {
  for (const [i, cli] of podmanClis().entries()) {
    runContainerSuite(
      { describe, it, expect, beforeAll, afterAll },
      {
        name: `podman (cli ${cli.version} at ${cli.path})`,
        transport: 'cli',
        backend: () => createPodman({ transport: 'cli', binary: cli.path }),
        deadBackend: () =>
          createPodman({
            transport: 'cli',
            binary: cli.path,
            host: 'unix:///tmp/vms-nothing-listens-here.sock',
          }),
        image: TEST_IMAGE,
        removeBehindBack,
        prefix: `vmspc${i}`,
      },
    );
  }
}
