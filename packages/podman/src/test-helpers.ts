/** Shared by the podman test files (not shipped). */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const TEST_IMAGE = process.env.VMS_TEST_IMAGE ?? 'vms-test/busybox:latest';

/** What scripts/ci/containers.sh writes: runc and lowered ulimits, which make `podman run` work here. */
export const CI_CONTAINERS_CONF = '/etc/containers/containers.conf.d/50-vms-ci.conf';

/** Sets CONTAINERS_CONF to the CI drop-in when unset, so `pnpm test` works right after the script. */
export function useCiContainersConf(): void {
  if (!process.env.CONTAINERS_CONF && existsSync(CI_CONTAINERS_CONF)) {
    process.env.CONTAINERS_CONF = CI_CONTAINERS_CONF;
  }
}

/** Why the real-engine tests cannot run here, or undefined when they can. */
export function podmanSkipReason(): string | undefined {
  useCiContainersConf();
  try {
    execFileSync('podman', ['image', 'exists', TEST_IMAGE], { stdio: 'pipe', timeout: 60_000 });
    return undefined;
  } catch (error) {
    const text = String((error as { stderr?: Buffer }).stderr ?? error).trim();
    return `podman or the test image is unavailable (${text.split('\n').pop() || 'image missing'}); run scripts/ci/containers.sh`;
  }
}

export function removeBehindBack(name: string): Promise<void> {
  execFileSync('podman', ['rm', '-f', name], { stdio: 'pipe', timeout: 60_000 });
  return Promise.resolve();
}

/** Removes every container a test run labelled (the afterAll sweep, also after failures). */
export function sweepTestRun(run: string): Promise<void> {
  const ids = execFileSync('podman', ['ps', '-aq', '--filter', `label=dev.vms.test-run=${run}`], {
    encoding: 'utf8',
    timeout: 60_000,
  })
    .split('\n')
    .filter(Boolean);
  if (ids.length) execFileSync('podman', ['rm', '-f', ...ids], { stdio: 'pipe', timeout: 120_000 });
  return Promise.resolve();
}
