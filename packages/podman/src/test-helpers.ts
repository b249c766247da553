/** Shared by the podman test files (not shipped). */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { cliVersions, TEST_IMAGE, testEngine } from '@vms/container-engine/testing';

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
export const { removeBehindBack, sweepTestSuite, world } = engine;

/** Why the real-engine tests cannot run here, or undefined when they can. */
export function podmanSkipReason(): string | undefined {
  useCiContainersConf();
  return engine.unavailableReason();
}

/** Every distinct podman CLI version on this machine. */
export const podmanClis = () => cliVersions('podman');

function answers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: socket, path: '/_ping', timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

/** Where `startPodmanService(name)` puts its socket (known before it starts, for backends made early). */
export function podmanServiceSocket(name: string): string {
  return path.join(os.tmpdir(), `vms-podman-${name}-${process.pid}.sock`);
}

export interface PodmanService {
  /** unix:// URL of its socket. */
  readonly host: string;
  stop(): Promise<void>;
}

/**
 * Podman's API exists only while `podman system service` runs: starts one on its own socket (with
 * `env` added, e.g. a test-scoped CONTAINERS_REGISTRIES_CONF) and waits until it answers /_ping.
 */
export async function startPodmanService(
  name: string,
  env: Record<string, string> = {},
): Promise<PodmanService> {
  const socket = podmanServiceSocket(name);
  rmSync(socket, { force: true });
  const service: ChildProcess = spawn(
    'setpriv',
    ['--pdeathsig', 'KILL', '--', 'podman', 'system', 'service', '--time=0', `unix://${socket}`],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } },
  );
  let stderr = '';
  service.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const stop = async () => {
    if (service.exitCode === null && service.signalCode === null) {
      const exited = new Promise((r) => service.once('exit', r));
      service.kill('SIGTERM');
      await exited;
    }
    rmSync(socket, { force: true });
  };
  const deadline = Date.now() + 60_000;
  // Wait on the real condition: the socket answers /_ping.
  while (!(existsSync(socket) && (await answers(socket)))) {
    if (service.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`podman system service did not answer: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { host: `unix://${socket}`, stop };
}
