import { runContainerSuite } from '@vms/container-engine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocker } from './docker.js';
import { dockerClis, dockerSkipReason, removeBehindBack, TEST_IMAGE } from './test-helpers.js';

// The CLI transport's suite runs once per docker CLI version on this machine (Debian's 20.10
// prints `json` for `--format json`; Docker CE's 28.x does not), named with the version.
const skip = dockerSkipReason();
const clis = skip ? [] : dockerClis();
if (skip) {
  describe.skip(`docker (cli): ${skip}`, () => {});
  console.warn(`[skipped] docker (cli) tests: ${skip}`);
} else {
  console.info(
    `docker CLI versions found: ${clis.map((c) => `${c.version} (${c.path})`).join(', ')}`,
  );
  for (const [i, cli] of clis.entries()) {
    runContainerSuite(
      { describe, it, expect, beforeAll, afterAll },
      {
        name: `docker (cli ${cli.version} at ${cli.path})`,
        transport: 'cli',
        backend: () => createDocker({ transport: 'cli', binary: cli.path }),
        deadBackend: () =>
          createDocker({
            transport: 'cli',
            binary: cli.path,
            host: 'unix:///tmp/vms-nothing-listens-here.sock',
          }),
        image: TEST_IMAGE,
        removeBehindBack,
        prefix: `vmstcli${i}`,
      },
    );
  }
}
