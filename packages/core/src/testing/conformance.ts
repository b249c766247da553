/**
 * The conformance suite every backend runs in a few lines (keyv's test-suite idea):
 *
 * ```ts
 * import { afterAll, beforeAll, describe, expect, it } from 'vitest';
 * import { runConformanceSuite } from '@vms/core/testing';
 * runConformanceSuite({ describe, it, expect, beforeAll, afterAll }, {
 *   name: 'docker',
 *   backend: () => createDocker(),
 *   options: () => ({ image: 'vms-test/busybox:latest' }),
 * });
 * ```
 *
 * vitest stays external: the suite takes the test functions it needs. Capability flags of the
 * backend (and `skip`) switch groups off.
 */
import type { InstanceSettings } from '../instance.js';
import { createInstance, type Instance } from '../instance.js';
import type { BackendV1 } from '../spec.js';

type Fn = () => unknown | Promise<unknown>;
// Only the parts of vitest's API the suite uses, typed loosely so any compatible runner fits.
export interface TestApi {
  describe: (name: string, fn: () => void) => void;
  it: (name: string, fn: Fn, timeout?: number) => void;
  // biome-ignore lint/suspicious/noExplicitAny: the runner's expect is generic by nature
  expect: (value: unknown, message?: string) => any;
  beforeAll: (fn: Fn, timeout?: number) => void;
  afterAll: (fn: Fn, timeout?: number) => void;
}

export interface ConformanceOptions {
  /** Names the describe block. */
  name: string;
  backend: () => BackendV1<unknown> | Promise<BackendV1<unknown>>;
  /** Instance options for every instance the suite makes. */
  options?: () => Record<string, unknown>;
  settings?: InstanceSettings;
  /** Prefix of instance names (default `vmsconf`); a random suffix keeps runs apart. */
  namePrefix?: string;
  /** Per-test timeout in ms (default 120 s). */
  timeoutMs?: number;
  /** Turn groups off even where the backend has the capability. */
  skip?: Partial<
    Record<'suspend' | 'exec' | 'execTimeout' | 'snapshot' | 'logs' | 'list' | 'stdin', boolean>
  >;
  /** Removes an instance behind the runtime's back (e.g. `docker rm -f`), to test drift. */
  removeBehindBack?: (name: string) => Promise<void>;
  /** Graceful-stop window used by the suite (default 5 s). */
  stopGraceMs?: number;
}

function states(instance: Instance): string[] {
  const seen: string[] = [];
  instance.on('state', (e) => seen.push(e.to.name));
  return seen;
}

export function runConformanceSuite(t: TestApi, options: ConformanceOptions): void {
  const { describe, it, expect, beforeAll, afterAll } = t;
  const timeout = options.timeoutMs ?? 120_000;
  const run = Math.random().toString(36).slice(2, 8);
  let counter = 0;
  const created: Instance[] = [];
  let backend: BackendV1<unknown>;
  const skip = options.skip ?? {};
  const grace = options.stopGraceMs ?? 5_000;

  const make = (): Instance => {
    counter += 1;
    const name = `${options.namePrefix ?? 'vmsconf'}-${run}-${counter}`;
    const instance = createInstance(backend, name, options.options?.() ?? {}, options.settings);
    created.push(instance);
    return instance;
  };

  describe(`${options.name}: vms-backend-v1 conformance`, () => {
    beforeAll(async () => {
      backend = await options.backend();
      const detected = await backend.detect();
      expect(detected.available, `backend ${backend.name} unavailable: ${detected.reason}`).toBe(
        true,
      );
    }, timeout);

    afterAll(async () => {
      for (const instance of created) {
        try {
          await instance.delete({ timeoutMs: 60_000 });
        } catch {
          // best effort: the next line reports what is left
        }
      }
      const left = (await backend.list({ signal: AbortSignal.timeout(60_000) })).filter((l) =>
        created.some((c) => c.name === l.name),
      );
      expect(
        left.map((l) => l.name),
        'instances left behind',
      ).toEqual([]);
    }, timeout * 2);

    it('declares the v1 contract', () => {
      expect(backend.specificationVersion).toBe('vms-backend-v1');
      expect(typeof backend.name).toBe('string');
      for (const key of ['suspend', 'exec', 'logs', 'snapshot', 'copy', 'portForward', 'mounts']) {
        expect(typeof (backend.capabilities as unknown as Record<string, unknown>)[key]).toBe(
          'boolean',
        );
      }
    });

    it(
      'rejects lifecycle actions on an instance that does not exist',
      async () => {
        const vm = make();
        await expect(vm.start()).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
        await expect(vm.stop()).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
        expect(await vm.delete()).toEqual({ existed: false });
        const r = await vm.refresh();
        expect(r.state.name).toBe('initial');
      },
      timeout,
    );

    it(
      'walks the lifecycle: create, start, stop, start, stop, delete — idempotent where the target holds',
      async () => {
        const vm = make();
        const seen = states(vm);
        await vm.create();
        expect(vm.state.name).toBe('stopped');
        expect((await vm.refresh()).state.name).toBe('stopped');
        await expect(vm.create()).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });

        await vm.start();
        expect(vm.state.name).toBe('running');
        expect((await vm.refresh()).state.name).toBe('running');
        await vm.start(); // no-op
        expect(vm.state.name).toBe('running');

        const stopped = await vm.stop({ graceMs: grace });
        expect(['graceful', 'forced']).toContain(stopped.how);
        expect((await vm.refresh()).state.name).toBe('stopped');
        expect((await vm.stop()).how).toBe('already-stopped');

        await vm.start();
        expect((await vm.refresh()).state.name).toBe('running');
        await vm.stop({ graceMs: grace });

        expect(await vm.delete()).toEqual({ existed: true });
        expect(vm.state.name).toBe('deleted');
        expect((await vm.refresh()).state.name).toBe('deleted');
        expect(await vm.delete()).toEqual({ existed: false });
        expect(seen).toEqual([
          'creating',
          'stopped',
          'starting',
          'running',
          'stopping',
          'stopped',
          'starting',
          'running',
          'stopping',
          'stopped',
          'deleting',
          'deleted',
        ]);
      },
      timeout,
    );

    it(
      'lists the instances it made',
      async () => {
        if (skip.list) return;
        const vm = make();
        await vm.create();
        const listed = await backend.list({ signal: AbortSignal.timeout(60_000) });
        const mine = listed.find((l) => l.name === vm.name);
        expect(mine, `${vm.name} missing from list()`).toBeDefined();
        expect(mine?.state).toBe('stopped');
        expect(mine?.managed).toBe(true);
        await vm.delete();
        const after = await backend.list({ signal: AbortSignal.timeout(60_000) });
        expect(after.some((l) => l.name === vm.name)).toBe(false);
      },
      timeout,
    );

    it(
      'deletes a running instance',
      async () => {
        const vm = make();
        await vm.create();
        await vm.start();
        expect(await vm.delete()).toEqual({ existed: true });
        expect((await vm.refresh()).state.name).toBe('deleted');
      },
      timeout,
    );

    describe('exec', () => {
      let vm: Instance;
      beforeAll(async () => {
        if (!backend.capabilities.exec || skip.exec) return;
        vm = make();
        await vm.create();
        await vm.start();
      }, timeout);
      afterAll(async () => {
        await vm?.delete();
      }, timeout);

      it(
        'returns output and passes the exit code through',
        async () => {
          if (!backend.capabilities.exec || skip.exec) return;
          const hello = await vm.exec(['echo', 'vms-conformance']);
          expect(hello.exitCode).toBe(0);
          expect(hello.stdout.trim()).toBe('vms-conformance');
          const three = await vm.exec(['sh', '-c', 'exit 3']);
          expect(three.exitCode).toBe(3);
        },
        timeout,
      );

      it(
        'keeps argv elements intact (no shell re-splitting)',
        async () => {
          if (!backend.capabilities.exec || skip.exec) return;
          const r = await vm.exec(['echo', 'a  b', "it's", '$HOME;']);
          expect(r.stdout.trim()).toBe("a  b it's $HOME;");
        },
        timeout,
      );

      it(
        'forwards stdin',
        async () => {
          if (!backend.capabilities.exec || skip.exec || skip.stdin) return;
          const r = await vm.exec(['cat'], { stdin: 'from-stdin\n' });
          expect(r.stdout).toBe('from-stdin\n');
        },
        timeout,
      );

      it(
        'ends a command at its deadline and stays usable',
        async () => {
          if (!backend.capabilities.exec || skip.exec || skip.execTimeout) return;
          await expect(vm.exec(['sleep', '1000'], { timeoutMs: 1_500 })).rejects.toMatchObject({
            code: 'TIMEOUT',
          });
          const after = await vm.exec(['echo', 'still-here']);
          expect(after.stdout.trim()).toBe('still-here');
        },
        timeout,
      );

      it(
        'refuses exec on a stopped instance',
        async () => {
          if (!backend.capabilities.exec || skip.exec) return;
          const other = make();
          await other.create();
          await expect(other.exec(['true'])).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
          await other.delete();
        },
        timeout,
      );
    });

    it(
      'suspends and resumes, idempotently, and deletes from suspended',
      async () => {
        if (!backend.capabilities.suspend || skip.suspend) return;
        const vm = make();
        await vm.create();
        await vm.start();
        await vm.suspend();
        expect((await vm.refresh()).state.name).toBe('suspended');
        await vm.suspend(); // no-op
        await vm.resume();
        expect((await vm.refresh()).state.name).toBe('running');
        if (backend.capabilities.exec && !skip.exec) {
          expect((await vm.exec(['echo', 'resumed'])).stdout.trim()).toBe('resumed');
        }
        await vm.suspend();
        expect(await vm.delete()).toEqual({ existed: true });
        expect((await vm.refresh()).state.name).toBe('deleted');
      },
      timeout,
    );

    it(
      'rejects suspend when unsupported, with a typed error',
      async () => {
        if (backend.capabilities.suspend) return;
        const vm = make();
        await expect(vm.suspend()).rejects.toMatchObject({ code: 'CAPABILITY_UNSUPPORTED' });
      },
      timeout,
    );

    it(
      'reports properties of a running instance',
      async () => {
        const vm = make();
        await vm.create();
        await vm.start();
        const info = await vm.inspect();
        expect(info.state.name).toBe('running');
        expect(typeof info.properties).toBe('object');
        await vm.delete();
      },
      timeout,
    );

    it(
      'refresh reports drift when the instance is removed behind its back',
      async () => {
        if (!options.removeBehindBack) return;
        const vm = make();
        await vm.create();
        await options.removeBehindBack(vm.name);
        const r = await vm.refresh();
        expect(r.state.name).toBe('deleted');
        expect(r.drift?.expected.name).toBe('stopped');
      },
      timeout,
    );

    it(
      'cleans up with await using',
      async () => {
        let name = '';
        {
          await using vm = make();
          name = vm.name;
          await vm.create();
        }
        const listed = await backend.list({ signal: AbortSignal.timeout(60_000) });
        expect(listed.some((l) => l.name === name)).toBe(false);
      },
      timeout,
    );
  });
}
