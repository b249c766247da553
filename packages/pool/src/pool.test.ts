import { InvalidOptionsError, TimeoutError } from '@vms/core';
import { createMockBackend, type MockBackend } from '@vms/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { POOL_ID_LABEL, POOL_LABEL, POOL_SNAPSHOT, parseMemberName } from './naming.js';
import { createPool, type Pool, type PoolConfig } from './pool.js';
import { collect, nextEvent, track } from './test-support/events.js';
import { runPoolScenarios } from './test-support/scenarios.js';

const shared = createMockBackend({ delayMs: 2 });

runPoolScenarios({
  name: 'mock',
  backend: () => shared,
  options: () => ({ image: 'mock:latest' }),
  exec: { argv: ['echo', 'hello'], stdout: 'hello\n' },
  breakBehindBack: async (name) => shared.setBehindBack(name, 'broken', 'killed by the test'),
  namePrefix: 'mockpool',
  timeoutMs: 10_000,
});

describe('pool on the mock backend', () => {
  const pools: Pool[] = [];
  const backends: MockBackend[] = [];
  const setup = (config: Partial<PoolConfig> = {}, mock = createMockBackend({ delayMs: 1 })) => {
    backends.push(mock);
    const pool = createPool({
      backend: mock,
      namePrefix: 'unit',
      options: { image: 'mock:latest' },
      acquireTimeoutMs: 10_000,
      ...config,
    });
    pools.push(pool);
    return { pool, mock };
  };
  /** A warm pool whose next instance to hand out (the last warmed) fails every exec from now. */
  const failingNext = async (config: Partial<PoolConfig>) => {
    const { pool, mock } = setup(config);
    await pool.ready();
    const names = [...mock.world.keys()];
    const bad = names[names.length - 1]!;
    mock.inject({ verb: 'exec', kind: 'fail', name: bad, times: Number.POSITIVE_INFINITY });
    const failed = nextEvent(pool, 'checked', (e) => e.instance === bad && !e.ok);
    const replaced = nextEvent(pool, 'replaced', (e) => e.instance === bad);
    return { pool, mock, bad, failed, replaced };
  };

  afterEach(async () => {
    await Promise.allSettled(pools.splice(0).map((p) => p.close()));
    for (const mock of backends.splice(0)) {
      mock.clearFaults();
      expect([...mock.world.keys()]).toEqual([]);
    }
  });

  it('fills to min in the background with named, labelled instances', async () => {
    const { pool, mock } = setup({
      min: 2,
      max: 4,
      options: { image: 'mock:latest', labels: { team: 'a' } },
    });
    const filled = nextEvent(pool, 'filled');
    await pool.ready();
    expect((await filled).warm).toBe(2);
    expect(pool.stats()).toMatchObject({ warm: 2, busy: 0, creating: 0, live: 2, min: 2, max: 4 });
    for (const [name, record] of mock.world) {
      expect(parseMemberName('unit', name)).toBe(pool.id);
      expect(record.state).toBe('running');
      expect(record.options.labels).toEqual({
        team: 'a',
        [POOL_LABEL]: 'unit',
        [POOL_ID_LABEL]: pool.id,
      });
    }
  });

  it('hands out a warm instance without creating one, and refills behind it', async () => {
    const { pool, mock } = setup({ min: 1, max: 2 });
    await pool.ready();
    const creates = () => mock.calls.filter((c) => c.verb === 'create').length;
    const before = creates();
    const acquired = nextEvent(pool, 'acquired');
    const lease = await pool.acquire();
    expect((await acquired).fromWarm).toBe(true);
    expect(lease.waitedMs).toBeGreaterThanOrEqual(0);
    // The refill started right away (in the same tick), not because the acquire waited for it.
    expect(pool.stats().creating + pool.stats().warm).toBe(1);
    await pool.ready();
    expect(creates()).toBe(before + 1);
    await lease.release();
  });

  it('serves waiters first-in first-out and never exceeds max under racing acquires', async () => {
    const { pool } = setup({ min: 1, max: 2, recycle: 'reuse' });
    let overMax = false;
    for (const e of ['warm', 'acquired', 'released', 'deleted'] as const) {
      pool.on(e, () => {
        if (pool.stats().live > pool.max) overMax = true;
      });
    }
    const order: number[] = [];
    const jobs = Array.from({ length: 8 }, (_, i) =>
      pool.acquire().then(async (lease) => {
        order.push(i);
        const r = await lease.instance.exec(['echo', String(i)]);
        expect(r.stdout).toBe(`${i}\n`);
        await lease.release();
      }),
    );
    await Promise.all(jobs);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(overMax).toBe(false);
    expect(pool.stats().totals.acquired).toBe(8);
  });

  it('a waiter keeps its place: FIFO across releases', async () => {
    const { pool } = setup({ min: 1, max: 1, recycle: 'reuse' });
    const first = await pool.acquire();
    const order: string[] = [];
    const waiters = ['b', 'c', 'd'].map((id) =>
      pool.acquire().then((lease) => {
        order.push(id);
        return lease;
      }),
    );
    expect(pool.stats().waiting).toBe(3);
    await first.release();
    const b = await waiters[0]!;
    await b.release();
    const c = await waiters[1]!;
    await c.release();
    const d = await waiters[2]!;
    await d.release();
    expect(order).toEqual(['b', 'c', 'd']);
    expect(new Set([first.name, b.name, c.name, d.name]).size).toBe(1);
  });

  it('release during refill: both finish, the pool settles at min and deletes the released one', async () => {
    const { pool, mock } = setup({ min: 1, max: 2, recycle: 'delete' });
    await pool.ready();
    const lease = await pool.acquire();
    expect(pool.stats().creating).toBe(1); // the refill is under way
    const deleted = nextEvent(pool, 'deleted', (e) => e.instance === lease.name);
    await lease.release();
    expect(pool.stats()).toMatchObject({ creating: 1, deleting: 1 });
    expect((await deleted).reason).toBe('recycled');
    await pool.ready();
    await vi.waitFor(() =>
      expect(pool.stats()).toMatchObject({ warm: 1, live: 1, creating: 0, deleting: 0 }),
    );
    expect([...mock.world.keys()]).toEqual([...mock.world.keys()].filter((n) => n !== lease.name));
    expect(mock.world.size).toBe(1);
  });

  it('checks instances as they become warm; an acquire of a freshly checked one only asks its state', async () => {
    const { pool, mock } = setup({ min: 2, max: 3 });
    const checks = collect(pool, 'checked');
    await pool.ready();
    expect(checks.map((c) => [c.when, c.ok])).toEqual([
      ['warm', true],
      ['warm', true],
    ]);
    const before = mock.calls.length;
    const lease = await pool.acquire();
    // On its way out the instance was only asked for its state (the refill works on another).
    const onIt = mock.calls.slice(before).filter((c) => c.name === lease.name);
    expect(onIt.map((c) => c.verb)).toEqual(['inspect']);
    expect(checks.filter((c) => c.when === 'acquire')).toEqual([]);
    await lease.release();
  });

  it('an idle check that fails replaces the instance before anyone asks for it', async () => {
    const { pool, mock, bad, failed, replaced } = await failingNext({
      min: 2,
      max: 3,
      healthCheckMaxAgeMs: 60,
    });
    expect((await failed).when).toBe('idle');
    const event = await replaced;
    expect(event.reason).toMatch(/readiness check failed/);
    expect(event.error?.message).toMatch(/injected exec failure/);
    const a = await pool.acquire();
    const b = await pool.acquire();
    expect([a.name, b.name]).not.toContain(bad);
    await vi.waitFor(() => expect(mock.world.has(bad)).toBe(false));
    expect(pool.stats().totals.replaced).toBe(1);
    await a.release();
    await b.release();
  });

  it('a stale check is redone on acquire; failing, the instance is replaced, never handed out', async () => {
    const { pool, bad, failed, replaced } = await failingNext({
      min: 2,
      max: 3,
      healthCheckMaxAgeMs: 0,
    });
    const a = await pool.acquire();
    const b = await pool.acquire();
    expect([a.name, b.name]).not.toContain(bad);
    expect((await failed).when).toBe('acquire');
    expect((await replaced).reason).toMatch(/readiness check failed/);
    await a.release();
    await b.release();
  });

  it('an acquire during an idle check waits for it, and a failing one is never handed out', async () => {
    let gate: () => void = () => {};
    let idleCheckStarted: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      idleCheckStarted = resolve;
    });
    const seen = new Map<string, number>();
    const { pool } = setup({
      min: 1,
      max: 2,
      healthCheckMaxAgeMs: 60,
      healthCheck: async (instance) => {
        const n = (seen.get(instance.name) ?? 0) + 1;
        seen.set(instance.name, n);
        if (n === 1) return true; // as it becomes warm
        // Its first idle check: held open until the acquire is waiting, then it fails.
        idleCheckStarted();
        await new Promise<void>((resolve) => {
          gate = resolve;
        });
        return false;
      },
    });
    await pool.ready();
    const [first] = [...seen.keys()];
    await started;
    const pending = pool.acquire();
    expect(pool.stats()).toMatchObject({ checking: 1, warm: 0 });
    gate();
    const lease = await pending;
    expect(lease.name).not.toBe(first);
    await lease.release({ recycle: 'delete' });
  });

  it('a custom readiness check that says no gets the instance replaced', async () => {
    let rejectNext = true;
    const { pool } = setup({
      min: 1,
      max: 2,
      healthCheck: async (instance) => {
        const r = await instance.exec(['true']);
        if (rejectNext) {
          rejectNext = false;
          return false;
        }
        return r.exitCode === 0;
      },
    });
    // The first check (as its first instance becomes warm) says no: that one never gets out.
    const replaced = nextEvent(pool, 'replaced');
    await pool.ready();
    const lease = await pool.acquire();
    expect((await replaced).instance).not.toBe(lease.name);
    await lease.release();
  });

  it('an acquire aborted during the readiness check returns the checked instance to the pool', async () => {
    let openGate: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    let checking: () => void = () => {};
    const checkStarted = new Promise<void>((resolve) => {
      checking = resolve;
    });
    const { pool } = setup({
      min: 1,
      max: 1,
      healthCheckMaxAgeMs: 0, // the check runs on the way out
      healthCheck: async () => {
        checking();
        await gate;
      },
    });
    await pool.ready();
    const controller = new AbortController();
    const pending = pool.acquire({ signal: controller.signal }).catch((e: unknown) => e);
    await checkStarted;
    expect(pool.stats().checking).toBe(1);
    controller.abort();
    expect(await pending).toMatchObject({ code: 'ABORTED' });
    const returned = nextEvent(pool, 'warm', (e) => e.reason === 'returned');
    openGate();
    await returned;
    expect(pool.stats()).toMatchObject({ warm: 1, busy: 0, live: 1, checking: 0 });
  });

  it("the state check ('state') is used where the backend cannot exec", async () => {
    const mock = createMockBackend({ delayMs: 1, capabilities: { exec: false } });
    const { pool } = setup({ min: 1, max: 2, healthCheckMaxAgeMs: 0 }, mock);
    await pool.ready();
    const [name] = [...mock.world.keys()];
    const replaced = nextEvent(pool, 'replaced', (e) => e.instance === name);
    // Stopped behind the runtime's back without it noticing: only the check on the way out sees it.
    mock.world.get(name!)!.state = 'stopped';
    const lease = await pool.acquire();
    expect(lease.name).not.toBe(name);
    expect((await replaced).reason).toMatch(/instance is stopped/);
    await lease.release();
  });

  it('idle instances above min are deleted after idleTimeoutMs, down to min', async () => {
    const { pool, mock } = setup({ min: 1, max: 3, recycle: 'reuse', idleTimeoutMs: 50 });
    const deleted = collect(pool, 'deleted');
    const leases = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    await Promise.all(leases.map((l) => l.release()));
    await vi.waitFor(() => expect(pool.stats()).toMatchObject({ warm: 1, live: 1, deleting: 0 }), {
      timeout: 10_000,
    });
    expect(deleted.map((d) => d.reason)).toEqual(['idle', 'idle']);
    expect(mock.world.size).toBe(1);
  });

  it("recycle 'snapshot' restores the instance to its ready state", async () => {
    const { pool, mock } = setup({ min: 1, max: 1, recycle: 'snapshot' });
    await pool.ready();
    const lease = await pool.acquire();
    await lease.instance.exec(['tee', '/tmp/dirty'], { stdin: 'left over' });
    const recycled = nextEvent(pool, 'recycled');
    await lease.release();
    expect((await recycled).how).toBe('snapshot');
    const again = await pool.acquire();
    expect(again.name).toBe(lease.name);
    expect((await again.instance.exec(['cat', '/tmp/dirty'])).exitCode).toBe(1);
    expect([...mock.world.get(again.name)!.snapshots.keys()]).toEqual([POOL_SNAPSHOT]);
    await again.release();
  });

  it("recycle 'snapshot' falls back to delete, with an event, where the backend has no snapshots", async () => {
    const mock = createMockBackend({ delayMs: 1, capabilities: { snapshot: false } });
    const { pool } = setup({ min: 1, max: 1, recycle: 'snapshot' }, mock);
    await pool.ready();
    const lease = await pool.acquire();
    const fallback = nextEvent(pool, 'fallback');
    const deleted = nextEvent(pool, 'deleted', (e) => e.instance === lease.name);
    await lease.release();
    expect(await fallback).toMatchObject({
      instance: lease.name,
      requested: 'snapshot',
      used: 'delete',
    });
    expect((await fallback).reason).toMatch(/no snapshot capability/);
    expect((await deleted).reason).toBe('recycled');
    await pool.ready();
  });

  it("recycle 'reuse' keeps the instance as it is, and starts it again if it was stopped", async () => {
    const { pool } = setup({ min: 1, max: 1, recycle: 'reuse' });
    const lease = await pool.acquire();
    await lease.instance.exec(['tee', '/kept'], { stdin: 'still here' });
    await lease.instance.stop();
    await lease.release();
    const again = await pool.acquire();
    expect(again.name).toBe(lease.name);
    expect(again.instance.state.name).toBe('running');
    expect((await again.instance.exec(['cat', '/kept'])).stdout).toBe('still here');
    await again.release({ recycle: 'delete' });
  });

  it('release is idempotent and an old lease cannot release a newer one', async () => {
    const { pool } = setup({ min: 1, max: 1, recycle: 'reuse' });
    const lease = await pool.acquire();
    await lease.release();
    await lease.release();
    const again = await pool.acquire();
    await lease.release(); // stale lease: no effect
    expect(pool.stats().busy).toBe(1);
    await again.release();
    expect(pool.stats().totals.released).toBe(2);
    const other = setup({ min: 0, max: 1 }).pool;
    const foreign = await other.acquire();
    await expect(pool.release(foreign)).rejects.toMatchObject({ field: 'instance' });
    await foreign.release();
  });

  it('releasing again after the delete-recycle finished is still a no-op (lease or instance)', async () => {
    const { pool } = setup({ min: 0, max: 1, recycle: 'delete' });
    const lease = await pool.acquire();
    const deleted = nextEvent(pool, 'deleted');
    await lease.release();
    await deleted; // recycled: the member is gone from the pool
    await expect(lease.release()).resolves.toBeUndefined();
    await expect(pool.release(lease.instance)).resolves.toBeUndefined();
    expect(pool.stats().totals.released).toBe(1);
  });

  it('`await using` releases the lease; use() releases, deleting after a throw', async () => {
    const { pool } = setup({ min: 1, max: 1, recycle: 'reuse' });
    {
      await using lease = await pool.acquire();
      expect(pool.stats().busy).toBe(1);
      expect(lease.instance.state.name).toBe('running');
    }
    expect(pool.stats().busy).toBe(0);
    const out = await pool.use(async (vm) => (await vm.exec(['echo', 'used'])).stdout);
    expect(out).toBe('used\n');
    const deleted = nextEvent(pool, 'deleted');
    await expect(
      pool.use(async () => {
        throw new Error('job failed');
      }),
    ).rejects.toThrow('job failed');
    expect((await deleted).reason).toBe('recycled');
  });

  it('a failing refill is an event with capped backoff, never a crash, and recovers', async () => {
    const { pool, mock } = setup({ min: 1, max: 1, refillBackoff: { initialMs: 5, maxMs: 40 } });
    mock.inject({ verb: 'create', kind: 'fail', times: 5 });
    const errors = collect(pool, 'error');
    await pool.ready();
    expect(errors.length).toBeGreaterThanOrEqual(5);
    for (const e of errors) {
      expect(e.phase).toBe('create');
      expect(e.error.message).toMatch(/injected create failure/);
      expect(e.retryInMs).toBeLessThanOrEqual(40);
    }
    expect(pool.stats().totals.failures).toBeGreaterThanOrEqual(5);
  });

  it('an acquire times out with the last background error when nothing can be made', async () => {
    const { pool, mock } = setup({ min: 0, max: 1, refillBackoff: { initialMs: 5, maxMs: 20 } });
    mock.inject({ verb: 'start', kind: 'fail', times: Number.POSITIVE_INFINITY });
    const error = await pool.acquire({ timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toMatch(/injected start failure/);
    expect(pool.stats()).toMatchObject({ waiting: 0, busy: 0 });
    expect(pool.stats().totals.acquireTimeouts).toBe(1);
    mock.clearFaults();
  });

  it('a throwing event listener becomes an error event, not a broken pool', async () => {
    const { pool } = setup({ min: 1, max: 1 });
    pool.on('warm', () => {
      throw new Error('listener bug');
    });
    const listenerError = nextEvent(pool, 'error', (e) => e.phase === 'listener');
    await pool.ready();
    expect((await listenerError).error.message).toBe('listener bug');
    const lease = await pool.acquire();
    await lease.release();
  });

  it('a hanging create is bounded by its deadline and retried', async () => {
    const { pool, mock } = setup({
      min: 1,
      max: 1,
      instanceSettings: { timeouts: { create: 100 } },
      refillBackoff: { initialMs: 5, maxMs: 20 },
    });
    mock.inject({ verb: 'create', kind: 'hang' });
    const error = nextEvent(pool, 'error', (e) => e.phase === 'create');
    await pool.ready();
    expect((await error).error.code).toBe('TIMEOUT');
  });

  it('close() deletes busy and still-creating instances too, and waits for them', async () => {
    const { pool, mock } = setup({ min: 1, max: 3 });
    await pool.ready();
    const busy = await pool.acquire(); // the refill starts another one
    const pending = track(pool.acquire()); // takes the refilled one or makes one
    expect(pool.stats().creating).toBeGreaterThanOrEqual(1);
    const closed = nextEvent(pool, 'closed');
    await pool.close();
    expect(mock.world.size).toBe(0);
    expect((await closed).failed).toBe(0);
    await pending.promise.then((l) => l.release()).catch(() => {});
    await busy.release(); // after close: a no-op
    await pool.close(); // idempotent
  });

  it('ready() and acquire() reject after close; close reports what it could not delete', async () => {
    const { pool, mock } = setup({ min: 1, max: 1, deleteTimeoutMs: 1_000 });
    await pool.ready();
    mock.inject({ verb: 'delete', kind: 'fail', times: 1 });
    const error = await pool.close().catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/left 1 instance/);
    await expect(pool.ready()).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    // Clean up by hand what close could not.
    for (const name of [...mock.world.keys()]) mock.setBehindBack(name, 'absent');
  });

  it('reports acquire latency percentiles over its window', async () => {
    const { pool } = setup({ min: 1, max: 1, recycle: 'reuse', latencyWindow: 5 });
    for (let i = 0; i < 7; i++) {
      const lease = await pool.acquire();
      await lease.release();
    }
    const { acquireLatencyMs, totals } = pool.stats();
    expect(totals.acquired).toBe(7);
    expect(acquireLatencyMs?.count).toBe(5);
    expect(acquireLatencyMs!.p50).toBeLessThanOrEqual(acquireLatencyMs!.p90);
    expect(acquireLatencyMs!.p90).toBeLessThanOrEqual(acquireLatencyMs!.p99);
    expect(acquireLatencyMs!.p99).toBeLessThanOrEqual(acquireLatencyMs!.max);
  });

  it('validates its inputs with errors that name the field', () => {
    const mock = createMockBackend();
    const bad = (config: Record<string, unknown>) => {
      try {
        Reflect.apply(createPool, undefined, [{ backend: mock, namePrefix: 'v', ...config }]);
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidOptionsError);
        return (error as InvalidOptionsError).field || (error as Error).message;
      }
      throw new Error('expected an InvalidOptionsError');
    };
    expect(bad({ min: 3, max: 2 })).toBe('max');
    expect(bad({ namePrefix: '-bad' })).toBe('namePrefix');
    expect(bad({ namePrefix: 'x'.repeat(41) })).toBe('namePrefix');
    expect(bad({ backend: {} })).toBe('backend');
    expect(bad({ recycle: 'keep' })).toBe('recycle');
    expect(bad({ options: { image: '' } })).toBe('options.image');
    expect(bad({ minn: 1 })).toMatch(/minn/);
    expect(bad({ options: { imagee: 'x' } })).toBe('options.imagee');
  });

  it('validates acquire and release options', async () => {
    const { pool } = setup({ min: 0, max: 1 });
    await expect(pool.acquire({ timeoutMs: -1 })).rejects.toMatchObject({
      field: 'acquire.timeoutMs',
    });
    // A JavaScript caller's wrong type, validated at run time.
    await expect(Reflect.apply(pool.acquire, pool, [{ signal: 'no' }])).rejects.toMatchObject({
      field: 'acquire.signal',
    });
    expect(pool.stats().live).toBe(0);
  });
});
