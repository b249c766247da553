/** What a backend hands the conformance suite, and the test API the suite needs from the runner. */
import type * as z4 from 'zod/v4/core';
import type { InstanceSettings } from '../../instance.js';
import type { BackendV1 } from '../../spec/v1.js';

type TestFn = () => unknown;

/** `it`/`test` of the runner: registering a test, or a skipped one (`skipIf`). */
export interface TestRegistrar {
  (name: string, fn: TestFn, timeout?: number): void;
  skipIf(condition: boolean): (name: string, fn: TestFn, timeout?: number) => void;
}

/** `describe` of the runner. */
export interface DescribeRegistrar {
  (name: string, fn: () => void): void;
  skipIf(condition: boolean): (name: string, fn: () => void) => void;
}

/**
 * The parts of vitest's API the suite uses (pass vitest's own: `{ describe, it, expect,
 * beforeAll, afterAll }`); any runner with the same shape fits.
 */
export interface TestApi {
  describe: DescribeRegistrar;
  it: TestRegistrar;
  // biome-ignore lint/suspicious/noExplicitAny: the runner's expect is generic by nature
  expect: (value: unknown, message?: string) => any;
  beforeAll: (fn: TestFn, timeout?: number) => void;
  afterAll: (fn: TestFn, timeout?: number) => void;
}

/** An instance's state as the world shows it, seen without the backend's driver. */
export type WorldState = 'absent' | 'stopped' | 'running' | 'suspended';

/**
 * How the suite sees the world without asking the driver: the engine's own CLI (`docker
 * inspect`), the process table, the tool's files. A stop that does not stop, a delete that leaves
 * things behind or an exec that outlives its abort are caught here, whatever the driver reports.
 */
export interface WorldObserver {
  /** The instance's real state. */
  state(name: string): Promise<WorldState>;
  /**
   * How many live processes inside the instance have `text` in their command line. Default: the
   * guest's own `ps -e -o args`, run through a second handle (needs `exec`).
   */
  processes?(name: string, text: string): Promise<number>;
}

/** Groups a subject may turn off, with the reason (shown as the skipped test's name). */
export type SkippableGroup =
  | 'list'
  | 'exec'
  | 'stdin'
  | 'user'
  | 'tty'
  | 'execAbort'
  | 'suspend'
  | 'logs'
  | 'snapshot'
  | 'copy'
  | 'ports'
  | 'mounts'
  | 'rollback'
  | 'concurrency';

export interface ConformanceSubject<S extends z4.$ZodType = z4.$ZodType> {
  /** Names the describe block. */
  name: string;
  /** The backend under test. Synchronous: its capabilities choose the groups at registration. */
  backend: () => BackendV1<S>;
  /** Instance options of every instance the suite makes (called for each). */
  options: () => z4.input<S>;
  /** The world, seen without the driver. */
  observe: WorldObserver;
  /** Instance settings (home, lock dir, timeouts) of every instance the suite makes. */
  settings?: InstanceSettings;
  /** Prefix of instance names (default `vmsconf`); a random run id and a counter follow. */
  namePrefix?: string;
  /** Per-test timeout in ms (default 120 s). */
  timeoutMs?: number;
  /** Graceful-stop window used by the suite (default 5 s). */
  stopGraceMs?: number;
  /** Groups to turn off although the backend has the capability, each with the reason. */
  skip?: Partial<Record<SkippableGroup, string>>;
  /**
   * The tool runs one instance at a time (podman machine): the suite stops its other running
   * instances before it starts one.
   */
  exclusive?: boolean;
  /** Removes an instance behind the runtime's back (e.g. `docker rm -f`), to test drift. */
  removeBehindBack?: (name: string) => Promise<void>;
  /** Exec group settings. */
  exec?: {
    /** A user other than the default that exists in the guest (default `nobody`). */
    user?: string;
    /** An absolute directory that exists in the guest, for the `cwd` test (default `/tmp`). */
    cwd?: string;
  };
  /** A text the instance's logs hold once it runs (e.g. a boot message), checked by the logs group. */
  logs?: { expect?: string };
  /** Guest port the ports group forwards (default 8080). */
  ports?: { guestPort?: number };
  /** Guest directory the mounts group mounts a host directory at (default `/mnt/vmsconf`). */
  mounts?: { target?: string };
}
