import { runContainerSuite } from '@vms/container-engine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodman } from './podman.js';
import {
  type PodmanService,
  podmanClis,
  podmanSkipReason,
  removeBehindBack,
  startPodmanService,
  TEST_IMAGE,
} from './test-helpers.js';

// Podman's API exists only while `podman system service` runs: this file starts one on its own
// socket, runs the shared suite over the API, and stops it afterwards.
const skip = podmanSkipReason();
let service: PodmanService | undefined;

if (skip) {
  console.warn(`[skipped] podman (api) tests: ${skip}`);
  describe.skip(`podman (api): ${skip}`, () => {});
} else {
  beforeAll(async () => {
    service = await startPodmanService('api');
  }, 90_000);

  afterAll(() => service?.stop(), 60_000);

  runContainerSuite(
    { describe, it, expect, beforeAll, afterAll },
    {
      name: `podman (api, podman ${podmanClis()[0]?.version ?? 'unknown'})`,
      transport: 'api',
      backend: () => createPodman({ transport: 'api', host: service?.host ?? 'unix:///nowhere' }),
      deadBackend: () =>
        createPodman({ transport: 'api', host: 'unix:///tmp/vms-nothing-listens-here.sock' }),
      image: TEST_IMAGE,
      removeBehindBack,
      prefix: 'vmspa',
    },
  );
}
