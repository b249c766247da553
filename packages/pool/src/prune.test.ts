import { createInstance } from '@vms/core';
import { createMockBackend } from '@vms/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { POOL_SNAPSHOT } from './naming.js';
import { createPool, type Pool } from './pool.js';
import { prunePool } from './prune.js';

describe('prunePool on the mock backend', () => {
  const mock = createMockBackend({ delayMs: 1 });
  const pools: Pool[] = [];

  afterEach(async () => {
    await Promise.allSettled(pools.splice(0).map((p) => p.close()));
    for (const name of [...mock.world.keys()]) mock.setBehindBack(name, 'absent');
  });

  it('deletes what a pool dropped without close() left behind, and nothing else', async () => {
    // A pool that is never closed, as after a crash: its instances stay.
    const dropped = createPool({
      backend: mock,
      namePrefix: 'ci',
      min: 2,
      max: 3,
      recycle: 'snapshot',
    });
    pools.push(dropped);
    await dropped.ready();
    const busy = await dropped.acquire(); // a busy one is left too
    await dropped.ready();
    // Neighbours that must survive: another pool's prefix that extends ours, and a plain instance.
    const neighbour = createPool({ backend: mock, namePrefix: 'ci-linux', min: 1, max: 1 });
    pools.push(neighbour);
    await neighbour.ready();
    const plain = createInstance(mock, 'ci-handmade', { image: 'mock:latest' });
    await plain.create();
    const leftBehind = [...mock.world.keys()].filter((n) => n.startsWith(`ci-${dropped.id}-`));
    expect(leftBehind).toHaveLength(3);
    expect(leftBehind).toContain(busy.name);

    // In this process the dropped pool still counts as alive: skipped unless includeLive.
    const cautious = await prunePool({ backend: mock, namePrefix: 'ci' });
    expect(cautious.deleted).toEqual([]);
    expect(cautious.skipped.sort()).toEqual(leftBehind.sort());

    const result = await prunePool({ backend: mock, namePrefix: 'ci', includeLive: true });
    expect(result.deleted).toEqual(leftBehind.sort());
    expect(result.failed).toEqual([]);
    const remaining = [...mock.world.keys()];
    expect(remaining).toContain('ci-handmade');
    expect(remaining.filter((n) => n.startsWith(`ci-linux-${neighbour.id}-`))).toHaveLength(1);
    expect(remaining.some((n) => n.startsWith(`ci-${dropped.id}-`))).toBe(false);
    await plain.delete();
  });

  it('reports instances it could not delete instead of throwing', async () => {
    const pool = createPool({ backend: mock, namePrefix: 'flaky', min: 1, max: 1 });
    pools.push(pool);
    await pool.ready();
    const [name] = [...mock.world.keys()];
    mock.inject({ verb: 'delete', kind: 'fail', name: name! });
    const result = await prunePool({ backend: mock, namePrefix: 'flaky', includeLive: true });
    expect(result.deleted).toEqual([]);
    expect(result.failed.map((f) => f.name)).toEqual([name]);
    expect(result.failed[0]?.error.message).toMatch(/injected delete failure/);
  });

  it('deletes the pool snapshot of a snapshot pool as well (where snapshots outlive instances)', async () => {
    const pool = createPool({
      backend: mock,
      namePrefix: 'snap',
      min: 1,
      max: 1,
      recycle: 'snapshot',
    });
    pools.push(pool);
    await pool.ready();
    const [name] = [...mock.world.keys()];
    expect([...mock.world.get(name!)!.snapshots.keys()]).toEqual([POOL_SNAPSHOT]);
    const result = await prunePool({ backend: mock, namePrefix: 'snap', includeLive: true });
    expect(result.deleted).toEqual([name]);
    expect(mock.world.size).toBe(0);
  });

  it('validates its inputs', async () => {
    await expect(prunePool({ backend: mock, namePrefix: '' })).rejects.toMatchObject({
      field: 'namePrefix',
    });
    await expect(prunePool({ backend: {} as never, namePrefix: 'x' })).rejects.toMatchObject({
      field: 'backend',
    });
  });
});
