/** Acquire latency over a sliding window, and the shape of `pool.stats()`. */

export interface LatencySummary {
  /** Samples in the window. */
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** The last `size` samples (ms), with nearest-rank percentiles. */
export class LatencyWindow {
  readonly #samples: number[] = [];
  readonly #size: number;
  #next = 0;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError('window size must be a positive integer');
    this.#size = size;
  }

  add(ms: number): void {
    if (this.#samples.length < this.#size) this.#samples.push(ms);
    else this.#samples[this.#next] = ms;
    this.#next = (this.#next + 1) % this.#size;
  }

  /** undefined when there are no samples yet. */
  summary(): LatencySummary | undefined {
    const n = this.#samples.length;
    if (n === 0) return undefined;
    const sorted = [...this.#samples].sort((a, b) => a - b);
    const rank = (p: number) => sorted[Math.min(n, Math.max(1, Math.ceil((p / 100) * n))) - 1] ?? 0;
    return { count: n, p50: rank(50), p90: rank(90), p99: rank(99), max: sorted[n - 1] ?? 0 };
  }
}

export interface PoolTotals {
  /** Instances created and started (ready) by the pool. */
  created: number;
  acquired: number;
  released: number;
  /** Released instances made ready again (snapshot restore or reuse). */
  recycled: number;
  /** Broken instances taken out (failed readiness check, failed recycle, died while warm). */
  replaced: number;
  deleted: number;
  /** Background failures of any kind (create, recycle, delete). */
  failures: number;
  /** Acquires that timed out or were aborted. */
  acquireTimeouts: number;
  acquireAborts: number;
}

export interface PoolStats {
  /** The pool's `namePrefix`. */
  name: string;
  /** This pool object's random id (part of its instances' names). */
  id: string;
  min: number;
  max: number;
  /** Ready and idle, handed out at once by `acquire`. */
  warm: number;
  /** Leased to a caller. */
  busy: number;
  /** Being created and started. */
  creating: number;
  /** Being checked on the way out to an acquire. */
  checking: number;
  /** Released and being made ready again. */
  recycling: number;
  /** Being deleted. */
  deleting: number;
  /** Instances whose delete failed; `close()` tries again, `prunePool` finds them later. */
  orphaned: number;
  /** Acquires waiting for an instance. */
  waiting: number;
  /** Instances counted against `max`: all but deleting and orphaned ones. */
  live: number;
  closed: boolean;
  totals: PoolTotals;
  /** Acquire latency (ms) over the last `latencyWindow` acquires; undefined before the first. */
  acquireLatencyMs: LatencySummary | undefined;
}
