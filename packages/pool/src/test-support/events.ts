/** Test helpers: wait for a pool event (with a deadline), collect events. Not shipped. */
import type { PoolEventName, PoolEvents } from '../events.js';
import type { Pool } from '../pool.js';

/** Resolves with the next `event` matching `predicate`; subscribe before triggering it. */
export function nextEvent<K extends PoolEventName>(
  pool: Pool,
  event: K,
  predicate: (payload: PoolEvents[K]) => boolean = () => true,
  timeoutMs = 60_000,
): Promise<PoolEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${event} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = pool.on(event, (payload) => {
      if (!predicate(payload)) return;
      clearTimeout(timer);
      off();
      resolve(payload);
    });
  });
}

/** Every `event` from now on, as it arrives. */
export function collect<K extends PoolEventName>(pool: Pool, event: K): PoolEvents[K][] {
  const seen: PoolEvents[K][] = [];
  pool.on(event, (payload) => seen.push(payload));
  return seen;
}

/** A promise's outcome without awaiting it, for asserting an acquire is still pending. */
export function track<T>(promise: Promise<T>): { settled: () => boolean; promise: Promise<T> } {
  let done = false;
  promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  return { settled: () => done, promise };
}
