/** Shared by the podman test files (not shipped). */
import { existsSync } from 'node:fs';
import { TEST_IMAGE, testEngine } from '@vms/container-engine/testing';

export { TEST_IMAGE };

/** What scripts/ci/containers.sh writes: runc and lowered ulimits, which make `podman run` work here. */
export const CI_CONTAINERS_CONF = '/etc/containers/containers.conf.d/50-vms-ci.conf';

/** Sets CONTAINERS_CONF to the CI drop-in when unset, so `pnpm test` works right after the script. */
export function useCiContainersConf(): void {
  if (!process.env.CONTAINERS_CONF && existsSync(CI_CONTAINERS_CONF)) {
    process.env.CONTAINERS_CONF = CI_CONTAINERS_CONF;
  }
}

const engine = testEngine('podman', { setupHint: 'run scripts/ci/containers.sh' });
export const { removeBehindBack, sweepTestSuite } = engine;

/** Why the real-engine tests cannot run here, or undefined when they can. */
export function podmanSkipReason(): string | undefined {
  useCiContainersConf();
  return engine.unavailableReason();
}
