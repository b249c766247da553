import { describe, expect, it } from 'vitest';
import { AbortedError, InvalidOptionsError, TimeoutError } from './errors.js';
import {
  abortReasonToError,
  backoffDelays,
  deadlineSignal,
  fatal,
  sleep,
  waitFor,
} from './wait.js';

describe('sleep', () => {
  it('resolves after the delay', async () => {
    await expect(sleep(5)).resolves.toBeUndefined();
  });

  it('rejects with AbortedError when aborted, also when aborted before', async () => {
    const controller = new AbortController();
    const pending = sleep(60_000, controller.signal);
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    await expect(sleep(60_000, controller.signal)).rejects.toBeInstanceOf(AbortedError);
  });

  it('rejects with TimeoutError when its signal is a deadline signal that expires', async () => {
    const limit = deadlineSignal({ timeoutMs: 10 });
    await expect(sleep(60_000, limit.signal)).rejects.toBeInstanceOf(TimeoutError);
    limit.dispose();
  });
});

describe('backoffDelays', () => {
  it('grows by factor, stays within ±jitter and never exceeds maxMs', () => {
    const delays = backoffDelays({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.2 });
    const bases = [100, 200, 400, 800, 1000, 1000, 1000];
    for (const base of bases) {
      const delay = delays.next().value;
      expect(delay).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
      expect(delay).toBeLessThanOrEqual(Math.min(1000, Math.ceil(base * 1.2)));
    }
  });

  it('without jitter is exactly geometric and capped', () => {
    const delays = backoffDelays({ initialMs: 10, maxMs: 50, factor: 3, jitter: 0 });
    expect([1, 2, 3, 4].map(() => delays.next().value)).toEqual([10, 30, 50, 50]);
  });

  it('rejects invalid options naming the field', () => {
    expect(() => backoffDelays({ jitter: 2 }).next()).toThrow(InvalidOptionsError);
    try {
      backoffDelays({ factor: 0.5 }).next();
    } catch (error) {
      expect((error as InvalidOptionsError).field).toBe('backoff.factor');
    }
  });
});

describe('deadlineSignal and abortReasonToError', () => {
  it('aborts at the deadline with a timeout reason', async () => {
    const limit = deadlineSignal({ timeoutMs: 20 });
    expect(limit.deadline).toBeLessThanOrEqual(Date.now() + 20);
    await new Promise((resolve) => limit.signal.addEventListener('abort', resolve, { once: true }));
    const error = abortReasonToError(limit.signal, 'the thing');
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.message).toBe('timed out after 20ms: the thing');
  });

  it('forwards a caller abort with its reason and maps it to AbortedError', () => {
    const controller = new AbortController();
    const limit = deadlineSignal({ timeoutMs: 60_000, signal: controller.signal });
    controller.abort(new Error('user pressed ctrl-c'));
    expect(limit.signal.aborted).toBe(true);
    const error = abortReasonToError(limit.signal, 'the thing');
    expect(error).toBeInstanceOf(AbortedError);
    expect((error.cause as Error).message).toBe('user pressed ctrl-c');
    limit.dispose();
  });

  it('takes the earlier of deadline and timeoutMs, and is never aborted without either', () => {
    const now = Date.now();
    const limit = deadlineSignal({ deadline: now + 1000, timeoutMs: 60_000 });
    expect(limit.deadline).toBe(now + 1000);
    limit.dispose();
    const open = deadlineSignal({});
    expect(open.deadline).toBe(Number.POSITIVE_INFINITY);
    expect(open.signal.aborted).toBe(false);
    open.dispose();
  });

  it('is aborted at once when the deadline has passed', () => {
    const limit = deadlineSignal({ deadline: Date.now() - 1 });
    expect(limit.signal.aborted).toBe(true);
    expect(abortReasonToError(limit.signal, 'x')).toBeInstanceOf(TimeoutError);
  });

  it('maps an upstream timeout reason (AbortSignal.timeout) to TimeoutError', async () => {
    const signal = AbortSignal.timeout(1);
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    expect(abortReasonToError(signal, 'x')).toBeInstanceOf(TimeoutError);
  });
});

describe('waitFor', () => {
  it('probes at once and returns the first truthy value', async () => {
    const attempts: number[] = [];
    const value = await waitFor(
      async ({ attempt }) => {
        attempts.push(attempt);
        return attempt >= 3 ? { ready: attempt } : attempt === 1 ? false : undefined;
      },
      { description: 'third attempt', timeoutMs: 10_000, backoff: { initialMs: 1, maxMs: 5 } },
    );
    expect(value).toEqual({ ready: 3 });
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('returns falsy-but-valid values such as 0 and empty string', async () => {
    await expect(waitFor(async () => 0, { description: 'zero', timeoutMs: 1000 })).resolves.toBe(0);
    await expect(waitFor(async () => '', { description: 'empty', timeoutMs: 1000 })).resolves.toBe(
      '',
    );
  });

  it('times out naming the description and the last probe error', async () => {
    const error = await waitFor(
      async () => {
        throw new Error('connection refused');
      },
      { description: 'the service', timeoutMs: 100, backoff: { initialMs: 5, maxMs: 20 } },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).message).toMatch(
      /^timed out after 100ms waiting for the service/,
    );
    expect((error as TimeoutError).message).toContain('connection refused');
    expect(((error as TimeoutError).cause as Error).message).toBe('connection refused');
  });

  it('never sleeps past the deadline (a 10-minute backoff would exceed the test timeout)', async () => {
    const error = await waitFor(async () => false, {
      description: 'never',
      timeoutMs: 50,
      backoff: { initialMs: 600_000, maxMs: 600_000 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
  });

  it('stops at once on a fatal probe error', async () => {
    let attempts = 0;
    const error = await waitFor(
      async () => {
        attempts++;
        throw fatal(new Error('the VM process exited'));
      },
      { description: 'boot', timeoutMs: 10_000 },
    ).catch((e: unknown) => e);
    expect((error as Error).message).toBe('the VM process exited');
    expect(attempts).toBe(1);
  });

  it('throws AbortedError when the caller aborts, even while a probe hangs', async () => {
    const controller = new AbortController();
    let probeSignal: AbortSignal | undefined;
    const pending = waitFor(
      ({ signal }) => {
        probeSignal = signal;
        controller.abort();
        return new Promise<boolean>(() => {});
      },
      { description: 'a hanging probe', timeoutMs: 60_000, signal: controller.signal },
    );
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    expect(probeSignal?.aborted).toBe(true);
  });

  it('gives each attempt a signal aborted at attemptTimeoutMs and keeps retrying', async () => {
    const value = await waitFor(
      ({ attempt, signal }) =>
        attempt === 1
          ? new Promise<string>((_, reject) =>
              signal.addEventListener('abort', () => reject(signal.reason)),
            )
          : Promise.resolve('second'),
      {
        description: 'retry after a hung attempt',
        timeoutMs: 30_000,
        attemptTimeoutMs: 20,
        backoff: { initialMs: 1 },
      },
    );
    expect(value).toBe('second');
  });

  it('requires a deadline', async () => {
    await expect(waitFor(async () => true, { description: 'forever' })).rejects.toBeInstanceOf(
      InvalidOptionsError,
    );
  });
});
