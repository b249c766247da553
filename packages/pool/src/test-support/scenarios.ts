/**
 * The pool scenarios every backend runs (the seed's pool suite and more): acquire/exec/release,
 * cancellation, close, concurrent acquire, close during acquire, an aborted acquire's instance
 * returning to the pool, and a broken warm instance replaced and never handed out. Not shipped.
 */
import { AbortedError, type BackendV1, VmsError } from '@vms/core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PoolClosedError } from '../errors.js';
import { parseMemberName } from '../naming.js';
import { createPool, type Pool, type PoolConfig } from '../pool.js';
import { prunePool } from '../prune.js';
import { nextEvent } from './events.js';

export interface ScenarioOptions {
  name: string;
  backend: () => BackendV1;
  options: () => Record<string, unknown>;
  /** A command that succeeds in an instance, and its stdout. */
  exec: { argv: string[]; stdout: string };
  /** Breaks an instance behind the pool's back so that it is no longer ready. */
  breakBehindBack: (name: string) => Promise<void>;
  /** Prefix of the pools' names; runs are kept apart by each pool's random id. */
  namePrefix: string;
  /** Deadline of each wait in the scenarios (default 60 s). */
  timeoutMs?: number;
  skip?: string | undefined;
}

export function runPoolScenarios(s: ScenarioOptions): void {
  const timeoutMs = s.timeoutMs ?? 60_000;
  describe.skipIf(Boolean(s.skip))(`pool scenarios: ${s.name}`, () => {
    const pools: Pool[] = [];
    const make = (config: Partial<PoolConfig>): Pool => {
      const pool = createPool({
        backend: s.backend(),
        namePrefix: s.namePrefix,
        options: s.options(),
        acquireTimeoutMs: timeoutMs,
        ...config,
      });
      pools.push(pool);
      return pool;
    };
    /** Names of the instances of this suite's pools that exist in the backend. */
    const leftovers = async (): Promise<string[]> =>
      (await s.backend().list({ signal: AbortSignal.timeout(timeoutMs) }))
        .map((l) => l.name)
        .filter((n) => parseMemberName(s.namePrefix, n) !== undefined);

    afterEach(async () => {
      const closing = pools.splice(0).map((p) => p.close());
      await Promise.allSettled(closing);
    });
    afterAll(async () => {
      // Sweep whatever a failed test left behind.
      await prunePool({
        backend: s.backend(),
        namePrefix: s.namePrefix,
        options: s.options(),
        includeLive: true,
      });
    });

    it('acquire → exec → release, then the pool refills and serves again', async () => {
      const pool = make({ min: 1, max: 1, recycle: 'delete' });
      await pool.ready({ timeoutMs });
      const lease = await pool.acquire();
      const r = await lease.instance.exec(s.exec.argv);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe(s.exec.stdout);
      // The seed's scenario: the user deletes the instance; exec fails; the pool still refills.
      await lease.instance.delete();
      await expect(lease.instance.exec(s.exec.argv)).rejects.toBeInstanceOf(VmsError);
      const refilled = nextEvent(pool, 'warm', (e) => e.instance !== lease.name, timeoutMs);
      await lease.release();
      await refilled;
      const second = await pool.acquire();
      expect(second.name).not.toBe(lease.name);
      const r2 = await second.instance.exec(s.exec.argv);
      expect(r2.stdout).toBe(s.exec.stdout);
      await second.release();
      await pool.close();
      expect(await leftovers()).toEqual([]);
    });

    it('an acquire with an aborted signal fails at once and takes nothing', async () => {
      const pool = make({ min: 1, max: 1 });
      await pool.ready({ timeoutMs });
      const held = await pool.acquire();
      const controller = new AbortController();
      controller.abort();
      const error = await pool.acquire({ signal: controller.signal }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AbortedError);
      expect(pool.stats()).toMatchObject({ waiting: 0, busy: 1 });
      await held.release();
    });

    it('close() deletes everything and later acquires fail with PoolClosedError', async () => {
      const pool = make({ min: 2, max: 2 });
      await pool.ready({ timeoutMs });
      expect((await leftovers()).length).toBe(2);
      await pool.close();
      await expect(pool.acquire()).rejects.toBeInstanceOf(PoolClosedError);
      expect(await leftovers()).toEqual([]);
      expect(pool.stats()).toMatchObject({ live: 0, warm: 0, closed: true });
    });

    it('concurrent acquires each get their own ready instance', async () => {
      const pool = make({ min: 3, max: 3 });
      await pool.ready({ timeoutMs });
      const leases = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
      expect(new Set(leases.map((l) => l.name)).size).toBe(3);
      const outs = await Promise.all(leases.map((l) => l.instance.exec(s.exec.argv)));
      expect(outs.map((o) => o.stdout)).toEqual([s.exec.stdout, s.exec.stdout, s.exec.stdout]);
      expect(pool.stats()).toMatchObject({ busy: 3, warm: 0 });
      await Promise.all(leases.map((l) => l.release()));
    });

    it('close during acquire rejects the waiter and deletes the instance still being made', async () => {
      const pool = make({ min: 0, max: 1 });
      const pending = pool.acquire().catch((e: unknown) => e);
      expect(pool.stats().creating).toBe(1);
      await pool.close();
      expect(await pending).toBeInstanceOf(PoolClosedError);
      expect(await leftovers()).toEqual([]);
    });

    it("an aborted acquire's instance goes back to the pool instead of leaking", async () => {
      const pool = make({ min: 0, max: 1, idleTimeoutMs: 0 });
      const controller = new AbortController();
      const warm = nextEvent(pool, 'warm', () => true, timeoutMs);
      const pending = pool.acquire({ signal: controller.signal });
      expect(pool.stats().creating).toBe(1);
      controller.abort();
      await expect(pending).rejects.toBeInstanceOf(AbortedError);
      const joined = await warm;
      expect(pool.stats()).toMatchObject({ warm: 1, live: 1, waiting: 0 });
      const lease = await pool.acquire();
      expect(lease.name).toBe(joined.instance);
      expect((await lease.instance.exec(s.exec.argv)).stdout).toBe(s.exec.stdout);
      await lease.release();
    });

    it('a warm instance broken behind the pool’s back is replaced, never handed out', async () => {
      const pool = make({ min: 1, max: 1, recycle: 'reuse' });
      await pool.ready({ timeoutMs });
      const [broken] = await leftovers();
      expect(broken).toBeDefined();
      const replaced = nextEvent(pool, 'replaced', (e) => e.instance === broken, timeoutMs);
      await s.breakBehindBack(broken!);
      const lease = await pool.acquire();
      expect(lease.name).not.toBe(broken);
      expect((await lease.instance.exec(s.exec.argv)).stdout).toBe(s.exec.stdout);
      await replaced;
      await lease.release();
    });
  });
}
