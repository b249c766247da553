/**
 * What every group of the suite shares: the instances it makes (and deletes), the world seen
 * without the driver, and assertions whose messages name the step and what was seen.
 */
import { randomBytes } from 'node:crypto';
import type * as z4 from 'zod/v4/core';
import { effectiveCapabilities } from '../../capabilities.js';
import { VmsError } from '../../errors.js';
import { createInstance, type Instance, type InstanceSettings } from '../../instance.js';
import { parseInstanceOptions } from '../../options.js';
import type { BackendV1, Capabilities, Capability, DriverV1 } from '../../spec/v1.js';
import type { StateName } from '../../states.js';
import { waitFor } from '../../wait.js';
import { delegateBackend, delegateDriver } from './delegate.js';
import type { ConformanceSubject, SkippableGroup, TestApi, WorldState } from './types.js';

export interface Suite {
  t: TestApi;
  subject: ConformanceSubject;
  backend: BackendV1;
  /** The capabilities of an instance made with `subject.options()` (backend ∧ driver narrowing). */
  capabilities: Capabilities;
  /** Why a capability the backend declares is off for the subject's instances. */
  narrowed: Partial<Record<Capability, string>>;
  /** Problems found at registration (the contract group reports them). */
  registrationErrors: string[];
  timeout: number;
  grace: number;
  /** A new handle (not created yet) with the subject's options; deleted after the suite. */
  make(options?: {
    settings?: InstanceSettings;
    backend?: BackendV1;
    name?: string;
    /** Options merged over the subject's (`ports`, `mounts`): validated at run time. */
    extraOptions?: Record<string, unknown>;
  }): Instance;
  /** One running instance shared by the read-mostly groups (exec, logs, copy). */
  running(): Promise<Instance>;
  /** Every name the suite made an instance under. */
  names: Set<string>;
  /** The world's state of `name` (never the driver). */
  world(name: string): Promise<WorldState>;
  /** Live processes in the guest whose command line has `text` (the observer's or the guest's ps). */
  processes(name: string, text: string): Promise<number>;
  /** The reason `group` is off (subject's skip, or a missing capability), else undefined. */
  off(group: SkippableGroup | undefined, capability?: Capability): string | undefined;
}

const WORLD_OF: Partial<Record<StateName, WorldState>> = {
  initial: 'absent',
  deleted: 'absent',
  stopped: 'stopped',
  running: 'running',
  suspended: 'suspended',
};

/** Builds the shared state of one suite run. Calls `subject.backend()` and `subject.options()` once. */
export function createSuite<S extends z4.$ZodType>(
  t: TestApi,
  subject: ConformanceSubject<S>,
): Suite {
  const real: BackendV1 = subject.backend();
  const made: Instance[] = [];
  // One instance at a time: stop the suite's other running instances before starting one.
  const backend: BackendV1 = subject.exclusive
    ? delegateBackend(real, (driver, name) =>
        delegateDriver(driver, {
          doStart: async (ctx) => {
            for (const other of made) {
              if (other.name !== name && ['running', 'suspended'].includes(other.state.name))
                await other.stop({ force: true });
            }
            return driver.doStart(ctx);
          },
        }),
      )
    : real;
  const registrationErrors: string[] = [];
  const run = randomBytes(3).toString('hex');
  const prefix = subject.namePrefix ?? 'vmsconf';
  let counter = 0;
  const names = new Set<string>();
  let shared: Promise<Instance> | undefined;

  // The subject's own instances may have fewer capabilities than the backend (tart: Linux guests
  // do not suspend): ask a driver, which is I/O-free, at registration.
  let capabilities: Capabilities = { ...backend.capabilities };
  const narrowed: Partial<Record<Capability, string>> = {};
  try {
    const parsed = parseInstanceOptions(backend.optionsSchema, subject.options());
    const driver: DriverV1 = backend.driver(`${prefix}-${run}-0`, parsed);
    const effective = effectiveCapabilities(backend, driver, undefined);
    capabilities = effective.capabilities;
    for (const [name, on] of Object.entries(backend.capabilities) as [Capability, boolean][]) {
      if (on && !capabilities[name])
        narrowed[name] =
          effective.reasons[name] ?? `the driver turns ${name} off for these options`;
    }
  } catch (error) {
    registrationErrors.push(
      `the subject's options do not make a driver: ${error instanceof Error ? error.message : String(error)}`,
    );
  }

  const suite: Suite = {
    t,
    subject,
    backend,
    capabilities,
    narrowed,
    registrationErrors,
    timeout: subject.timeoutMs ?? 120_000,
    grace: subject.stopGraceMs ?? 5_000,
    names,
    make(options = {}) {
      counter += 1;
      const name = options.name ?? `${prefix}-${run}-${counter}`;
      names.add(name);
      const input = withOptions(subject.options(), options.extraOptions);
      const instance = createInstance(options.backend ?? backend, name, input, {
        ...subject.settings,
        ...options.settings,
      });
      made.push(instance);
      return instance;
    },
    async running() {
      shared ??= (async () => {
        const vm = suite.make();
        await vm.create();
        return vm;
      })();
      const vm = await shared;
      // start() is a no-op when it runs; an exclusive tool may have had it stopped meanwhile.
      await vm.start();
      return vm;
    },
    world: (name) => subject.observe.state(name),
    async processes(name, text) {
      if (subject.observe.processes) return subject.observe.processes(name, text);
      const vm = await suite.running();
      if (vm.name !== name)
        throw new Error('the default process probe only sees the shared instance');
      const r = await vm.exec(['ps', '-e', '-o', 'args'], { timeoutMs: 30_000 });
      return r.stdout.split('\n').filter((line) => line.includes(text) && !line.includes('ps -e'))
        .length;
    },
    off(group, capability) {
      if (group && subject.skip?.[group]) return subject.skip[group];
      if (capability && !backend.capabilities[capability])
        return `${backend.name} declares ${capability}: false`;
      if (capability && !capabilities[capability]) return narrowed[capability];
      return undefined;
    },
  };

  t.afterAll(
    async () => {
      for (const instance of made) {
        try {
          await instance.delete({ timeoutMs: 120_000 });
        } catch {
          // reported below: what is left in the world
        }
      }
      const left: string[] = [];
      for (const name of names) {
        const state = await subject.observe
          .state(name)
          .catch((e: unknown) => `unknown (${String(e)})`);
        if (state !== 'absent') left.push(`${name}: ${state}`);
      }
      t.expect(left, 'instances the suite made are left in the world after deleting them').toEqual(
        [],
      );
    },
    (subject.timeoutMs ?? 120_000) * 2,
  );

  return suite;
}

/** `base` options with `extra` keys set over them (for inputs validated at run time). */
export function withOptions(base: unknown, extra: Record<string, unknown> | undefined): unknown {
  if (!extra) return base;
  return typeof base === 'object' && base !== null ? { ...base, ...extra } : extra;
}

/** What `fn` throws (undefined when it returns). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error;
  }
}

/** Registers a group, or a skipped one whose name says why. */
export function group(s: Suite, title: string, reason: string | undefined, body: () => void): void {
  s.t.describe.skipIf(reason !== undefined)(reason ? `${title} (skipped: ${reason})` : title, body);
}

/** Expects `vm`'s state from `inspect()` and from the world to be `expected`, naming the step. */
export async function expectState(
  s: Suite,
  vm: Instance,
  expected: StateName,
  step: string,
): Promise<void> {
  const inspected = (await vm.refresh()).state.name;
  const world = await s.world(vm.name);
  s.t
    .expect(
      { inspect: inspected, world },
      `${step}: inspect() says ${inspected}, the world says ${world}; both should say ${expected}`,
    )
    .toEqual({ inspect: expected, world: WORLD_OF[expected] });
}

/** Expects the world alone to show `vm` as `expected` (after an op that must have done it). */
export async function expectWorld(
  s: Suite,
  name: string,
  expected: WorldState,
  step: string,
): Promise<void> {
  const world = await s.world(name);
  s.t.expect(world, `${step}: the world says ${world}, expected ${expected}`).toBe(expected);
}

/** Awaits `promise`, expecting a VmsError with `code`; returns it. The message names the step. */
export async function expectCode(
  s: Suite,
  promise: Promise<unknown>,
  code: string,
  step: string,
): Promise<VmsError> {
  const outcome = await promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  const seen = outcome.ok
    ? `it succeeded (${JSON.stringify(outcome.value) ?? 'undefined'})`
    : VmsError.isInstance(outcome.error)
      ? `${outcome.error.code}: ${outcome.error.message}`
      : `a non-VmsError: ${String(outcome.error)}`;
  s.t
    .expect(
      outcome.ok
        ? undefined
        : VmsError.isInstance(outcome.error)
          ? outcome.error.code
          : 'not a VmsError',
      `${step}: expected ${code}, but ${seen}`,
    )
    .toBe(code);
  return (outcome as { error: VmsError }).error;
}

/**
 * Waits (polling the world, with a deadline) until no process in the guest has `text` in its
 * command line; fails naming the step and how many are left.
 */
export async function expectNoProcesses(
  s: Suite,
  name: string,
  text: string,
  step: string,
  withinMs = 15_000,
): Promise<void> {
  let left = -1;
  try {
    await waitFor(
      async () => {
        left = await s.processes(name, text);
        return left === 0;
      },
      {
        description: `no ${text} in ${name}`,
        timeoutMs: withinMs,
        backoff: { initialMs: 100, maxMs: 1000 },
      },
    );
  } catch {
    // reported below with what was seen
  }
  s.t
    .expect(
      left,
      `${step}: ${left} process(es) running "${text}" are still alive in the guest ${withinMs / 1000} s later`,
    )
    .toBe(0);
}

/** A number unlikely to appear in any other command line, for `sleep <marker>`. */
export function marker(): string {
  return String(900_000 + Math.floor(Math.random() * 99_999));
}
