/** Shared by the real-docker test files and the benchmark's checks. Not shipped. */
import { execFileSync } from 'node:child_process';

export const TEST_IMAGE = process.env.VMS_TEST_IMAGE ?? 'vms-test/busybox:latest';

/** Why the real-docker tests cannot run here, or undefined when they can. */
export function dockerSkipReason(): string | undefined {
  try {
    execFileSync('docker', ['image', 'inspect', TEST_IMAGE], { stdio: 'pipe', timeout: 30_000 });
    return undefined;
  } catch (error) {
    const text = String((error as { stderr?: Buffer }).stderr ?? error);
    return `no docker engine answers or image ${TEST_IMAGE} is missing (${text.trim().split('\n').pop()}); run scripts/ci/containers.sh`;
  }
}

/** Runs the docker CLI (argv only); returns stdout. */
export function docker(...args: string[]): string {
  return execFileSync('docker', args, { stdio: 'pipe', timeout: 60_000 }).toString('utf8');
}
