import { describe, expect, it } from 'vitest';
import { LatencyWindow } from './stats.js';

describe('LatencyWindow', () => {
  it('computes nearest-rank percentiles', () => {
    const w = new LatencyWindow(100);
    expect(w.summary()).toBeUndefined();
    for (let i = 100; i >= 1; i--) w.add(i);
    expect(w.summary()).toEqual({ count: 100, p50: 50, p90: 90, p99: 99, max: 100 });
  });

  it('keeps only the last `size` samples', () => {
    const w = new LatencyWindow(3);
    for (const ms of [1000, 1000, 1000, 1, 2, 3]) w.add(ms);
    expect(w.summary()).toEqual({ count: 3, p50: 2, p90: 3, p99: 3, max: 3 });
  });

  it('handles a single sample and rejects a bad size', () => {
    const w = new LatencyWindow(1);
    w.add(7);
    expect(w.summary()).toEqual({ count: 1, p50: 7, p90: 7, p99: 7, max: 7 });
    expect(() => new LatencyWindow(0)).toThrow(RangeError);
  });
});
