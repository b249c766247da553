import { pullFixture, registrySkipReason, runPullSuite } from '@vms/container-engine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPodman } from './podman.js';
import {
  type PodmanService,
  podmanClis,
  podmanSkipReason,
  startPodmanService,
  TEST_IMAGE,
} from './test-helpers.js';

// Pulls from two local registries (open, basic auth) that this file starts and seeds, over the
// API (a podman service started with the test-scoped registries.conf that marks them insecure)
// and through every podman CLI version found here.
const skip = podmanSkipReason() ?? registrySkipReason();
if (skip) {
  describe.skip(`podman pulls: ${skip}`, () => {});
  console.warn(`[skipped] podman pull tests: ${skip}`);
} else {
  const t = { describe, it, expect, beforeAll, afterAll };
  const fixture = pullFixture(t, { engine: 'podman', image: TEST_IMAGE });
  let service: PodmanService | undefined;
  beforeAll(async () => {
    service = await startPodmanService('pull', fixture.trust);
  }, 90_000);
  afterAll(() => service?.stop(), 60_000);
  const clis = podmanClis();
  runPullSuite(t, {
    name: `podman (api, podman ${clis[0]?.version ?? 'unknown'})`,
    transport: 'api',
    bytes: false,
    fixture,
    backend: (env) =>
      createPodman({ transport: 'api', host: service?.host ?? 'unix:///nowhere', env }),
    prefix: 'vmspullpa',
  });
  for (const [i, cli] of clis.entries()) {
    runPullSuite(t, {
      name: `podman (cli ${cli.version} at ${cli.path})`,
      transport: 'cli',
      bytes: false,
      fixture,
      backend: (env) => createPodman({ transport: 'cli', binary: cli.path, env }),
      prefix: `vmspullpc${i}`,
    });
  }
}
