/**
 * Helpers for tests against a real docker or podman engine (the CI one), through its CLI with
 * argv arrays: whether the engine and the test image are there, the afterAll sweep of a test
 * run's containers, and removing a container behind the library's back.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, realpathSync } from 'node:fs';
import path from 'node:path';
import type { WorldObserver, WorldState } from '@vms/core/testing';
import { TEST_SUITE_LABEL } from './suite.js';

/** The image real-engine tests use (VMS_TEST_IMAGE, default the locally built CI busybox). */
export const TEST_IMAGE = process.env.VMS_TEST_IMAGE ?? 'vms-test/busybox:latest';

export interface TestEngine {
  readonly binary: 'docker' | 'podman';
  /**
   * Why real-engine tests cannot run here (no engine answers, or the image is missing), or
   * undefined when they can.
   */
  unavailableReason(): string | undefined;
  /** Runs the engine's CLI; returns its stdout (throws when it fails). */
  cli(...args: string[]): string;
  /** `rm -f NAME`: removes a container behind the library's back. */
  removeBehindBack(name: string): Promise<void>;
  /** Removes every container labelled `dev.vms.test-suite=SUITE` (a file's afterAll sweep, also after failures). */
  sweepTestSuite(suite: string): Promise<void>;
  /**
   * The engine's own view of a container, through its CLI (`inspect`, `top`): the conformance
   * suite's observe port, independent of the backend's transport and driver.
   */
  world: WorldObserver;
}

const WORLD_OF_STATUS: Record<string, WorldState> = {
  running: 'running',
  paused: 'suspended',
  restarting: 'running',
};

export interface TestEngineOptions {
  /** The image the tests need (default TEST_IMAGE). */
  image?: string;
  /** Appended to the unavailable reason: how to get the engine and image, e.g. a setup script. */
  setupHint?: string;
}

export function testEngine(
  binary: 'docker' | 'podman',
  options: TestEngineOptions = {},
): TestEngine {
  const image = options.image ?? TEST_IMAGE;
  const setup = options.setupHint ? `; ${options.setupHint}` : '';
  const cli = (...args: string[]) =>
    execFileSync(binary, args, { stdio: 'pipe', timeout: 60_000 }).toString('utf8');
  const absent = (error: unknown) =>
    /no such (container|object)|no container with name/i.test(
      String((error as { stderr?: Buffer }).stderr ?? ''),
    );
  return {
    binary,
    unavailableReason() {
      try {
        execFileSync(binary, ['image', 'inspect', image], { stdio: 'pipe', timeout: 60_000 });
        return undefined;
      } catch (error) {
        const text = String((error as { stderr?: Buffer }).stderr ?? error).trim();
        return `no ${binary} engine answers or image ${image} is missing (${text.split('\n').pop() || 'no output'})${setup}`;
      }
    },
    cli,
    removeBehindBack(name) {
      cli('rm', '-f', name);
      return Promise.resolve();
    },
    world: {
      async state(name) {
        let status: string;
        try {
          status = cli(
            'inspect',
            '--type',
            'container',
            '--format',
            '{{.State.Status}}',
            name,
          ).trim();
        } catch (error) {
          if (absent(error)) return 'absent';
          throw error;
        }
        return WORLD_OF_STATUS[status] ?? 'stopped';
      },
      async processes(name, text) {
        // docker top takes ps options (it needs the pid column); podman top takes descriptors.
        const out =
          binary === 'docker' ? cli('top', name, '-eo', 'pid,args') : cli('top', name, 'args');
        return out.split('\n').filter((line) => line.includes(text)).length;
      },
    },
    sweepTestSuite(suite) {
      const ids = cli('ps', '-aq', '--filter', `label=${TEST_SUITE_LABEL}=${suite}`)
        .split('\n')
        .filter(Boolean);
      if (ids.length)
        execFileSync(binary, ['rm', '-f', ...ids], { stdio: 'pipe', timeout: 120_000 });
      return Promise.resolve();
    },
  };
}

/** One CLI binary found on this machine and the version it reports. */
export interface CliBinary {
  path: string;
  version: string;
}

/** Where distributions and installers put the docker / podman CLI, besides PATH. */
const USUAL_DIRS = ['/usr/local/bin', '/usr/bin', '/bin', '/snap/bin', '/opt/homebrew/bin'];

/**
 * Every distinct version of `binary` on this machine: PATH first, then the usual places
 * (Docker CE's CLI in /usr/local/bin ahead of Debian's 20.10 in /usr/bin, say). Paths that
 * resolve to one file count once; of several files with one version, the first found is kept.
 */
export function cliVersions(binary: 'docker' | 'podman'): CliBinary[] {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...USUAL_DIRS];
  const seenFiles = new Set<string>();
  const found: CliBinary[] = [];
  for (const dir of dirs) {
    const candidate = path.join(dir, binary);
    let real: string;
    try {
      accessSync(candidate, constants.X_OK);
      real = realpathSync(candidate);
    } catch {
      continue;
    }
    if (seenFiles.has(real)) continue;
    seenFiles.add(real);
    let out: string;
    try {
      out = execFileSync(candidate, ['--version'], {
        encoding: 'utf8',
        stdio: 'pipe',
        timeout: 30_000,
      });
    } catch {
      continue;
    }
    // "Docker version 28.2.2, build e6534b4" / "podman version 4.3.1"
    const version = /version ([^\s,]+)/i.exec(out)?.[1];
    if (version && !found.some((f) => f.version === version))
      found.push({ path: candidate, version });
  }
  return found;
}
