/** Latency samples per (backend, op) and their percentiles, for the performance panel. */

export interface LatencyRow {
  backend: string;
  op: string;
  count: number;
  failed: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of sorted `values` (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export class LatencyStats {
  readonly #samples = new Map<
    string,
    { backend: string; op: string; ms: number[]; failed: number; count: number }
  >();
  readonly #keep: number;

  /** Keeps the last `keep` samples of each (backend, op). */
  constructor(keep = 500) {
    this.#keep = keep;
  }

  record(backend: string, op: string, ms: number, ok = true): void {
    const key = `${backend}\u0000${op}`;
    let entry = this.#samples.get(key);
    if (!entry) {
      entry = { backend, op, ms: [], failed: 0, count: 0 };
      this.#samples.set(key, entry);
    }
    entry.count++;
    if (!ok) entry.failed++;
    entry.ms.push(ms);
    if (entry.ms.length > this.#keep) entry.ms.shift();
  }

  rows(): LatencyRow[] {
    return [...this.#samples.values()]
      .map((e) => {
        const sorted = [...e.ms].sort((a, b) => a - b);
        return {
          backend: e.backend,
          op: e.op,
          count: e.count,
          failed: e.failed,
          p50: percentile(sorted, 50),
          p90: percentile(sorted, 90),
          p99: percentile(sorted, 99),
          max: sorted[sorted.length - 1] ?? 0,
        };
      })
      .sort((a, b) => a.backend.localeCompare(b.backend) || a.op.localeCompare(b.op));
  }
}
