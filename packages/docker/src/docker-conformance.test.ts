import { runConformanceSuite, testRunLabels } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocker } from './docker.js';
import {
  dockerSkipReason,
  removeBehindBack,
  sweepTestSuite,
  TEST_IMAGE,
  world,
} from './test-helpers.js';

const skip = dockerSkipReason();
const run = `conf-${process.pid}`;
if (skip) {
  console.warn(`[skipped] docker conformance: ${skip}`);
  describe.skip(`docker conformance: ${skip}`, () => {});
} else {
  afterAll(() => sweepTestSuite(run), 120_000);
  runConformanceSuite(
    { describe, it, expect, beforeAll, afterAll },
    {
      name: 'docker',
      backend: () => createDocker(),
      options: () => ({
        image: TEST_IMAGE,
        labels: { ...testRunLabels(), 'dev.vms.test-suite': run },
      }),
      observe: world,
      namePrefix: 'vmsconf-docker',
      removeBehindBack,
      stopGraceMs: 10_000,
    },
  );
}
