import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createInstance } from '../instance.js';
import { fakeToolAfterAll, fakeToolTests } from './fake-tool-tests.js';
import { createMockBackend } from './mock-backend.js';

type Hook = () => unknown;
const oldHome = process.env.VMS_HOME;
const root = fs.mkdtempSync(join(tmpdir(), 'vms-fake-tool-tests-'));
afterAll(() => {
  process.env.VMS_HOME = oldHome;
  fs.rmSync(root, { recursive: true, force: true });
});

/** A stand-in fake whose leftover processes the test sets, and what was done to it. */
function stubFake() {
  return {
    root,
    running: [] as Array<{ pid: number; instance: string }>,
    faultsCleared: 0,
    cleanedUp: 0,
    leftovers(keep: string[] = []) {
      return this.running.filter((p) => !keep.includes(p.instance)).map((p) => p.pid);
    },
    clearFaults() {
      this.faultsCleared += 1;
    },
    cleanup() {
      this.cleanedUp += 1;
    },
  };
}

function collect() {
  const hooks = { afterEach: [] as Hook[], afterAll: [] as Hook[] };
  return {
    hooks,
    api: {
      afterEach: (fn: Hook) => void hooks.afterEach.push(fn),
      afterAll: (fn: Hook) => void hooks.afterAll.push(fn),
      expect,
    },
  };
}

describe('fakeToolTests', () => {
  it("keeps VMS_HOME under the fake's root; after each test deletes its instances and clears faults", async () => {
    const fake = stubFake();
    const backend = createMockBackend();
    const { hooks, api } = collect();
    const t = fakeToolTests(api, fake, {
      backend,
      name: (n) => `ft-${n}`,
      defaults: { cpus: 2, memoryMiB: 256 },
    });
    expect(process.env.VMS_HOME).toBe(join(root, 'vms-home'));
    const a = t.instance({ cpus: 1 });
    const b = t.instance();
    const c = t.track(createInstance(backend, 'other', {}));
    expect([a.name, b.name]).toEqual(['ft-1', 'ft-2']);
    expect(a.options).toMatchObject({ cpus: 1, memoryMiB: 256 });
    expect(b.options).toMatchObject({ cpus: 2, memoryMiB: 256 });
    await a.create();
    await b.create();
    await c.create();
    expect([...backend.world.keys()].sort()).toEqual(['ft-1', 'ft-2', 'other']);
    expect(hooks.afterEach).toHaveLength(1);
    await hooks.afterEach[0]?.();
    expect([...backend.world.keys()]).toEqual([]);
    expect(fake.faultsCleared).toBe(1);
    expect(fake.cleanedUp).toBe(0);
    await hooks.afterAll[0]?.();
    expect(fake.cleanedUp).toBe(1);
  });

  it('fails the test when a process of the fake outlives the grace, but not one of a kept instance', async () => {
    const fake = stubFake();
    const { hooks, api } = collect();
    fakeToolTests(api, fake, {
      backend: createMockBackend(),
      name: (n) => `ft-${n}`,
      keep: ['shared'],
      exitGraceMs: 100,
    });
    fake.running.push({ pid: 4242, instance: 'shared' });
    await hooks.afterEach[0]?.();
    fake.running.push({ pid: 4343, instance: 'ft-1' });
    await expect(hooks.afterEach[0]?.()).rejects.toThrow(/processes left behind/);
  });
});

describe('fakeToolAfterAll', () => {
  it('after all tests, cleans the fake up and fails on any process left', async () => {
    const fake = stubFake();
    const { hooks, api } = collect();
    fakeToolAfterAll(api, fake);
    expect(process.env.VMS_HOME).toBe(join(root, 'vms-home'));
    fake.running.push({ pid: 4242, instance: 'x' });
    await expect(async () => hooks.afterAll[0]?.()).rejects.toThrow(/processes left behind/);
    expect(fake.cleanedUp).toBe(1);
    fake.running.length = 0;
    await hooks.afterAll[0]?.();
    expect(fake.cleanedUp).toBe(2);
  });
});
