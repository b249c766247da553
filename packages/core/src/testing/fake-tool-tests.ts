/**
 * The discipline of a test file that runs a backend against a fake tool (see fake-tool.ts), in
 * the runner's hooks: @vms keeps its state (VMS_HOME) under the fake's root; after each test the
 * instances it made are deleted, its faults cleared, and any process of the fake still running
 * (but those of instances shared across tests) fails it; after all, the fake is removed.
 */
import { join } from 'node:path';
import { createInstance, type Instance } from '../instance.js';
import type { BackendV1 } from '../spec/v1.js';
import { waitFor } from '../wait.js';

type HookFn = () => unknown;

/** The runner's hooks and `expect` (pass vitest's own). */
export interface FakeToolHooks {
  afterEach: (fn: HookFn, timeout?: number) => void;
  afterAll: (fn: HookFn, timeout?: number) => void;
  // biome-ignore lint/suspicious/noExplicitAny: the runner's expect is generic by nature
  expect: (value: unknown, message?: string) => any;
}

/** What the discipline needs of a fake: a FakeTool with its log's `clearFaults`. */
export interface FakeToolUnderTest {
  readonly root: string;
  leftovers(keep?: string[]): number[];
  /** Undoes every fault a test set. */
  clearFaults(): void;
  cleanup(): void;
}

export interface FakeToolTestsOptions {
  /** The backend `instance()` makes instances of (pointed at the fake's home). */
  backend: BackendV1;
  /** The name of the n-th instance `instance()` makes (n counts from 1). */
  name: (n: number) => string;
  /** Options every instance starts from; an `instance()` call's own win. */
  defaults?: Record<string, unknown>;
  /** Instances that live across tests (made in a `beforeAll`): their processes are no leak. */
  keep?: string[];
  /** Deadline of deleting one instance after a test (default 30 s). */
  deleteTimeoutMs?: number;
  /** How long processes on their way out get after a test before they are leaks (default 10 s). */
  exitGraceMs?: number;
}

export interface FakeToolTests {
  /** A new instance (nothing created yet) that is deleted after the test. */
  instance(options?: Record<string, unknown>, backend?: BackendV1): Instance;
  /** Deletes `instance` after the test too (one made some other way). */
  track<I extends Instance>(instance: I): I;
}

/**
 * Registers the per-test discipline (see the module comment) and returns the instance factory.
 *
 * ```ts
 * const fake = installFakeLima();
 * const backend = createLima({ limaHome: fake.home });
 * const t = fakeToolTests({ afterEach, afterAll, expect }, fake, {
 *   backend,
 *   name: (n) => `lt-${process.pid}-${n}`,
 * });
 * it('creates', async () => { await t.instance({ cpus: 2 }).create(); });
 * ```
 */
export function fakeToolTests(
  hooks: FakeToolHooks,
  fake: FakeToolUnderTest,
  options: FakeToolTestsOptions,
): FakeToolTests {
  process.env.VMS_HOME = join(fake.root, 'vms-home');
  const keep = options.keep ?? [];
  const made: Instance[] = [];
  let counter = 0;
  hooks.afterEach(async () => {
    fake.clearFaults();
    for (const vm of made.splice(0)) {
      await vm.delete({ timeoutMs: options.deleteTimeoutMs ?? 30_000 }).catch(() => undefined);
    }
    await waitFor(async () => fake.leftovers(keep).length === 0, {
      description: 'processes of the test to exit',
      timeoutMs: options.exitGraceMs ?? 10_000,
    }).catch(() => undefined);
    hooks.expect(fake.leftovers(keep), 'processes left behind').toEqual([]);
  });
  hooks.afterAll(() => fake.cleanup());
  const track = <I extends Instance>(instance: I): I => {
    made.push(instance);
    return instance;
  };
  return {
    track,
    instance(own = {}, backend = options.backend) {
      counter += 1;
      return track(createInstance(backend, options.name(counter), { ...options.defaults, ...own }));
    },
  };
}

/**
 * For a file whose tests share instances (the conformance suite against a fake): VMS_HOME under
 * the fake's root, and after all tests any process of the fake still running is a failure; the
 * fake is removed either way.
 */
export function fakeToolAfterAll(
  hooks: Pick<FakeToolHooks, 'afterAll' | 'expect'>,
  fake: Pick<FakeToolUnderTest, 'root' | 'leftovers' | 'cleanup'>,
): void {
  process.env.VMS_HOME = join(fake.root, 'vms-home');
  hooks.afterAll(() => {
    const left = fake.leftovers();
    fake.cleanup();
    hooks.expect(left, 'processes left behind').toEqual([]);
  });
}
