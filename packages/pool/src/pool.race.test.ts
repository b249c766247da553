/**
 * Concurrency on the mock backend with fault injection: racing acquires with aborts and
 * timeouts, releases during refills and recycles, failing checks and creates, then close in the
 * middle of it all. Whatever the interleaving: every acquire settles, `max` is never exceeded,
 * nobody gets an instance twice, and close leaves nothing behind.
 */
import { createMockBackend } from '@vms/core/testing';
import { describe, expect, it } from 'vitest';
import { PoolClosedError } from './errors.js';
import type { RecycleMode } from './options.js';
import { createPool, type Lease } from './pool.js';
import { nextEvent } from './test-support/events.js';

/** A small seeded PRNG (mulberry32), so a failing interleaving can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('pool under racing operations (mock backend, fault injection)', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`keeps its invariants and leaks nothing (seed ${seed})`, async () => {
      const random = prng(seed);
      const mock = createMockBackend({ delayMs: 1 });
      const pool = createPool({
        backend: mock,
        namePrefix: 'race',
        options: { image: 'mock:latest' },
        min: 2,
        max: 4,
        recycle: 'snapshot',
        idleTimeoutMs: 20,
        refillBackoff: { initialMs: 1, maxMs: 10 },
      });
      const holders = new Map<string, number>();
      let overMax = false;
      let doubleLease = false;
      for (const e of ['warm', 'acquired', 'released', 'deleted', 'replaced'] as const) {
        pool.on(e, () => {
          if (pool.stats().live > pool.max) overMax = true;
        });
      }
      // Faults: some creates and execs (the readiness check) fail along the way.
      mock.inject({ verb: 'create', kind: 'fail', times: 3 });
      mock.inject({ verb: 'exec', kind: 'fail', times: 4 });
      mock.inject({ verb: 'start', kind: 'crash', times: 2 });

      const job = async (i: number): Promise<string> => {
        const controller = new AbortController();
        const roll = random();
        if (roll < 0.15) controller.abort();
        else if (roll < 0.3) setTimeout(() => controller.abort(), Math.floor(random() * 10));
        let lease: Lease;
        try {
          lease = await pool.acquire({ signal: controller.signal, timeoutMs: 2_000 + i });
        } catch (error) {
          return (error as { code?: string }).code ?? 'error';
        }
        holders.set(lease.name, (holders.get(lease.name) ?? 0) + 1);
        if ((holders.get(lease.name) ?? 0) > 1) doubleLease = true;
        try {
          await lease.instance.exec(['echo', String(i)]).catch(() => undefined);
        } finally {
          holders.set(lease.name, (holders.get(lease.name) ?? 1) - 1);
          const modes: RecycleMode[] = ['delete', 'snapshot', 'reuse'];
          await lease.release({ recycle: modes[Math.floor(random() * 3)]! });
        }
        return 'ok';
      };

      const jobs = Array.from({ length: 40 }, (_, i) => job(i));
      let outcomes: string[];
      try {
        // Close while jobs are still running: after a number of acquires, not after a sleep.
        await nextEvent(pool, 'acquired', () => pool.stats().totals.acquired >= 15, 30_000);
      } finally {
        const closing = pool.close();
        outcomes = await Promise.all(jobs);
        await closing.catch(() => undefined);
      }

      expect(overMax).toBe(false);
      expect(doubleLease).toBe(false);
      expect(outcomes.filter((o) => o === 'ok').length).toBeGreaterThanOrEqual(15);
      for (const o of outcomes)
        expect(['ok', 'ABORTED', 'TIMEOUT', 'INVALID_TRANSITION']).toContain(o);
      expect([...mock.world.keys()]).toEqual([]);
      expect(pool.stats()).toMatchObject({ live: 0, waiting: 0, closed: true });
      await expect(pool.acquire()).rejects.toBeInstanceOf(PoolClosedError);
    });
  }
});
