/** The real docker engine of the pool's tests: `docker(...args)` and why it cannot be used. Not shipped. */
import { TEST_IMAGE, testEngine } from '@vms/container-engine/testing';

export { TEST_IMAGE };

/** `docker(...args)` runs the docker CLI (argv only) and returns stdout. */
export const { cli: docker, unavailableReason: dockerSkipReason } = testEngine('docker', {
  setupHint: 'run scripts/ci/containers.sh',
});
