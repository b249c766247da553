/** Shared by the docker test files (not shipped: excluded from the build's public API). */
import { TEST_IMAGE, testEngine } from '@vms/container-engine/testing';

export { TEST_IMAGE };

const engine = testEngine('docker', { setupHint: 'run scripts/ci/containers.sh' });
/** `dockerSkipReason()`: why the real-engine tests cannot run here, or undefined when they can. */
export const { removeBehindBack, sweepTestSuite, unavailableReason: dockerSkipReason } = engine;
