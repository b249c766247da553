import { afterEach, describe, expect, it, vi } from 'vitest';
import { createOverheadBench } from './overhead-bench.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('createOverheadBench', () => {
  it('warms both sides up, then alternates raw and vms calls, one row per case', async () => {
    const bench = createOverheadBench(3);
    const order: string[] = [];
    await bench.compare(
      'case a',
      async (i) => void order.push(`raw ${i}`),
      async (i) => void order.push(`vms ${i}`),
    );
    expect(order).toEqual([
      'raw -1',
      'vms -1',
      'raw 0',
      'vms 0',
      'raw 1',
      'vms 1',
      'raw 2',
      'vms 2',
    ]);
    order.length = 0;
    await bench.compare(
      'case b',
      async (i) => void order.push(`raw ${i}`),
      async (i) => void order.push(`vms ${i}`),
      1,
    );
    expect(order).toEqual(['raw -1', 'vms -1', 'raw 0', 'vms 0']);
    expect(bench.rows.map((r) => r.case)).toEqual(['case a', 'case b']);
  });

  it('reports ms per call of each side and their ratio', async () => {
    const bench = createOverheadBench(2);
    const busy = (ms: number) => async () => {
      const end = performance.now() + ms;
      while (performance.now() < end) {
        // burn
      }
    };
    await bench.compare('slow vms', busy(2), busy(8));
    const [row] = bench.rows;
    expect(Number(row?.['raw ms/op'])).toBeGreaterThanOrEqual(2);
    expect(Number(row?.['vms ms/op'])).toBeGreaterThanOrEqual(8);
    expect(Number(row?.ratio)).toBeCloseTo(
      Number(row?.['vms ms/op']) / Number(row?.['raw ms/op']),
      0,
    );
  });

  it('prints the title with N and the rows as a table', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const table = vi.spyOn(console, 'table').mockImplementation(() => {});
    const bench = createOverheadBench(1);
    await bench.compare(
      'x',
      async () => {},
      async () => {},
    );
    bench.print('@vms/toy overhead vs raw toy');
    expect(log).toHaveBeenCalledWith('@vms/toy overhead vs raw toy (N=1; ratio = vms / raw)');
    expect(table).toHaveBeenCalledWith(bench.rows);
  });

  it('takes N from BENCH_N, and refuses one that is not a positive whole number', () => {
    vi.stubEnv('BENCH_N', '4');
    expect(createOverheadBench().n).toBe(4);
    vi.unstubAllEnvs();
    expect(() => createOverheadBench(0)).toThrow(expect.objectContaining({ field: 'n' }));
    expect(() => createOverheadBench(1.5)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });
});
