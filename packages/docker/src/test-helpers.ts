/** Shared by the docker test files (not shipped: excluded from the build's public API). */
import { execFileSync } from 'node:child_process';

export const TEST_IMAGE = process.env.VMS_TEST_IMAGE ?? 'vms-test/busybox:latest';

/** Why the real-engine tests cannot run here, or undefined when they can. */
export function dockerSkipReason(): string | undefined {
  try {
    execFileSync('docker', ['image', 'inspect', TEST_IMAGE], { stdio: 'pipe', timeout: 30_000 });
    return undefined;
  } catch (error) {
    const text = String((error as { stderr?: Buffer }).stderr ?? error);
    return `docker engine or test image unavailable (${text.trim().split('\n').pop()}); run scripts/ci/containers.sh`;
  }
}

export function removeBehindBack(name: string): Promise<void> {
  execFileSync('docker', ['rm', '-f', name], { stdio: 'pipe', timeout: 60_000 });
  return Promise.resolve();
}

/** Removes every container a test run labelled (the afterAll sweep, also after failures). */
export function sweepTestRun(run: string): Promise<void> {
  const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=dev.vms.test-run=${run}`], {
    encoding: 'utf8',
    timeout: 60_000,
  })
    .split('\n')
    .filter(Boolean);
  if (ids.length) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'pipe', timeout: 120_000 });
  return Promise.resolve();
}
