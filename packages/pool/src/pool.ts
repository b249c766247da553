/**
 * A warm pool over any backend, built on the public Instance API of @vms/core: keeps `min`
 * instances created, started and ready; hands one out at once on `acquire`, or makes one (up to
 * `max`) for FIFO waiters; recycles released ones; never hands out one that fails its readiness
 * check; and deletes everything it made on `close()` (and, after a crash, via `prunePool`).
 *
 * Instances live as long as the pool, never as long as one acquire: creation runs under the
 * pool's own lifetime signal, so an acquire that gives up leaves its instance to the pool.
 */
import {
  AbortedError,
  type BackendV1,
  backoffDelays,
  createInstance,
  deadlineSignal,
  type Instance,
  type InstanceSettings,
  InvalidOptionsError,
  isTimeoutReason,
  OperationFailedError,
  optionsJsonSchema,
  parseOptions,
  propertiesAt,
  TimeoutError,
  TypedEmitter,
  toVmsError,
  VmsError,
} from '@vms/core';
import type * as z from '@vms/core/zod';
import { PoolClosedError } from './errors.js';
import type { BackgroundPhase, DeleteReason, PoolEvents } from './events.js';
import { runHealthCheck } from './health.js';
import { memberName, newPoolId, POOL_SNAPSHOT, poolLabels, savedStateName } from './naming.js';
import {
  type AcquireOptions,
  acquireOptionsSchema,
  type HealthCheck,
  type PoolConfigParsed,
  poolConfigSchema,
  type RecycleMode,
  type ReleaseOptions,
  releaseOptionsSchema,
  type WaitOptions,
  waitOptionsSchema,
} from './options.js';
import { LatencyWindow, type PoolStats, type PoolTotals } from './stats.js';
import { deleteMember } from './teardown.js';

export interface PoolConfig<S extends z.core.$ZodType = z.core.$ZodType> {
  backend: BackendV1<S>;
  /** Names instances `<namePrefix>-<poolId>-<n>` and labels them `dev.vms.pool=<namePrefix>`. */
  namePrefix: string;
  /**
   * Instance options for the backend, as its schema takes them (a misspelt option does not
   * compile); the pool adds its labels when the backend has a `labels` option.
   */
  options?: NoInfer<z.input<S>>;
  /** Warm instances kept ready (default 1). */
  min?: number;
  /** Most live instances: warm, busy, creating, checking, recycling (default max(min, 1)). */
  max?: number;
  /** Warm instances above `min` idle this long are deleted (default 5 min; 0: never). */
  idleTimeoutMs?: number;
  /** What `release` does by default (default `delete`). */
  recycle?: RecycleMode;
  /** Settings of every Instance the pool makes (deadlines, readiness strategies, lock dir). */
  instanceSettings?: InstanceSettings;
  /** Default deadline of `acquire` (default 5 min). */
  acquireTimeoutMs?: number;
  /** Readiness check on the way out (default `auto`). */
  healthCheck?: HealthCheck;
  /** Deadline of one readiness check (default 10 s). */
  healthCheckTimeoutMs?: number;
  /**
   * How long a passed readiness check is trusted (default 10 s): instances are checked as they
   * become warm and while idle (at half this age), so an acquire usually hands one out at once;
   * an older check is redone first. 0: check on every acquire only.
   */
  healthCheckMaxAgeMs?: number;
  /** Most instances created at the same time (default 4). */
  createConcurrency?: number;
  /** Backoff between refill attempts after a failure (default 500 ms doubling to 30 s, ±20 %). */
  refillBackoff?: { initialMs?: number; maxMs?: number; factor?: number; jitter?: number };
  /** Deadline of each delete (default 2 min). */
  deleteTimeoutMs?: number;
  /** Acquires the latency percentiles are computed over (default 1000). */
  latencyWindow?: number;
  /**
   * Start members from a saved state where the backend can (`backend.savedStates`, e.g. qemu):
   * one instance is booted and saved once, then every member resumes that state instead of
   * booting (default true). The saved state is deleted with the pool.
   */
  savedState?: boolean;
}

/** An instance handed out by `acquire`. Release it (or `await using` it) when done. */
export interface Lease {
  readonly instance: Instance;
  /** The instance's name. */
  readonly name: string;
  /** How long the acquire took, ms. */
  readonly waitedMs: number;
  /** Returns the instance to the pool; idempotent. Recycling happens in the background. */
  release(options?: ReleaseOptions): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface CloseOptions {
  /** Deadline of each delete (default: the pool's `deleteTimeoutMs`). */
  timeoutMs?: number;
}

type MemberStatus =
  | 'creating'
  | 'warm'
  | 'checking'
  | 'busy'
  | 'recycling'
  | 'deleting'
  | 'orphaned';

interface Member {
  readonly name: string;
  readonly instance: Instance;
  status: MemberStatus;
  hasSnapshot: boolean;
  /** When it last joined the warm set (ms, performance clock). */
  warmSince: number;
  /** The last readiness check: when it ended (performance clock) and whether it passed. */
  lastCheck: { ok: boolean; at: number } | undefined;
  /** The readiness check in flight (resolves with its failure, if any). */
  checking: Promise<VmsError | undefined> | undefined;
  lease: LeaseImpl | undefined;
  unsubscribe: () => void;
}

interface Waiter {
  readonly started: number;
  settled: boolean;
  /** Whether a warm instance was there for it when it came (counts as a warm hit). */
  fromWarm: boolean;
  resolve(lease: LeaseImpl): void;
  reject(error: unknown): void;
}

interface Condition {
  test(): boolean;
  resolve(): void;
  reject(error: unknown): void;
}

/** Pools alive in this process, by id: `prunePool` leaves their instances alone. */
export const livePoolIds = new Set<string>();

class LeaseImpl implements Lease {
  readonly instance: Instance;
  readonly name: string;
  readonly waitedMs: number;
  released = false;
  readonly #pool: Pool;

  /** Whether this lease belongs to `pool`. */
  of(pool: Pool): boolean {
    return this.#pool === pool;
  }

  constructor(pool: Pool, instance: Instance, waitedMs: number) {
    this.#pool = pool;
    this.instance = instance;
    this.name = instance.name;
    this.waitedMs = waitedMs;
  }

  release(options: ReleaseOptions = {}): Promise<void> {
    return this.#pool.release(this, options);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}

const now = () => performance.now();

export class Pool extends TypedEmitter<PoolEvents> {
  /** The pool's name: its `namePrefix`. */
  readonly name: string;
  /** Random id of this pool object, part of its instances' names. */
  readonly id: string;
  readonly backend: BackendV1;
  readonly min: number;
  readonly max: number;
  readonly recycle: RecycleMode;

  readonly #config: PoolConfigParsed;
  readonly #instanceOptions: unknown;
  /** Every instance this pool handed out: releasing one again after it was recycled is a no-op. */
  readonly #handedOut = new WeakSet<object>();
  /** Members' options once the pool's saved state exists (undefined: not saved yet, or none). */
  #memberOptions: Record<string, unknown> | undefined;
  /** The pool's saved state: its name while being or once saved; `failed` falls back to boots. */
  #savedState: { name: string; status: 'saving' | 'saved' | 'failed' } | undefined;
  readonly #lifetime = new AbortController();
  readonly #members = new Map<string, Member>();
  /** Warm members; the last one is handed out first, so surplus ones idle out. */
  #warm: Member[] = [];
  #waiters: Waiter[] = [];
  readonly #conditions = new Set<Condition>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #latency: LatencyWindow;
  readonly #totals: PoolTotals = {
    created: 0,
    acquired: 0,
    released: 0,
    recycled: 0,
    replaced: 0,
    deleted: 0,
    failures: 0,
    acquireTimeouts: 0,
    acquireAborts: 0,
  };
  #seq = 0;
  #closed = false;
  #closing: Promise<void> | undefined;
  #filled = false;
  #lastError: VmsError | undefined;
  #backoff: Generator<number, never, void>;
  #backoffTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #checkTimer: NodeJS.Timeout | undefined;
  #checkDue = Number.POSITIVE_INFINITY;

  /** Use `createPool`. */
  constructor(config: PoolConfig) {
    super();
    const c: PoolConfigParsed = parseOptions(poolConfigSchema, config);
    this.#config = c;
    this.backend = c.backend;
    this.name = c.namePrefix;
    this.id = newPoolId();
    this.min = c.min;
    this.max = c.max ?? Math.max(c.min, 1);
    this.recycle = c.recycle;
    const labels = poolLabels(c.namePrefix, this.id);
    const json = optionsJsonSchema(c.backend.optionsSchema);
    const hasLabels = json === undefined || (propertiesAt(json, [])?.includes('labels') ?? true);
    const userLabels = isStringRecord(c.options.labels) ? c.options.labels : {};
    this.#instanceOptions = hasLabels
      ? { ...c.options, labels: { ...userLabels, ...labels } }
      : c.options;
    // Bad instance options (an unknown key, a capability the backend lacks) fail here, naming
    // the field, not later in a background create. Making a handle does no I/O.
    try {
      createInstance(c.backend, memberName(c.namePrefix, this.id, 0), this.#instanceOptions);
    } catch (error) {
      throw prefixIssues(error, 'options');
    }
    this.#latency = new LatencyWindow(c.latencyWindow);
    this.#backoff = backoffDelays(c.refillBackoff);
    // Background errors are events; an unobserved one must never throw out of emit().
    this.on('error', () => {});
    livePoolIds.add(this.id);
    this.#pump();
  }

  /** Listener errors become `error` events (phase `listener`): they never break the pool's bookkeeping. */
  protected override emit<K extends keyof PoolEvents & string>(
    event: K,
    payload: PoolEvents[K],
  ): void {
    try {
      super.emit(event, payload);
    } catch (error) {
      if (event !== 'error') this.#report('listener', toVmsError(error));
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  // ---- public API ------------------------------------------------------------------------

  /**
   * A ready instance: a warm one at once, else one made for this call (up to `max`; callers
   * queue FIFO). Rejects with TimeoutError at the deadline (naming the last background error),
   * AbortedError on abort, PoolClosedError when the pool closes. An abandoned acquire's instance
   * goes back to the pool.
   */
  acquire(options: AcquireOptions = {}): Promise<Lease> {
    let o: ReturnType<typeof acquireOptionsSchema.parse>;
    try {
      o = parseOptions(acquireOptionsSchema, options, 'acquire');
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#closed) return Promise.reject(new PoolClosedError(this.name));
    const started = now();
    const description = `a ready instance from pool ${this.name}`;
    const timeoutMs = o.timeoutMs ?? this.#config.acquireTimeoutMs;
    return new Promise<Lease>((resolve, reject) => {
      const deadline = deadlineSignal({ timeoutMs, ...(o.signal ? { signal: o.signal } : {}) });
      const waiter: Waiter = {
        started,
        settled: false,
        fromWarm: this.#warm.length > 0,
        resolve: (lease) => {
          if (waiter.settled) return;
          waiter.settled = true;
          deadline.dispose();
          resolve(lease);
        },
        reject: (error) => {
          if (waiter.settled) return;
          waiter.settled = true;
          deadline.dispose();
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          reject(error);
        },
      };
      const onAbort = () => {
        const reason: unknown = deadline.signal.reason;
        if (isTimeoutReason(reason)) {
          this.#totals.acquireTimeouts++;
          const last = this.#lastError ? ` (last error: ${this.#lastError.message})` : '';
          waiter.reject(
            new TimeoutError(`timed out after ${timeoutMs} ms waiting for ${description}${last}`, {
              cause: this.#lastError ?? reason,
              timeoutMs,
            }),
          );
        } else {
          this.#totals.acquireAborts++;
          waiter.reject(
            new AbortedError(`aborted while waiting for ${description}`, { cause: reason }),
          );
        }
        // Its instance, when one comes, joins the warm set; nothing else to undo.
        this.#pump();
      };
      if (deadline.signal.aborted) {
        onAbort();
        return;
      }
      deadline.signal.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
      this.#pump();
    });
  }

  /** Returns a leased instance (a Lease or its Instance). Idempotent; recycles in the background. */
  async release(target: Lease | Instance, options: ReleaseOptions = {}): Promise<void> {
    const o = parseOptions(releaseOptionsSchema, options, 'release');
    const name = (target as { name?: unknown })?.name;
    const member = typeof name === 'string' ? this.#members.get(name) : undefined;
    const instance = target instanceof LeaseImpl ? target.instance : target;
    if (!member || member.instance !== instance) {
      if (this.#closed) return;
      // Released before, and recycled (deleted) since: still a no-op, as documented.
      if (target instanceof LeaseImpl ? target.of(this) : this.#handedOut.has(instance)) return;
      throw new InvalidOptionsError([
        { path: 'instance', message: `is not an instance of pool ${this.name} (${this.id})` },
      ]);
    }
    const lease = member.lease;
    if (member.status !== 'busy' || !lease || (target instanceof LeaseImpl && target !== lease)) {
      return; // already released
    }
    lease.released = true;
    member.lease = undefined;
    const mode = o.recycle ?? this.recycle;
    this.#totals.released++;
    this.emit('released', { pool: this.name, instance: member.name, recycle: mode });
    if (this.#closed) return; // close() deletes it
    if (mode === 'reuse') this.#recycle(member, 'reuse');
    else if (mode === 'snapshot' && member.hasSnapshot) this.#recycle(member, 'snapshot');
    else {
      if (mode === 'snapshot') {
        const reason = this.backend.capabilities.snapshot
          ? `no ready snapshot was taken (the pool recycles with '${this.recycle}')`
          : `backend ${this.backend.name} has no snapshot capability`;
        this.emit('fallback', {
          pool: this.name,
          instance: member.name,
          requested: 'snapshot',
          used: 'delete',
          reason,
        });
      }
      this.#destroy(member, 'recycled');
    }
  }

  /** Acquires an instance, runs `fn` with it and releases it (with `recycle: 'delete'` if `fn` threw). */
  async use<T>(fn: (instance: Instance) => Promise<T>, options: AcquireOptions = {}): Promise<T> {
    const lease = await this.acquire(options);
    let ok = false;
    try {
      const result = await fn(lease.instance);
      ok = true;
      return result;
    } finally {
      await lease.release(ok ? {} : { recycle: 'delete' });
    }
  }

  /** Resolves once `min` instances are warm. TimeoutError names the last background error. */
  async ready(options: WaitOptions = {}): Promise<void> {
    const o = parseOptions(waitOptionsSchema, options, 'ready');
    return this.#until(
      () => this.#warm.length >= this.min,
      `pool ${this.name} to have ${this.min} warm`,
      {
        timeoutMs: o.timeoutMs ?? this.#config.acquireTimeoutMs,
        ...(o.signal ? { signal: o.signal } : {}),
      },
    );
  }

  stats(): PoolStats {
    const count = (status: MemberStatus) => {
      let n = 0;
      for (const m of this.#members.values()) if (m.status === status) n++;
      return n;
    };
    const deleting = count('deleting');
    const orphaned = count('orphaned');
    return {
      name: this.name,
      id: this.id,
      min: this.min,
      max: this.max,
      warm: count('warm'),
      busy: count('busy'),
      creating: count('creating'),
      checking: count('checking'),
      recycling: count('recycling'),
      deleting,
      orphaned,
      waiting: this.#waiters.length,
      live: this.#members.size - deleting - orphaned,
      closed: this.#closed,
      totals: { ...this.#totals },
      acquireLatencyMs: this.#latency.summary(),
    };
  }

  /**
   * Closes the pool: pending acquires reject with PoolClosedError, background work is aborted,
   * and every instance the pool made (warm, busy, still creating) is deleted. Idempotent. Throws
   * when some could not be deleted (they are left for `prunePool`).
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.#closing) return this.#closing;
    const timeoutMs = options.timeoutMs ?? this.#config.deleteTimeoutMs;
    this.#closed = true;
    this.#closing = this.#shutdown(timeoutMs);
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- scheduling ------------------------------------------------------------------------

  /** Re-evaluates everything after any change: hand-outs, refill, idle timer, conditions. */
  #pump(): void {
    if (this.#closed) return;
    this.#dispatch();
    this.#refill();
    this.#scheduleIdle();
    this.#scheduleChecks();
    const filled = this.#warm.length >= this.min;
    if (filled && !this.#filled && this.min > 0) {
      this.emit('filled', { pool: this.name, warm: this.#warm.length });
    }
    this.#filled = filled;
    for (const c of this.#conditions) if (c.test()) c.resolve();
  }

  #dispatch(): void {
    while (this.#waiters.length > 0 && this.#warm.length > 0) {
      const waiter = this.#waiters.shift()!;
      const member = this.#warm.pop()!;
      this.#track(this.#handOut(member, waiter));
    }
  }

  #liveCount(): number {
    let n = 0;
    for (const m of this.#members.values())
      if (m.status !== 'deleting' && m.status !== 'orphaned') n++;
    return n;
  }

  #refill(): void {
    if (this.#backoffTimer) return;
    if (!this.#savedStateReady()) return;
    let creating = 0;
    let recycling = 0;
    for (const m of this.#members.values()) {
      if (m.status === 'creating') creating++;
      else if (m.status === 'recycling') recycling++;
    }
    const supply = this.#warm.length + creating + recycling;
    const want = this.#waiters.length + this.min;
    const room = Math.min(this.max - this.#liveCount(), this.#config.createConcurrency - creating);
    const n = Math.min(want - supply, room);
    for (let i = 0; i < n; i++) this.#track(this.#create());
  }

  #scheduleIdle(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    const idleMs = this.#config.idleTimeoutMs;
    if (idleMs === 0 || this.#warm.length <= this.min) return;
    const oldest = Math.min(...this.#warm.map((m) => m.warmSince));
    this.#idleTimer = setTimeout(() => this.#shrink(), Math.max(0, oldest + idleMs - now()) + 1);
    this.#idleTimer.unref?.();
  }

  #shrink(): void {
    this.#idleTimer = undefined;
    if (this.#closed) return;
    const idleMs = this.#config.idleTimeoutMs;
    const t = now();
    const excess = this.#warm.length - this.min;
    const expired = [...this.#warm]
      .sort((a, b) => a.warmSince - b.warmSince)
      .filter((m) => t - m.warmSince >= idleMs)
      .slice(0, Math.max(0, excess));
    for (const m of expired) this.#destroy(m, 'idle');
    this.#pump();
  }

  #track(task: Promise<void>): void {
    const tracked = task.catch((error: unknown) => {
      // A bug: report it, never crash the process.
      this.#report('internal', toVmsError(error));
    });
    this.#tasks.add(tracked);
    void tracked.finally(() => this.#tasks.delete(tracked));
  }

  #report(phase: BackgroundPhase, error: VmsError, instance?: string, retryInMs?: number): void {
    this.#lastError = error;
    this.#totals.failures++;
    this.emit('error', {
      pool: this.name,
      phase,
      error,
      ...(instance ? { instance } : {}),
      ...(retryInMs !== undefined ? { retryInMs } : {}),
    });
  }

  /** Waits (event-driven, re-tested on every pump) until `test()` holds. */
  #until(
    test: () => boolean,
    description: string,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<void> {
    if (this.#closed) return Promise.reject(new PoolClosedError(this.name, 'ready'));
    if (test()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const deadline = deadlineSignal(options);
      const condition: Condition = {
        test,
        resolve: () => {
          this.#conditions.delete(condition);
          deadline.dispose();
          resolve();
        },
        reject: (error) => {
          this.#conditions.delete(condition);
          deadline.dispose();
          reject(error);
        },
      };
      deadline.signal.addEventListener(
        'abort',
        () => {
          const reason: unknown = deadline.signal.reason;
          const last = this.#lastError ? ` (last error: ${this.#lastError.message})` : '';
          condition.reject(
            isTimeoutReason(reason)
              ? new TimeoutError(
                  `timed out after ${options.timeoutMs} ms waiting for ${description}${last}`,
                  {
                    cause: this.#lastError ?? reason,
                    timeoutMs: options.timeoutMs,
                  },
                )
              : new AbortedError(`aborted while waiting for ${description}`, { cause: reason }),
          );
        },
        { once: true },
      );
      if (deadline.signal.aborted) return;
      this.#conditions.add(condition);
    });
  }

  // ---- member lifecycle ------------------------------------------------------------------

  /**
   * Whether members can be made now: always, unless the pool starts them from a saved state
   * that is not saved yet (its save is started here, once; the pool refills when it ends).
   */
  #savedStateReady(): boolean {
    const saved = this.backend.savedStates;
    if (!saved || this.#config.savedState === false) return true;
    if (this.#savedState?.status === 'saved' || this.#savedState?.status === 'failed') return true;
    if (this.#savedState?.status === 'saving') return false;
    if (this.#waiters.length + this.min === 0) return true; // nothing to make yet
    const name = savedStateName(this.name, this.id);
    this.#savedState = { name, status: 'saving' };
    const started = now();
    this.#track(
      saved
        .save(name, this.#config.options, { signal: this.#lifetime.signal })
        .then(
          (result) => {
            if (this.#savedState) this.#savedState.status = 'saved';
            const labels = (result.options.labels ?? {}) as Record<string, string>;
            this.#memberOptions = {
              ...result.options,
              labels: { ...labels, ...poolLabels(this.name, this.id) },
            };
            this.emit('saved', {
              pool: this.name,
              savedState: name,
              durationMs: Math.round(now() - started),
            });
          },
          (error: unknown) => {
            if (this.#closed) return;
            if (this.#savedState) this.#savedState.status = 'failed';
            const e = toVmsError(error);
            this.#report('create', e);
            this.emit('fallback', {
              pool: this.name,
              requested: 'savedState',
              used: 'boot',
              reason: `saving the pool's state failed: ${e.message}`,
            });
          },
        )
        .finally(() => this.#pump()),
    );
    return false;
  }

  async #create(): Promise<void> {
    const name = memberName(this.name, this.id, ++this.#seq);
    const instance = createInstance(
      this.backend,
      name,
      this.#memberOptions ?? this.#instanceOptions,
      this.#config.instanceSettings,
    );
    const member: Member = {
      name,
      instance,
      status: 'creating',
      hasSnapshot: false,
      warmSince: 0,
      lastCheck: undefined,
      checking: undefined,
      lease: undefined,
      unsubscribe: () => {},
    };
    member.unsubscribe = instance.on('state', ({ to }) => {
      // Died behind the pool's back (the backend watches its instances) while warm: replace it.
      if (member.status === 'warm' && to.name !== 'running') {
        this.#replace(
          member,
          `it became ${to.name}${to.reason ? ` (${to.reason})` : ''} while warm`,
        );
      }
    });
    this.#members.set(name, member);
    const started = now();
    const signal = this.#lifetime.signal;
    try {
      await instance.create({ signal });
      await instance.start({ signal });
      if (this.recycle === 'snapshot' && this.backend.capabilities.snapshot) {
        await instance.snapshots.create(POOL_SNAPSHOT, { signal });
        member.hasSnapshot = true;
      }
    } catch (error) {
      if (this.#closed) return; // close() deletes it
      const retryInMs = this.#startBackoff();
      this.#report('create', toVmsError(error), name, retryInMs);
      this.#destroy(member, 'failed');
      return;
    }
    if (this.#checksAhead) {
      const failure = await this.#check(member, 'warm');
      if (this.#closed) return;
      if (failure) {
        // Made, but not ready by the pool's check: replaced, after a backoff (a check that
        // fails on every new instance must not spin).
        this.#startBackoff();
        this.#replace(member, `readiness check failed: ${failure.message}`, failure);
        return;
      }
    }
    if (this.#closed) return;
    this.#backoff = backoffDelays(this.#config.refillBackoff);
    this.#totals.created++;
    this.#makeWarm(member, 'created', now() - started);
  }

  #startBackoff(): number {
    const delay = this.#backoff.next().value;
    if (this.#backoffTimer) clearTimeout(this.#backoffTimer);
    this.#backoffTimer = setTimeout(() => {
      this.#backoffTimer = undefined;
      this.#pump();
    }, delay);
    this.#backoffTimer.unref?.();
    return delay;
  }

  #makeWarm(
    member: Member,
    reason: 'created' | 'recycled' | 'returned',
    durationMs?: number,
  ): void {
    if (this.#closed) return;
    member.status = 'warm';
    member.warmSince = now();
    this.#warm.push(member);
    this.emit('warm', {
      pool: this.name,
      instance: member.name,
      reason,
      ...(durationMs !== undefined ? { durationMs: Math.round(durationMs) } : {}),
    });
    this.#pump();
  }

  async #handOut(member: Member, waiter: Waiter): Promise<void> {
    member.status = 'checking';
    // Only what is needed to trust the last check: an idle check in flight is awaited, a
    // stale one redone; after a fresh passed one, a state query confirms the instance still
    // runs (a death the backend's watch has not reported yet).
    let failure: VmsError | undefined;
    if (member.checking) failure = await member.checking;
    else if (!this.#fresh(member)) failure = await this.#check(member, 'acquire');
    else failure = await this.#confirmRunning(member);
    if (this.#closed) return; // close() rejected the waiter and deletes the instance
    if (failure) {
      // Keep the waiter's place at the head of the queue; it gets the next ready instance.
      if (!waiter.settled) {
        waiter.fromWarm = false;
        this.#waiters.unshift(waiter);
      }
      this.#replace(member, `readiness check failed: ${failure.message}`, failure);
      return;
    }
    if (waiter.settled) {
      this.#makeWarm(member, 'returned');
      return;
    }
    const waitedMs = now() - waiter.started;
    const lease = new LeaseImpl(this, member.instance, waitedMs);
    this.#handedOut.add(member.instance);
    member.status = 'busy';
    member.lease = lease;
    this.#latency.add(waitedMs);
    this.#totals.acquired++;
    waiter.resolve(lease);
    this.emit('acquired', {
      pool: this.name,
      instance: member.name,
      waitedMs: Math.round(waitedMs * 1000) / 1000,
      fromWarm: waiter.fromWarm,
    });
    this.#pump();
  }

  // ---- readiness checks ------------------------------------------------------------------

  /** Whether instances are checked ahead of acquires (as they become warm, and while idle). */
  get #checksAhead(): boolean {
    return this.#config.healthCheck !== 'none' && this.#config.healthCheckMaxAgeMs > 0;
  }

  /** Whether the member's last check passed recently enough to hand it out without another. */
  #fresh(member: Member): boolean {
    if (this.#config.healthCheck === 'none') return true;
    const last = member.lastCheck;
    return last?.ok === true && now() - last.at <= this.#config.healthCheckMaxAgeMs;
  }

  /** Runs one readiness check of `member` (one at a time per member); resolves with its failure. */
  #check(member: Member, when: 'warm' | 'idle' | 'acquire'): Promise<VmsError | undefined> {
    if (member.checking) return member.checking;
    const started = now();
    const run = runHealthCheck(this.#config.healthCheck, member.instance, {
      signal: this.#lifetime.signal,
      timeoutMs: this.#config.healthCheckTimeoutMs,
    }).then(
      () => undefined,
      (error: unknown) => toVmsError(error),
    );
    const checking = run.then((failure) => {
      member.checking = undefined;
      member.lastCheck = { ok: failure === undefined, at: now() };
      if (!this.#closed) {
        this.emit('checked', {
          pool: this.name,
          instance: member.name,
          when,
          ok: failure === undefined,
          durationMs: Math.round((now() - started) * 1000) / 1000,
          ...(failure ? { error: failure } : {}),
        });
      }
      return failure;
    });
    member.checking = checking;
    return checking;
  }

  /** The instance's state, straight from the backend: a failure unless it runs. */
  async #confirmRunning(member: Member): Promise<VmsError | undefined> {
    if (this.#config.healthCheck === 'none') return undefined;
    try {
      const { state } = await member.instance.refresh({
        signal: this.#lifetime.signal,
        timeoutMs: this.#config.healthCheckTimeoutMs,
      });
      if (state.name === 'running') return undefined;
      return new OperationFailedError(
        `instance is ${state.name}${state.reason ? ` (${state.reason})` : ''} since its last check`,
        { instance: member.instance.id },
      );
    } catch (error) {
      return toVmsError(error);
    }
  }

  /** Arms one timer for the earliest idle re-check of a warm member (at half the max age). */
  #scheduleChecks(): void {
    if (!this.#checksAhead) return;
    const half = this.#config.healthCheckMaxAgeMs / 2;
    let due = Number.POSITIVE_INFINITY;
    for (const m of this.#warm) {
      if (!m.checking && m.lastCheck) due = Math.min(due, m.lastCheck.at + half);
    }
    if (due === this.#checkDue && this.#checkTimer) return;
    if (this.#checkTimer) clearTimeout(this.#checkTimer);
    this.#checkTimer = undefined;
    this.#checkDue = due;
    if (due === Number.POSITIVE_INFINITY) return;
    this.#checkTimer = setTimeout(() => this.#checkIdle(), Math.max(0, due - now()) + 1);
    this.#checkTimer.unref?.();
  }

  /** Re-checks the warm members whose last check is half its max age old. */
  #checkIdle(): void {
    this.#checkTimer = undefined;
    this.#checkDue = Number.POSITIVE_INFINITY;
    if (this.#closed) return;
    const half = this.#config.healthCheckMaxAgeMs / 2;
    const t = now();
    for (const member of [...this.#warm]) {
      if (member.checking || !member.lastCheck || t - member.lastCheck.at < half) continue;
      this.#track(
        this.#check(member, 'idle').then((failure) => {
          // Taken meanwhile: the acquire that took it awaited this check and acts on it.
          if (failure && member.status === 'warm') {
            this.#replace(member, `readiness check failed: ${failure.message}`, failure);
          }
          this.#pump();
        }),
      );
    }
    this.#pump();
  }

  #recycle(member: Member, how: 'snapshot' | 'reuse'): void {
    member.status = 'recycling';
    const started = now();
    const signal = this.#lifetime.signal;
    const task = async () => {
      try {
        if (how === 'snapshot') await member.instance.snapshots.restore(POOL_SNAPSHOT, { signal });
        const { state } = await member.instance.refresh({ signal });
        if (state.name === 'stopped' || state.name === 'suspended')
          await member.instance.start({ signal });
        else if (state.name !== 'running') {
          throw new OperationFailedError(
            `instance is ${state.name}${state.reason ? ` (${state.reason})` : ''}`,
            {
              instance: member.instance.id,
            },
          );
        }
        if (this.#checksAhead) {
          const failure = await this.#check(member, 'warm');
          if (failure) throw failure;
        }
      } catch (error) {
        if (this.#closed) return;
        const e = toVmsError(error);
        this.#report('recycle', e, member.name);
        this.#replace(member, `recycling (${how}) failed: ${e.message}`, e);
        return;
      }
      if (this.#closed) return;
      const durationMs = now() - started;
      this.#totals.recycled++;
      this.emit('recycled', {
        pool: this.name,
        instance: member.name,
        how,
        durationMs: Math.round(durationMs),
      });
      this.#makeWarm(member, 'recycled', durationMs);
    };
    this.#track(task());
    this.#pump();
  }

  #replace(member: Member, reason: string, error?: VmsError): void {
    if (member.status === 'deleting' || member.status === 'orphaned') return;
    this.#totals.replaced++;
    this.emit('replaced', {
      pool: this.name,
      instance: member.name,
      reason,
      ...(error ? { error } : {}),
    });
    this.#destroy(member, 'replaced');
  }

  /** Deletes a member in the background; the pool refills at once (deletes do not count against max). */
  #destroy(member: Member, reason: DeleteReason): void {
    if (this.#closed || member.status === 'deleting') return;
    this.#warm = this.#warm.filter((m) => m !== member);
    member.status = 'deleting';
    member.unsubscribe();
    const task = async () => {
      try {
        await deleteMember(member.instance, {
          timeoutMs: this.#config.deleteTimeoutMs,
          snapshot: member.hasSnapshot,
        });
      } catch (error) {
        member.status = 'orphaned';
        this.#report('delete', toVmsError(error), member.name);
        return;
      }
      this.#members.delete(member.name);
      this.#totals.deleted++;
      this.emit('deleted', { pool: this.name, instance: member.name, reason });
      this.#pump();
    };
    this.#track(task());
    this.#pump();
  }

  async #shutdown(timeoutMs: number): Promise<void> {
    if (this.#backoffTimer) clearTimeout(this.#backoffTimer);
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    if (this.#checkTimer) clearTimeout(this.#checkTimer);
    this.#backoffTimer = undefined;
    this.#idleTimer = undefined;
    this.#checkTimer = undefined;
    const closedError = new PoolClosedError(this.name);
    for (const waiter of [...this.#waiters]) waiter.reject(closedError);
    this.#waiters = [];
    for (const c of [...this.#conditions]) c.reject(new PoolClosedError(this.name, 'ready'));
    this.#lifetime.abort(closedError);
    // Let in-flight creates, checks, recycles and deletes settle (they honour the abort).
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
    this.#warm = [];
    const remaining = [...this.#members.values()];
    const results = await Promise.allSettled(
      remaining.map(async (member) => {
        member.unsubscribe();
        member.status = 'deleting';
        if (member.lease) member.lease.released = true;
        member.lease = undefined;
        try {
          await deleteMember(member.instance, { timeoutMs, snapshot: member.hasSnapshot });
        } catch (error) {
          member.status = 'orphaned';
          throw toVmsError(error);
        }
        this.#members.delete(member.name);
        this.#totals.deleted++;
        this.emit('deleted', { pool: this.name, instance: member.name, reason: 'close' });
      }),
    );
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected' ? [{ name: remaining[i]?.name, error: r.reason }] : [],
    );
    // The saved state goes last: the members' disks were overlays over it.
    const saved = this.#savedState;
    if (saved && saved.status !== 'failed' && this.backend.savedStates) {
      try {
        await this.backend.savedStates.delete(saved.name);
      } catch (error) {
        failed.push({ name: `saved state ${saved.name}`, error: toVmsError(error) });
      }
    }
    livePoolIds.delete(this.id);
    this.emit('closed', {
      pool: this.name,
      deleted: results.length - failed.length,
      failed: failed.length,
    });
    if (failed.length > 0) {
      throw new OperationFailedError(
        `closing pool ${this.name} left ${failed.length} instance(s): ${failed.map((f) => f.name).join(', ')} (${(failed[0]?.error as Error)?.message})`,
        {
          cause: new AggregateError(
            failed.map((f) => f.error),
            'delete failures',
          ),
          hint: `prunePool({ backend, namePrefix: '${this.name}' }) deletes them later`,
        },
      );
    }
  }
}

/**
 * Creates a pool and starts filling it to `min` in the background. `options` is typed by the
 * backend's schema; bad config throws InvalidOptionsError (or CAPABILITY_UNSUPPORTED for an
 * option the backend cannot honour).
 */
export function createPool<S extends z.core.$ZodType>(config: PoolConfig<S>): Pool {
  return new Pool(config);
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.values(value).every((v) => typeof v === 'string')
  );
}

/** An InvalidOptionsError about instance options, its fields prefixed (`options.image`). */
function prefixIssues(error: unknown, prefix: string): unknown {
  if (!VmsError.hasCode(error, 'INVALID_OPTIONS')) return error;
  return new InvalidOptionsError(
    error.issues.map((i) => ({
      ...i,
      path: `${prefix}.${i.path}`,
      ...(i.suggestion ? { suggestion: `${prefix}.${i.suggestion}` } : {}),
    })),
    { cause: error, ...(error.hint ? { hint: error.hint } : {}) },
  );
}
