import { pullFixture, registrySkipReason, runPullSuite } from '@vms/container-engine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocker } from './docker.js';
import { dockerClis, dockerEngineLabel, dockerSkipReason, TEST_IMAGE } from './test-helpers.js';

// Pulls from two local registries (open, basic auth) that this file starts and seeds: over the
// API, and through every docker CLI version found here.
const skip = dockerSkipReason() ?? registrySkipReason();
if (skip) {
  describe.skip(`docker pulls: ${skip}`, () => {});
  console.warn(`[skipped] docker pull tests: ${skip}`);
} else {
  const t = { describe, it, expect, beforeAll, afterAll };
  const fixture = pullFixture(t, { engine: 'docker', image: TEST_IMAGE });
  runPullSuite(t, {
    name: `docker (api, ${dockerEngineLabel()})`,
    transport: 'api',
    bytes: true,
    fixture,
    backend: (env) => createDocker({ transport: 'api', env }),
    prefix: 'vmspullapi',
  });
  for (const [i, cli] of dockerClis().entries()) {
    runPullSuite(t, {
      name: `docker (cli ${cli.version} at ${cli.path})`,
      transport: 'cli',
      bytes: false,
      fixture,
      backend: (env) => createDocker({ transport: 'cli', binary: cli.path, env }),
      prefix: `vmspullcli${i}`,
    });
  }
}
