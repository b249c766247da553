/**
 * The serial console log: waiting for lines in it (event-driven through fs.watch, with a slow
 * safety poll that also checks the VM is still alive), following it, and reading the guest's SSH
 * host keys from it (cloud-init's "BEGIN SSH HOST KEY KEYS" block).
 */
import { watch } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { AbortedError, TimeoutError } from '@vms/core';
import { normalizeKey } from './host-keys.js';

export async function readFrom(path: string, offset: number): Promise<Buffer> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, 'r');
    const size = (await handle.stat()).size;
    if (size <= offset) return Buffer.alloc(0);
    const buffer = Buffer.alloc(size - offset);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
    return buffer.subarray(0, bytesRead);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw error;
  } finally {
    await handle?.close();
  }
}

export async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

export interface ConsoleWaitOptions {
  signal: AbortSignal;
  deadline: number;
  /** What is awaited, for the timeout message. */
  description: string;
  /** Returns a reason when the VM died (ends the wait with an error). */
  dead?: () => string | undefined;
  /** Safety poll interval (default 250 ms); file changes are seen at once through fs.watch. */
  pollMs?: number;
}

/**
 * Resolves with the first non-undefined `match(text)` over the log's content after `fromOffset`.
 * Returns as soon as the file changes (inotify), not on a poll tick.
 */
export function waitForConsole<T>(
  path: string,
  fromOffset: number,
  match: (text: string) => T | undefined,
  options: ConsoleWaitOptions,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let checking = false;
    let again = false;
    let watcher: ReturnType<typeof watch> | undefined;
    const finish = (error: Error | undefined, value?: T) => {
      if (done) return;
      done = true;
      watcher?.close();
      clearInterval(poll);
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(value as T);
    };
    const check = async () => {
      if (done) return;
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      try {
        do {
          again = false;
          const text = (await readFrom(path, fromOffset)).toString('utf8');
          const value = match(text);
          if (value !== undefined) return finish(undefined, value);
        } while (again && !done);
        const reason = options.dead?.();
        if (reason) finish(new AbortedError(`${options.description}: ${reason}`));
      } catch (error) {
        finish(error as Error);
      } finally {
        checking = false;
      }
    };
    const onAbort = () =>
      finish(
        new AbortedError(`aborted while waiting for ${options.description}`, {
          cause: options.signal.reason,
        }),
      );
    const remaining = options.deadline - Date.now();
    const timer = setTimeout(
      () =>
        finish(
          new TimeoutError(`timed out waiting for ${options.description}`, {
            timeoutMs: remaining,
          }),
        ),
      Math.max(0, remaining),
    );
    const poll = setInterval(check, options.pollMs ?? 250);
    if (options.signal.aborted) return onAbort();
    options.signal.addEventListener('abort', onAbort, { once: true });
    try {
      watcher = watch(path, { persistent: false }, () => void check());
      watcher.on('error', () => {});
    } catch {
      // the file does not exist yet: the poll covers it
    }
    void check();
  });
}

/** Lines whose text contains `marker`, as a matcher for waitForConsole. */
export function lineWith(marker: string): (text: string) => string | undefined {
  return (text) => text.split(/\r?\n/).find((l) => l.includes(marker));
}

const BEGIN = '-----BEGIN SSH HOST KEY KEYS-----';
const END = '-----END SSH HOST KEY KEYS-----';

/** The host public keys of the last complete block, as `type base64` strings; undefined if none. */
export function parseHostKeys(text: string): string[] | undefined {
  const end = text.lastIndexOf(END);
  if (end < 0) return undefined;
  const begin = text.lastIndexOf(BEGIN, end);
  if (begin < 0) return undefined;
  const keys = text
    .slice(begin + BEGIN.length, end)
    .split(/\r?\n/)
    .map(normalizeKey)
    .filter((k): k is string => k !== undefined);
  return keys.length > 0 ? keys : undefined;
}

/** Follows a file from `offset`, calling onData with new bytes until `signal` aborts. */
export async function followFile(
  path: string,
  offset: number,
  onData: (chunk: Buffer) => void,
  signal: AbortSignal,
): Promise<void> {
  let position = offset;
  const pump = async () => {
    const chunk = await readFrom(path, position);
    if (chunk.length > 0) {
      position += chunk.length;
      onData(chunk);
    }
  };
  await pump();
  if (signal.aborted) return;
  await new Promise<void>((resolve) => {
    let busy = Promise.resolve();
    const kick = () => {
      busy = busy.then(pump).catch(() => {});
    };
    const watcher = watch(path, { persistent: false }, kick);
    watcher.on('error', () => {});
    const poll = setInterval(kick, 500);
    signal.addEventListener(
      'abort',
      () => {
        watcher.close();
        clearInterval(poll);
        void busy.then(pump).finally(resolve);
      },
      { once: true },
    );
  });
}
