/** Shared by the docker test files (not shipped: excluded from the build's public API). */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { cliVersions, TEST_IMAGE, testEngine } from '@vms/container-engine/testing';
import { mountsUnder } from '@vms/core/testing';

export { mountsUnder, TEST_IMAGE };

const engine = testEngine('docker', { setupHint: 'run scripts/ci/containers.sh' });
/** `dockerSkipReason()`: why the real-engine tests cannot run here, or undefined when they can. */
export const { removeBehindBack, sweepTestSuite, unavailableReason: dockerSkipReason } = engine;

/** Every distinct docker CLI version on this machine (Docker CE's and Debian's 20.10, say). */
export const dockerClis = () => cliVersions('docker');

/** "engine 20.10.24, API 1.41": what the API-transport suites run against, for their names. */
export function dockerEngineLabel(): string {
  try {
    const v = execFileSync(
      'docker',
      ['version', '--format', '{{.Server.Version}} {{.Server.APIVersion}}'],
      {
        encoding: 'utf8',
        stdio: 'pipe',
        timeout: 30_000,
      },
    ).trim();
    const [version, api] = v.split(' ');
    return `engine ${version}, API ${api}`;
  } catch {
    return 'engine unknown';
  }
}

/** Unmounts whatever a dead dockerd left under `dir` (lazily when busy), then removes `dir`. */
export function removeEngineDir(dir: string): void {
  for (const mp of mountsUnder(dir)) {
    try {
      execFileSync('umount', [mp], { stdio: 'pipe' });
    } catch {
      execFileSync('umount', ['--lazy', mp], { stdio: 'pipe' });
    }
  }
  rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}
