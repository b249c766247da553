import { runConformanceSuite, testRunLabels } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodman } from './podman.js';
import { podmanSkipReason, removeBehindBack, sweepTestSuite, TEST_IMAGE } from './test-helpers.js';

const skip = podmanSkipReason();
const run = `conf-${process.pid}`;
if (skip) {
  console.warn(`[skipped] podman conformance: ${skip}`);
  describe.skip(`podman conformance: ${skip}`, () => {});
} else {
  afterAll(() => sweepTestSuite(run), 120_000);
  runConformanceSuite(
    { describe, it, expect, beforeAll, afterAll },
    {
      name: 'podman',
      backend: () => createPodman(),
      options: () => ({
        image: TEST_IMAGE,
        labels: { ...testRunLabels(), 'dev.vms.test-suite': run },
      }),
      namePrefix: 'vmsconf-podman',
      removeBehindBack,
      stopGraceMs: 10_000,
    },
  );
}
