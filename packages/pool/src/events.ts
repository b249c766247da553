/** Typed events of a pool. Every payload names the pool (`namePrefix`) and, where one is, the instance name. */
import type { VmsError } from '@vms/core';
import type { RecycleMode } from './options.js';

/** Why an instance was deleted. */
export type DeleteReason =
  /** Released with `recycle: 'delete'` (or the snapshot fallback). */
  | 'recycled'
  /** Found broken and taken out. */
  | 'replaced'
  /** Idle above `min` for `idleTimeoutMs`. */
  | 'idle'
  /** Its create or start failed. */
  | 'failed'
  | 'close';

/** Where a background failure happened; `listener`: one of your event listeners threw. */
export type BackgroundPhase = 'create' | 'recycle' | 'delete' | 'listener' | 'internal';

export interface PoolEvents {
  /** An instance joined the warm set: made (`created`), recycled, or returned by an aborted acquire. */
  warm: {
    pool: string;
    instance: string;
    reason: 'created' | 'recycled' | 'returned';
    /** How long making it ready took (create + start + snapshot, or the recycle). */
    durationMs?: number;
  };
  /** The warm count reached `min`. */
  filled: { pool: string; warm: number };
  /**
   * A readiness check ended: as the instance became warm (`warm`), while it idled (`idle`), or
   * on its way out because its last check was too old (`acquire`). A failed one gets the
   * instance replaced; it is never handed out.
   */
  checked: {
    pool: string;
    instance: string;
    when: 'warm' | 'idle' | 'acquire';
    ok: boolean;
    durationMs: number;
    error?: VmsError;
  };
  /** An instance was handed out. `fromWarm`: it was warm when the acquire came (no waiting for a create). */
  acquired: { pool: string; instance: string; waitedMs: number; fromWarm: boolean };
  released: { pool: string; instance: string; recycle: RecycleMode };
  /** A released instance is ready again. */
  recycled: { pool: string; instance: string; how: 'snapshot' | 'reuse'; durationMs: number };
  /** A broken instance was taken out (it is deleted and a new one made). */
  replaced: { pool: string; instance: string; reason: string; error?: VmsError };
  deleted: { pool: string; instance: string; reason: DeleteReason };
  /**
   * What was asked for could not be honoured: `recycle: 'snapshot'` (the instance is deleted
   * instead), or starting members from a saved state (they boot instead).
   */
  fallback:
    | { pool: string; instance: string; requested: 'snapshot'; used: 'delete'; reason: string }
    | { pool: string; requested: 'savedState'; used: 'boot'; reason: string };
  /** The pool's saved state is ready: members start from it from now on. */
  saved: { pool: string; savedState: string; durationMs: number };
  /**
   * A background failure. It never throws out of the pool; a failed create is retried after
   * `retryInMs` (capped, jittered backoff).
   */
  error: {
    pool: string;
    phase: BackgroundPhase;
    instance?: string;
    error: VmsError;
    retryInMs?: number;
  };
  /** `close()` finished. */
  closed: { pool: string; deleted: number; failed: number };
}

export type PoolEventName = keyof PoolEvents;
