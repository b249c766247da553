import { runContainerSuite } from '@vms/container-engine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocker } from './docker.js';
import { dockerSkipReason, removeBehindBack, TEST_IMAGE } from './test-helpers.js';

const skip = dockerSkipReason();
if (skip) {
  describe.skip(`docker (cli): ${skip}`, () => {});
  console.warn(`[skipped] docker (cli) tests: ${skip}`);
} else {
  runContainerSuite(
    { describe, it, expect, beforeAll, afterAll },
    {
      name: 'docker (cli)',
      transport: 'cli',
      backend: () => createDocker({ transport: 'cli' }),
      deadBackend: () =>
        createDocker({ transport: 'cli', host: 'unix:///tmp/vms-nothing-listens-here.sock' }),
      image: TEST_IMAGE,
      removeBehindBack,
      prefix: 'vmstcli',
    },
  );
}
