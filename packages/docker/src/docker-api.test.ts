import { runContainerSuite } from '@vms/container-engine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocker } from './docker.js';
import {
  dockerEngineLabel,
  dockerSkipReason,
  removeBehindBack,
  TEST_IMAGE,
} from './test-helpers.js';

const skip = dockerSkipReason();
if (skip) {
  describe.skip(`docker (api): ${skip}`, () => {});
  console.warn(`[skipped] docker (api) tests: ${skip}`);
} else {
  runContainerSuite(
    { describe, it, expect, beforeAll, afterAll },
    {
      name: `docker (api, ${dockerEngineLabel()})`,
      transport: 'api',
      backend: () => createDocker({ transport: 'api' }),
      deadBackend: () =>
        createDocker({ transport: 'api', host: 'unix:///tmp/vms-nothing-listens-here.sock' }),
      image: TEST_IMAGE,
      removeBehindBack,
      prefix: 'vmstapi',
    },
  );
}
