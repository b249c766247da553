import { runConformanceSuite, testRunLabels } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodman } from './podman.js';
import {
  type PodmanService,
  podmanServiceSocket,
  podmanSkipReason,
  removeBehindBack,
  startPodmanService,
  sweepTestSuite,
  TEST_IMAGE,
  world,
} from './test-helpers.js';

const skip = podmanSkipReason();
const run = `conf-${process.pid}`;
if (skip) {
  console.warn(`[skipped] podman conformance: ${skip}`);
  describe.skip(`podman conformance: ${skip}`, () => {});
} else {
  // The API transport needs a podman service: one for this file, on its own socket.
  let service: PodmanService | undefined;
  beforeAll(async () => {
    service = await startPodmanService('conf');
  }, 90_000);
  afterAll(async () => {
    await sweepTestSuite(run);
    await service?.stop();
  }, 120_000);
  for (const transport of ['api', 'cli'] as const) {
    runConformanceSuite(
      { describe, it, expect, beforeAll, afterAll },
      {
        name: `podman (${transport})`,
        // Construction does no I/O: the service's socket is only dialled once the tests run.
        backend: () =>
          transport === 'api'
            ? createPodman({ transport, host: `unix://${podmanServiceSocket('conf')}` })
            : createPodman({ transport }),
        options: () => ({
          image: TEST_IMAGE,
          labels: { ...testRunLabels(), 'dev.vms.test-suite': run },
        }),
        observe: world,
        namePrefix: `vmsconf-podman-${transport}`,
        removeBehindBack,
        stopGraceMs: 10_000,
      },
    );
  }
}
