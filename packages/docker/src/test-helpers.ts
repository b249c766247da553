/** Shared by the docker test files (not shipped: excluded from the build's public API). */
import { execFileSync } from 'node:child_process';
import {
  cliVersions,
  privateDockerdSkipReason as engineSkipReason,
  type PrivateDockerd,
  privateDockerd,
  TEST_IMAGE,
  testEngine,
} from '@vms/container-engine/testing';

export { type PrivateDockerd, privateDockerd, TEST_IMAGE };

const engine = testEngine('docker', { setupHint: 'run scripts/ci/containers.sh' });
/** `dockerSkipReason()`: why the real-engine tests cannot run here, or undefined when they can. */
export const {
  removeBehindBack,
  sweepTestSuite,
  unavailableReason: dockerSkipReason,
  world,
} = engine;

/** Every distinct docker CLI version on this machine (Docker CE's and Debian's 20.10, say). */
export const dockerClis = () => cliVersions('docker');

/** "engine 20.10.24, API 1.41": what the API-transport suites run against, for their names. */
export function dockerEngineLabel(): string {
  try {
    const v = execFileSync(
      'docker',
      ['version', '--format', '{{.Server.Version}} {{.Server.APIVersion}}'],
      { encoding: 'utf8', stdio: 'pipe', timeout: 30_000 },
    ).trim();
    const [version, api] = v.split(' ');
    return `engine ${version}, API ${api}`;
  } catch {
    return 'engine unknown';
  }
}

/** Why a private dockerd cannot be started here (no engine or image to copy, no dockerd, setpriv or unshare, not root). */
export function privateDockerdSkipReason(): string | undefined {
  return dockerSkipReason() ?? engineSkipReason();
}
