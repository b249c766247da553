/**
 * Cross-process lock on a path: an O_EXCL-created lock file holding who owns it. The holder's
 * process start time is recorded next to its PID so a lock left by a dead process is recognised
 * even when its PID was reused, and such a stale lock is taken over safely.
 */
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { InvalidOptionsError, LockedError, VmsError } from './errors.js';
import { randomHex } from './ids.js';
import { lazySchema, parseOptions } from './options.js';
import { fatal, waitFor } from './wait.js';
import * as z from './zod.js';

/** A steal guard older than this is itself left over from a crashed stealer. */
const STEAL_GUARD_STALE_MS = 10_000;
/** A lock file with unreadable content younger than this is being written right now. */
const FRESH_LOCK_GRACE_MS = 5_000;

export interface LockOptions {
  /** How long to wait for the holder to release (default 30000 ms). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** What is being locked, for messages ("lock of qemu:web"). */
  description?: string;
}

export interface LockHandle {
  /** The lock file. */
  path: string;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): Promise<void>;
}

/** What a lock file holds. */
export interface LockOwner {
  pid: number;
  /** Process start time in clock ticks since boot (/proc/<pid>/stat field 22); null off Linux. */
  startTime: number | null;
  hostname: string;
  /** ISO time the lock was taken. */
  acquiredAt: string;
  /** Distinguishes two acquisitions by the same process. */
  token: string;
}

const lockOptionsSchema = lazySchema(() =>
  z.object({
    timeoutMs: z.number().min(0).optional(),
    signal: z.instanceof(AbortSignal).optional(),
    description: z.string().min(1).optional(),
  }),
);

/**
 * Start time of a process (clock ticks since boot) from /proc/<pid>/stat, or null when it cannot
 * be read (no such process, not Linux). Together with the PID it identifies a process uniquely.
 */
export function processStartTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) is in parentheses and may contain spaces: fields after it start at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const value = Number(fields[19]); // field 22 overall; fields[0] is field 3
    return Number.isFinite(value) ? value : null;
  } catch {
    return null;
  }
}

/**
 * Whether a live process has this PID (EPERM means it exists but is not ours). A zombie counts as
 * dead: where PID 1 does not reap orphans (some containers and sandboxes), a dead process stays a
 * zombie forever and `kill(pid, 0)` alone would call it alive.
 */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return processState(pid) !== 'Z';
}

/** The state letter of /proc/<pid>/stat (R, S, D, Z, …), or null when it cannot be read. */
export function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) || null;
  } catch {
    return null;
  }
}

let selfStartTime: number | null | undefined;

function ownerRecord(): LockOwner {
  selfStartTime ??= processStartTime(process.pid);
  return {
    pid: process.pid,
    startTime: selfStartTime,
    hostname: hostname(),
    acquiredAt: new Date().toISOString(),
    token: randomHex(8),
  };
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    if (typeof value.pid !== 'number' || !Number.isInteger(value.pid) || value.pid <= 0)
      return undefined;
    return {
      pid: value.pid,
      startTime: typeof value.startTime === 'number' ? value.startTime : null,
      hostname: typeof value.hostname === 'string' ? value.hostname : '',
      acquiredAt: typeof value.acquiredAt === 'string' ? value.acquiredAt : '',
      token: typeof value.token === 'string' ? value.token : '',
    };
  } catch {
    return undefined;
  }
}

/**
 * Whether a lock's holder is gone: its PID does not exist, or exists with another start time (the
 * PID was reused). Locks from another host are never considered stale: we cannot see its processes.
 */
export function isStaleOwner(owner: LockOwner): boolean {
  if (owner.hostname !== hostname()) return false;
  if (!pidExists(owner.pid)) return true;
  if (owner.startTime === null) return false;
  const actual = processStartTime(owner.pid);
  return actual !== null && actual !== owner.startTime;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function unlinkIfExists(path: string): Promise<void> {
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

/** Creates `path` exclusively with `content`; false when it exists already. */
async function createExclusive(path: string, content: string): Promise<boolean> {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await file.writeFile(content);
    await file.sync();
  } catch (error) {
    await file.close().catch(() => {});
    await unlinkIfExists(path);
    throw error;
  }
  await file.close();
  return true;
}

/**
 * Removes a stale lock whose content is `staleText`, under a short-lived `<path>.steal` guard so
 * two processes cannot both steal (one of them removing the other's fresh lock).
 */
async function stealStale(path: string, staleText: string): Promise<void> {
  const guard = `${path}.steal`;
  if (!(await createExclusive(guard, String(process.pid)))) {
    const info = await stat(guard).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > STEAL_GUARD_STALE_MS) await unlinkIfExists(guard);
    return;
  }
  try {
    if ((await readText(path)) === staleText) await unlinkIfExists(path);
  } finally {
    await unlinkIfExists(guard);
  }
}

/**
 * Takes the lock at `path`, waiting (capped backoff) while another live process or another
 * acquisition in this process holds it. Creates the parent directory (0700) when needed. Stale
 * locks (holder dead, or PID reused) are taken over. Throws LockedError naming the holder's PID
 * when `timeoutMs` (default 30 s) passes while another owner holds it (TimeoutError when it passes
 * before anyone was seen holding it), AbortedError when `signal` aborts.
 */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<LockHandle> {
  parseOptions(lockOptionsSchema(), options);
  if (typeof path !== 'string' || path.length === 0) {
    throw new InvalidOptionsError([
      { path: 'path', message: 'the lock path must be a non-empty string' },
    ]);
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const owner = ownerRecord();
  const content = `${JSON.stringify(owner)}\n`;
  let holderPid: number | undefined;
  /** Whether another owner was seen holding the lock: only then is giving up LOCKED. */
  let held = false;
  try {
    await waitFor(
      async ({ signal }) => {
        for (;;) {
          // A file system error (a full disk, no permission) is not "held by another process":
          // it ends the wait at once with that error.
          const created = await createExclusive(path, content).catch((error: unknown) => {
            throw fatal(error);
          });
          if (created) {
            // The wait may have given up (deadline, abort) while we were creating: undo.
            if (!signal.aborted) return true;
            await unlinkIfExists(path);
            return false;
          }
          const text = await readText(path);
          if (text === undefined) continue; // released between our create and read: try again
          const holder = parseOwner(text);
          holderPid = holder?.pid;
          held = true;
          if (holder ? isStaleOwner(holder) : await isAbandonedUnreadable(path)) {
            await stealStale(path, text);
            if ((await readText(path)) !== text) continue; // gone (or replaced): try again at once
          }
          return false;
        }
      },
      {
        description: options.description ?? `lock ${path}`,
        timeoutMs: options.timeoutMs ?? 30_000,
        ...(options.signal ? { signal: options.signal } : {}),
        backoff: { initialMs: 10, maxMs: 250 },
      },
    );
  } catch (error) {
    // A deadline that passed before anyone was seen holding the lock is a plain timeout.
    if (VmsError.hasCode(error, 'TIMEOUT') && held)
      throw new LockedError(path, holderPid, { cause: error });
    throw error;
  }
  let released: Promise<void> | undefined;
  return {
    path,
    release() {
      released ??= (async () => {
        if ((await readText(path)) === content) await unlinkIfExists(path);
      })();
      return released;
    },
  };
}

/** A lock file without valid content that is older than a writer needs: left by a crash mid-write. */
async function isAbandonedUnreadable(path: string): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  return info !== undefined && Date.now() - info.mtimeMs > FRESH_LOCK_GRACE_MS;
}

/** Runs `fn` while holding the lock at `path`, releasing it afterwards whatever happens. */
export async function withLock<T>(
  path: string,
  fn: (lock: LockHandle) => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const lock = await acquireLock(path, options);
  try {
    return await fn(lock);
  } finally {
    await lock.release();
  }
}
