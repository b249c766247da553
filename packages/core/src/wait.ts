/**
 * Waiting done once: abortable sleep, capped jittered backoff, deadline signals and `waitFor`,
 * the polling loop every readiness probe, lock and backend wait builds on. Every wait has a
 * deadline and honours an AbortSignal; a deadline surfaces as TimeoutError, a caller abort as
 * AbortedError.
 */

import { AbortedError, InvalidOptionsError, TimeoutError, VmsError } from './errors.js';
import { lazySchema, parseOptions } from './options.js';
import * as z from './zod.js';

/** Largest delay `setTimeout` accepts (about 24.8 days); longer deadlines never fire a timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Resolves after `ms` milliseconds. Rejects when `signal` aborts, with the error
 * `abortReasonToError` maps its reason to (AbortedError for a caller abort, TimeoutError when the
 * signal is a deadline signal that expired). The timer is always cleared.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReasonToError(signal, 'sleep'));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReasonToError(signal!, 'sleep'));
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.min(Math.max(0, ms), MAX_TIMER_MS),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export const backoffOptionsSchema = z
  .object({
    /** First delay (default 50 ms). */
    initialMs: z.number().min(0).default(50),
    /** Cap of every delay (default 1000 ms). */
    maxMs: z.number().min(0).default(1000),
    /** Growth per attempt (default 2). */
    factor: z.number().min(1).default(2),
    /** Random spread as a fraction of the delay, 0..1 (default 0.2 → ±20 %). */
    jitter: z.number().min(0).max(1).default(0.2),
  })
  .strict();
export type BackoffOptions = z.input<typeof backoffOptionsSchema>;

/**
 * An infinite sequence of delays growing by `factor` from `initialMs`, spread by ±`jitter` so
 * that many waiters do not poll in lockstep, and never above `maxMs`.
 */
export function* backoffDelays(options: BackoffOptions = {}): Generator<number, never, void> {
  const { initialMs, maxMs, factor, jitter } = parseOptions(
    backoffOptionsSchema,
    options,
    'backoff',
  );
  let base = Math.min(initialMs, maxMs);
  for (;;) {
    const spread = 1 + jitter * (2 * Math.random() - 1);
    yield Math.round(Math.min(maxMs, Math.max(0, base * spread)));
    base = Math.min(maxMs, base * factor);
  }
}

export interface DeadlineOptions {
  /** Absolute deadline, epoch ms. */
  deadline?: number;
  /** Relative deadline; the earlier of this and `deadline` wins. */
  timeoutMs?: number;
  /** Caller signal; its abort aborts the combined signal with the caller's reason. */
  signal?: AbortSignal;
}

export interface DeadlineSignal {
  /** Aborted at the deadline (reason: a TimeoutError) or when the caller's signal aborts. */
  signal: AbortSignal;
  /** Effective deadline, epoch ms (`Infinity` when neither deadline nor timeoutMs was given). */
  deadline: number;
  /** Clears the timer and the listener on the caller's signal. Idempotent. */
  dispose(): void;
}

/** Computes the effective absolute deadline of `deadline` and `timeoutMs` (Infinity if none). */
export function effectiveDeadline(
  options: { deadline?: number; timeoutMs?: number },
  now = Date.now(),
): number {
  let deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  if (options.timeoutMs !== undefined) deadline = Math.min(deadline, now + options.timeoutMs);
  return deadline;
}

/**
 * Combines a caller's AbortSignal with a deadline timer into one signal. The reason tells the two
 * apart: a TimeoutError (code TIMEOUT) for the deadline, the caller's own reason for an abort;
 * `abortReasonToError` maps either to the right typed error. Call `dispose()` when done.
 */
export function deadlineSignal(options: DeadlineOptions): DeadlineSignal {
  const started = Date.now();
  const deadline = effectiveDeadline(options, started);
  const controller = new AbortController();
  const caller = options.signal;
  let timer: NodeJS.Timeout | undefined;
  const onCallerAbort = () => {
    cleanup();
    controller.abort(caller!.reason);
  };
  const cleanup = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    caller?.removeEventListener('abort', onCallerAbort);
  };
  if (caller?.aborted) {
    controller.abort(caller.reason);
  } else {
    caller?.addEventListener('abort', onCallerAbort, { once: true });
    const remaining = deadline - started;
    const timeoutMs = Math.round(deadline - started);
    const expire = () => {
      cleanup();
      controller.abort(new TimeoutError(`deadline of ${timeoutMs}ms exceeded`, { timeoutMs }));
    };
    if (remaining <= 0) expire();
    else if (remaining <= MAX_TIMER_MS) timer = setTimeout(expire, remaining);
  }
  return { signal: controller.signal, deadline, dispose: cleanup };
}

/** True when an abort reason means "deadline reached" rather than "caller gave up". */
export function isTimeoutReason(reason: unknown): boolean {
  if (VmsError.hasCode(reason, 'TIMEOUT')) return true;
  // AbortSignal.timeout() aborts with a DOMException named TimeoutError.
  return (
    typeof reason === 'object' &&
    reason !== null &&
    (reason as { name?: unknown }).name === 'TimeoutError'
  );
}

/**
 * Maps an aborted signal to the typed error to throw: TimeoutError (`timed out after Nms:
 * <description>`) when it aborted at a deadline, AbortedError (`aborted: <description>`) when the
 * caller aborted. The original reason is kept as `cause`.
 */
export function abortReasonToError(
  signal: AbortSignal,
  description: string,
): TimeoutError | AbortedError {
  const reason: unknown = signal.reason;
  if (isTimeoutReason(reason)) {
    const timeoutMs = (reason as { timeoutMs?: unknown }).timeoutMs;
    const ms = typeof timeoutMs === 'number' ? timeoutMs : undefined;
    return new TimeoutError(
      `timed out${ms === undefined ? '' : ` after ${ms}ms`}: ${description}`,
      {
        cause: reason,
        ...(ms === undefined ? {} : { timeoutMs: ms }),
      },
    );
  }
  return new AbortedError(`aborted: ${description}`, { cause: reason });
}

/** An error a probe throws to stop `waitFor` at once (marked `fatal: true`). */
export type FatalError = Error & { fatal: true };

/**
 * Marks an error as fatal: thrown from a `waitFor` probe it ends the wait at once with that error
 * instead of being retried. Non-Error values are wrapped in an Error.
 */
export function fatal(error: unknown): FatalError {
  const err = error instanceof Error ? error : new Error(String(error));
  Object.defineProperty(err, 'fatal', { value: true, enumerable: false, configurable: true });
  return err as FatalError;
}

function isFatal(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && (error as { fatal?: unknown }).fatal === true
  );
}

export interface WaitForOptions {
  /** What is awaited, for messages: `timed out after 5000ms waiting for <description>`. */
  description: string;
  /** Absolute deadline, epoch ms. One of deadline/timeoutMs is required. */
  deadline?: number;
  /** Relative deadline. */
  timeoutMs?: number;
  signal?: AbortSignal;
  backoff?: BackoffOptions;
  /** Each attempt's signal also aborts after this long; the attempt then counts as failed. */
  attemptTimeoutMs?: number;
}

export interface ProbeAttempt {
  /** Aborted at the attempt timeout, the deadline, or a caller abort. */
  signal: AbortSignal;
  /** 1 for the first attempt. */
  attempt: number;
}

const waitForOptionsSchema = lazySchema(() =>
  z.object({
    description: z.string().min(1),
    deadline: z.number().optional(),
    timeoutMs: z.number().min(0).optional(),
    signal: z.instanceof(AbortSignal).optional(),
    backoff: z.unknown().optional(),
    attemptTimeoutMs: z.number().positive().optional(),
  }),
);

/**
 * Polls `probe` until it returns a value other than undefined/false/null, and returns that value.
 * Probes at once, then after each backoff delay (never sleeping past the deadline). A probe's
 * error is remembered and retried; at the deadline the TimeoutError names the last one (also its
 * `cause`). A probe error marked with `fatal()` ends the wait at once. A caller abort throws
 * AbortedError. A probe that ignores its signal cannot hold the wait past its deadline.
 */
export async function waitFor<T>(
  probe: (attempt: ProbeAttempt) => Promise<T | undefined | false | null>,
  options: WaitForOptions,
): Promise<NonNullable<Exclude<T, false>>> {
  parseOptions(waitForOptionsSchema(), options);
  if (options.deadline === undefined && options.timeoutMs === undefined) {
    throw new InvalidOptionsError([
      {
        path: 'timeoutMs',
        message: `waiting for ${options.description} needs a deadline or timeoutMs`,
      },
    ]);
  }
  const started = Date.now();
  const overall = deadlineSignal(options);
  const delays = backoffDelays(options.backoff);
  let lastError: unknown;
  const fail = (): never => {
    const reason: unknown = overall.signal.reason;
    if (isTimeoutReason(reason) || Date.now() >= overall.deadline) {
      const ms = Math.round(overall.deadline - started);
      const last = lastError === undefined ? '' : ` (last error: ${errorMessage(lastError)})`;
      throw new TimeoutError(`timed out after ${ms}ms waiting for ${options.description}${last}`, {
        cause: lastError ?? reason,
        timeoutMs: ms,
      });
    }
    throw new AbortedError(`aborted while waiting for ${options.description}`, { cause: reason });
  };
  try {
    for (let attempt = 1; ; attempt++) {
      if (overall.signal.aborted || Date.now() >= overall.deadline) fail();
      const per = deadlineSignal({ signal: overall.signal, timeoutMs: options.attemptTimeoutMs });
      try {
        const value = await raceAbort(probe({ signal: per.signal, attempt }), per.signal);
        if (value !== undefined && value !== null && value !== false) {
          return value as NonNullable<Exclude<T, false>>;
        }
      } catch (error) {
        if (isFatal(error)) throw error;
        if (overall.signal.aborted) fail();
        lastError = per.signal.aborted ? abortReasonToError(per.signal, 'probe attempt') : error;
      } finally {
        per.dispose();
      }
      const remaining = overall.deadline - Date.now();
      if (remaining <= 0) fail();
      try {
        await sleep(Math.min(delays.next().value, remaining), overall.signal);
      } catch {
        fail();
      }
    }
  } finally {
    overall.dispose();
  }
}

/** Rejects as soon as `signal` aborts, whatever `promise` does (its late rejection is swallowed). */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {});
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
