import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendV1, DriverV1 } from '../spec.js';
import { runConformanceSuite, type TestApi } from './conformance.js';
import { createMockBackend } from './mock-backend.js';

// The suite passes on the mock backend …
runConformanceSuite(
  { describe, it, expect, beforeAll, afterAll },
  {
    name: 'mock',
    backend: () => createMockBackend({ name: 'mock' }),
  },
);

const shared = createMockBackend({ name: 'mock-drift' });
runConformanceSuite(
  { describe, it, expect, beforeAll, afterAll },
  {
    name: 'mock with drift',
    backend: () => shared,
    removeBehindBack: async (name) => shared.setBehindBack(name, 'absent'),
  },
);

/** Runs the suite outside vitest's registry and returns the names of the tests that failed. */
async function failuresOf(backend: () => BackendV1<unknown>): Promise<string[]> {
  const tests: { name: string; fn: () => unknown }[] = [];
  const befores: (() => unknown)[] = [];
  const afters: (() => unknown)[] = [];
  const api: TestApi = {
    describe: (_name, fn) => fn(),
    it: (name, fn) => tests.push({ name, fn }),
    expect,
    beforeAll: (fn) => befores.push(fn),
    afterAll: (fn) => afters.push(fn),
  };
  runConformanceSuite(api, { name: 'broken', backend, timeoutMs: 5_000 });
  const failed: string[] = [];
  for (const b of befores) await b();
  for (const t of tests) {
    try {
      await t.fn();
    } catch {
      failed.push(t.name);
    }
  }
  for (const a of afters) await Promise.resolve(a()).catch(() => failed.push('afterAll'));
  return failed;
}

/** A mock whose driver is patched to misbehave. */
function brokenMock(
  patch: (
    d: DriverV1,
    name: string,
    world: ReturnType<typeof createMockBackend>['world'],
  ) => Partial<DriverV1>,
) {
  const mock = createMockBackend({ name: 'mock-broken' });
  const original = mock.driver.bind(mock);
  return () =>
    ({
      ...mock,
      driver: (name: string, o: unknown) => {
        const d = original(name, o as never);
        return { ...d, ...patch(d, name, mock.world) };
      },
    }) as BackendV1<unknown>;
}

describe('the conformance suite can fail', () => {
  it('fails a backend whose stop does nothing', async () => {
    const failed = await failuresOf(
      brokenMock(() => ({ doStop: async () => ({ how: 'graceful' }) })),
    );
    expect(failed).toContain(
      'walks the lifecycle: create, start, stop, start, stop, delete — idempotent where the target holds',
    );
  });

  it('fails a backend whose delete leaves the instance behind', async () => {
    const failed = await failuresOf(
      brokenMock(() => ({ doDelete: async () => ({ existed: true }) })),
    );
    expect(failed.length).toBeGreaterThan(0);
    expect(failed).toContain('deletes a running instance');
  });

  it('fails a backend whose exec drops the exit code', async () => {
    const failed = await failuresOf(
      brokenMock((d) => ({
        doExec: async (argv, io, ctx) => {
          await d.doExec(argv, io, ctx);
          return { exitCode: 0 };
        },
      })),
    );
    expect(failed).toContain('returns output and passes the exit code through');
  });

  it('fails a backend that claims a wrong specification version', async () => {
    const failed = await failuresOf(
      () =>
        ({
          ...createMockBackend(),
          specificationVersion: 'vms-backend-v0',
        }) as unknown as BackendV1<unknown>,
    );
    expect(failed).toContain('declares the v1 contract');
  });
});
