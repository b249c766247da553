import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortedError, InvalidOptionsError, LockedError } from './errors.js';
import {
  acquireLock,
  isStaleOwner,
  type LockOwner,
  pidExists,
  processStartTime,
  processState,
  withLock,
} from './lock.js';
import { fillDisk, mountSmallDisk, smallDiskUnavailableReason } from './testing/faults.js';

const run = promisify(execFile);
let dir: string;
let counter = 0;
const lockPath = () => join(dir, `locks-${++counter}`, 'test.lock');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vms-lock-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** PID of a process that has exited: a child we started and waited for. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

function owner(overrides: Partial<LockOwner>): string {
  return JSON.stringify({
    pid: process.pid,
    startTime: processStartTime(process.pid),
    hostname: hostname(),
    acquiredAt: new Date().toISOString(),
    token: 'other',
    ...overrides,
  });
}

describe('acquireLock', () => {
  it('creates the lock file (0600, in a 0700 dir) with the owner, and release removes it', async () => {
    const path = lockPath();
    const lock = await acquireLock(path);
    const content = JSON.parse(await readFile(path, 'utf8')) as LockOwner;
    expect(content.pid).toBe(process.pid);
    expect(content.hostname).toBe(hostname());
    expect(content.startTime).toBe(processStartTime(process.pid));
    expect(typeof content.acquiredAt).toBe('string');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(path, '..'))).mode & 0o777).toBe(0o700);
    await lock.release();
    expect(existsSync(path)).toBe(false);
    await lock.release(); // idempotent
  });

  it('a second acquirer in the same process waits until the first releases', async () => {
    const path = lockPath();
    const first = await acquireLock(path);
    let secondHeld = false;
    const second = acquireLock(path, { timeoutMs: 20_000 }).then((lock) => {
      secondHeld = true;
      return lock;
    });
    // Let the second acquirer find the lock held at least once before releasing.
    await expect(acquireLock(path, { timeoutMs: 50 })).rejects.toBeInstanceOf(LockedError);
    expect(secondHeld).toBe(false);
    await first.release();
    const lock = await second;
    expect(JSON.parse(await readFile(path, 'utf8')).pid).toBe(process.pid);
    // A late release of the first handle must not remove the second holder's lock.
    await first.release();
    expect(existsSync(path)).toBe(true);
    await lock.release();
  });

  it('times out with LockedError naming the holder pid', async () => {
    const path = lockPath();
    const lock = await acquireLock(path);
    const error = await acquireLock(path, { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockedError);
    expect((error as LockedError).holderPid).toBe(process.pid);
    expect((error as LockedError).message).toContain(`pid ${process.pid}`);
    expect((error as LockedError).lockPath).toBe(path);
    await lock.release();
  });

  it('throws AbortedError when the caller aborts the wait', async () => {
    const path = lockPath();
    const lock = await acquireLock(path);
    const controller = new AbortController();
    const waiting = acquireLock(path, { timeoutMs: 60_000, signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
    await lock.release();
  });

  it('rejects invalid options naming the field', async () => {
    const error = await acquireLock(lockPath(), { timeoutMs: -1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).field).toBe('timeoutMs');
  });

  it('recovers a stale lock whose holder pid is dead', async () => {
    const path = lockPath();
    const pid = await deadPid();
    await acquireLock(path).then((l) => l.release()); // creates the directory
    await writeFile(path, owner({ pid, startTime: 12345 }));
    const lock = await acquireLock(path, { timeoutMs: 5000 });
    expect(JSON.parse(await readFile(path, 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });

  it('treats a lock with our own live pid but another start time as stale (pid reuse)', async () => {
    const path = lockPath();
    await acquireLock(path).then((l) => l.release());
    const startTime = processStartTime(process.pid);
    expect(startTime).not.toBeNull();
    const reused = owner({ startTime: startTime! - 1 });
    expect(isStaleOwner(JSON.parse(reused) as LockOwner)).toBe(true);
    await writeFile(path, reused);
    const lock = await acquireLock(path, { timeoutMs: 5000 });
    expect(JSON.parse(await readFile(path, 'utf8')).token).not.toBe('other');
    await lock.release();
  });

  it('does not steal a live holder (same pid, same start time) or a lock from another host', () => {
    expect(isStaleOwner(JSON.parse(owner({})) as LockOwner)).toBe(false);
    expect(
      isStaleOwner(
        JSON.parse(owner({ hostname: 'some-other-host', pid: 999_999_999 })) as LockOwner,
      ),
    ).toBe(false);
  });

  it('withLock releases after the function, also when it throws', async () => {
    const path = lockPath();
    await expect(withLock(path, async (lock) => lock.path)).resolves.toBe(path);
    expect(existsSync(path)).toBe(false);
    await expect(
      withLock(path, async () => {
        throw new Error('inside');
      }),
    ).rejects.toThrow('inside');
    expect(existsSync(path)).toBe(false);
  });
});

const fixture = fileURLToPath(new URL('./__fixtures__/lock-worker.mjs', import.meta.url));
const built = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const hasBuild = existsSync(built);
if (!hasBuild)
  console.warn(`skipping cross-process lock test: ${built} is missing (run pnpm build first)`);

describe('acquireLock across processes', () => {
  it.skipIf(!hasBuild)(
    'six Node processes never hold the lock at the same time',
    { timeout: 180_000 },
    async () => {
      const path = lockPath();
      const log = join(dir, `contention-${counter}.log`);
      await writeFile(log, '');
      const rounds = 15;
      await Promise.all(
        Array.from({ length: 6 }, () =>
          run(process.execPath, [fixture, path, log, String(rounds)], { timeout: 170_000 }),
        ),
      );
      const lines = (await readFile(log, 'utf8')).trim().split('\n');
      expect(lines).toHaveLength(6 * rounds * 2);
      let holder: string | undefined;
      for (const line of lines) {
        const [event, pid] = line.split(' ');
        if (event === 'start') {
          expect(holder, `start by ${pid} while ${holder} holds the lock`).toBeUndefined();
          holder = pid;
        } else {
          expect(pid).toBe(holder);
          holder = undefined;
        }
      }
      expect(existsSync(path)).toBe(false);
    },
  );
});

describe('pidExists', () => {
  it('calls a zombie dead', async () => {
    // `sleep 0` exits at once; its parent exec()s into `sleep 30`, which never reaps it: a zombie.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      const zombie = await new Promise<number>((resolve) =>
        parent.stdout.once('data', (d) => resolve(Number(String(d).trim()))),
      );
      const deadline = Date.now() + 10_000;
      while (processState(zombie) !== 'Z' && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      expect(processState(zombie)).toBe('Z');
      expect(pidExists(zombie)).toBe(false);
      expect(pidExists(parent.pid!)).toBe(true);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});

describe('acquireLock on a file system that fails', () => {
  const noDisk = smallDiskUnavailableReason();
  it.skipIf(noDisk !== undefined)(
    'a full disk fails at once with ENOSPC (not as LOCKED at the deadline) and leaves no lock file',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'vms-lock-full-'));
      const disk = mountSmallDisk(dir, 64);
      try {
        fillDisk(dir);
        const started = Date.now();
        await expect(acquireLock(join(dir, 'x.lock'), { timeoutMs: 20_000 })).rejects.toMatchObject(
          {
            code: 'ENOSPC',
          },
        );
        expect(Date.now() - started).toBeLessThan(10_000);
        expect(existsSync(join(dir, 'x.lock'))).toBe(false);
      } finally {
        disk.unmount();
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
