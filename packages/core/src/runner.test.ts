import { execFile, spawn as spawnChild } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortedError,
  CommandFailedError,
  InvalidOptionsError,
  TimeoutError,
  ToolNotFoundError,
} from './errors.js';
import {
  createRunner,
  defaultRunner,
  formatArgv,
  mergeEnv,
  redactText,
  type SpawnedProcess,
} from './runner.js';
import { waitFor } from './wait.js';

const runner = createRunner();
const execFileP = promisify(execFile);
const dieWithParentFixture = fileURLToPath(
  new URL('./__fixtures__/spawn-die-with-parent.mjs', import.meta.url),
);
const unrefFixture = fileURLToPath(new URL('./__fixtures__/spawn-unref.mjs', import.meta.url));
const detachedFixture = fileURLToPath(
  new URL('./__fixtures__/spawn-detached.mjs', import.meta.url),
);
const built = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const hasBuild = existsSync(built);
if (!hasBuild)
  console.warn(`skipping the detached-survival test: ${built} is missing (run pnpm build first)`);
let dir: string;
/** PIDs and groups a test started; killed after each test whatever happened. */
const started: number[] = [];
const spawned: SpawnedProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vms-runner-'));
});
afterEach(() => {
  for (const pid of started.splice(0)) kill(pid, 'SIGKILL');
  for (const proc of spawned.splice(0)) proc.kill('SIGKILL');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function kill(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Waits (bounded) until `file` holds a PID, and returns it. */
async function readPid(file: string): Promise<number> {
  return waitFor(
    async () => {
      const text = await readFile(file, 'utf8').catch(() => '');
      const pid = Number.parseInt(text.trim(), 10);
      return Number.isFinite(pid) && pid > 0 ? pid : undefined;
    },
    { description: `pid in ${file}`, timeoutMs: 15_000, backoff: { initialMs: 10, maxMs: 100 } },
  );
}

async function waitGone(pid: number): Promise<void> {
  await waitFor(async () => !alive(pid), {
    description: `pid ${pid} to exit`,
    timeoutMs: 15_000,
    backoff: { initialMs: 10, maxMs: 200 },
  });
}

describe('createRunner().run', () => {
  it('returns stdout, stderr and exit code of a successful command', async () => {
    const result = await runner.run(['sh', '-c', 'printf out; printf err >&2']);
    expect(result).toMatchObject({
      argv: ['sh', '-c', 'printf out; printf err >&2'],
      exitCode: 0,
      stdout: 'out',
      stderr: 'err',
      truncated: false,
    });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('throws CommandFailedError with exit code and stderr tail on a failing exit code', async () => {
    const error = await runner
      .run(['sh', '-c', 'echo first >&2; echo "the real reason" >&2; exit 3'])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandFailedError);
    const failed = error as CommandFailedError;
    expect(failed.exitCode).toBe(3);
    expect(failed.stderrTail).toContain('the real reason');
    expect(failed.message).toContain('exit code 3');
    expect(failed.message).toContain('the real reason');
    expect(failed.argv[0]).toBe('sh');
  });

  it('resolves exit codes listed in okExitCodes, and any code with "any"', async () => {
    await expect(
      runner.run(['sh', '-c', 'exit 2'], { okExitCodes: [0, 2] }),
    ).resolves.toMatchObject({ exitCode: 2 });
    await expect(runner.run(['sh', '-c', 'exit 7'], { okExitCodes: 'any' })).resolves.toMatchObject(
      { exitCode: 7 },
    );
    await expect(runner.run(['sh', '-c', 'exit 0'], { okExitCodes: [1] })).rejects.toBeInstanceOf(
      CommandFailedError,
    );
  });

  it('maps a missing executable to ToolNotFoundError', async () => {
    const error = await runner.run(['vms-no-such-tool-xyz', '--version']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolNotFoundError);
    expect((error as ToolNotFoundError).tool).toBe('vms-no-such-tool-xyz');
  });

  it('rejects an empty argv with InvalidOptionsError naming the field', async () => {
    const error = await runner.run([]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).field).toBe('argv');
    expect(() => runner.spawn([''])).toThrow(InvalidOptionsError);
  });

  it('feeds stdin from a string, bytes or a stream, and ignores it when none is given', async () => {
    await expect(runner.run(['cat'], { stdin: 'hello\n' })).resolves.toMatchObject({
      stdout: 'hello\n',
    });
    await expect(
      runner.run(['cat'], { stdin: new TextEncoder().encode('bytes') }),
    ).resolves.toMatchObject({ stdout: 'bytes' });
    await expect(
      runner.run(['cat'], { stdin: Readable.from(['a', 'b', 'c']) }),
    ).resolves.toMatchObject({ stdout: 'abc' });
    // No stdin: `cat` reads /dev/null and ends at once instead of waiting on a terminal.
    await expect(runner.run(['cat'], { timeoutMs: 20_000 })).resolves.toMatchObject({ stdout: '' });
  });

  it('merges env over process.env and removes variables set to undefined', async () => {
    process.env.VMS_RUNNER_TEST_REMOVE = 'present';
    try {
      const r = createRunner({ env: { VMS_RUNNER_A: 'from-settings' } });
      const result = await r.run(
        [
          'sh',
          '-c',
          'echo "$VMS_RUNNER_A|$VMS_RUNNER_B|$(printenv VMS_RUNNER_TEST_REMOVE || echo unset)|$(test -n "$HOME" && echo home)"',
        ],
        {
          env: { VMS_RUNNER_B: 'from-options', VMS_RUNNER_TEST_REMOVE: undefined },
        },
      );
      expect(result.stdout.trim()).toBe('from-settings|from-options|unset|home');
    } finally {
      delete process.env.VMS_RUNNER_TEST_REMOVE;
    }
    expect(mergeEnv({ A: '1' }, { A: undefined }).A).toBeUndefined();
  });

  it('caps collected output at maxOutputBytes and sets truncated, while streaming every chunk', async () => {
    let streamed = 0;
    const result = await runner.run(['sh', '-c', 'head -c 100000 /dev/zero | tr "\\0" x'], {
      maxOutputBytes: 1000,
      onStdout: (chunk) => {
        streamed += chunk.length;
      },
    });
    expect(result.stdout).toBe('x'.repeat(1000));
    expect(result.truncated).toBe(true);
    expect(streamed).toBe(100_000);
  });

  it('masks redacted strings in error messages, argv and debug lines', async () => {
    const lines: string[] = [];
    const r = createRunner({ debug: (line) => lines.push(line), redact: ['s3cr3t'] });
    const error = await r
      .run(['sh', '-c', 'echo "token hunter2 and s3cr3t" >&2; exit 1', 'hunter2'], {
        redact: ['hunter2'],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandFailedError);
    const failed = error as CommandFailedError;
    const everything = [failed.message, failed.stderrTail, ...failed.argv, ...lines].join('\n');
    expect(everything).not.toContain('hunter2');
    expect(everything).not.toContain('s3cr3t');
    expect(failed.argv).toContain('***');
    expect(lines.some((line) => line.startsWith('$ sh -c'))).toBe(true);
    expect(lines.some((line) => line.includes('exit 1'))).toBe(true);
    expect(redactText('a-secret-b', ['secret'])).toBe('a-***-b');
  });

  it('rejects with AbortedError soon after the caller aborts, killing the command', async () => {
    const controller = new AbortController();
    const pidFile = join(dir, 'abort.pid');
    const running = runner.run(['sh', '-c', `echo $$ > ${pidFile}; exec sleep 1000`], {
      signal: controller.signal,
    });
    const pid = await readPid(pidFile);
    started.push(pid);
    controller.abort();
    const error = await running.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as AbortedError).message).toContain('sh -c');
    await waitGone(pid);
  });

  it('rejects at once without starting anything when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const marker = join(dir, 'never-created');
    await expect(
      runner.run(['touch', marker], { signal: controller.signal }),
    ).rejects.toBeInstanceOf(AbortedError);
    await expect(stat(marker)).rejects.toThrow();
  });

  it('on deadline kills the whole tree, including a grandchild that ignores SIGTERM', async () => {
    // The child records its PID (= its process group), starts a grandchild that ignores SIGTERM
    // and records its own PID, then waits on it. On a loaded machine the grandchild may not have
    // started within 300 ms; then the round proves nothing and is repeated with a longer deadline.
    for (const timeoutMs of [300, 2000, 10_000]) {
      const groupFile = join(dir, `group-${timeoutMs}.pid`);
      const pidFile = join(dir, `grandchild-${timeoutMs}.pid`);
      const script = `echo $$ > ${groupFile}; sh -c 'trap "" TERM; echo $$ > ${pidFile}; while :; do sleep 1; done' & wait`;
      const error = await runner
        .run(['sh', '-c', script], { timeoutMs, killGraceMs: 500 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TimeoutError);
      expect((error as TimeoutError).message).toContain(`${timeoutMs}ms`);
      expect((error as TimeoutError).message).toContain('sh -c');
      const grandchildText = await readFile(pidFile, 'utf8').catch(() => '');
      if (!/^\d+\s*$/.test(grandchildText)) continue;
      const grandchild = Number.parseInt(grandchildText, 10);
      started.push(grandchild);
      await waitGone(grandchild);
      const group = await readPid(groupFile);
      await waitFor(async () => !kill(-group, 0), {
        description: `process group ${group} to be empty`,
        timeoutMs: 15_000,
      });
      return;
    }
    expect.fail('the grandchild never started, even with a 10 s deadline');
  });

  it('resolves when the direct child exits even if a background grandchild keeps the pipes open', async () => {
    const pidFile = join(dir, 'daemon.pid');
    const result = await runner.run(['sh', '-c', `sleep 1000 & echo $! > ${pidFile}; echo done`], {
      timeoutMs: 20_000,
    });
    started.push(await readPid(pidFile));
    expect(result.stdout).toBe('done\n');
  });

  it('turns a throwing output listener into a rejection and stops the command', async () => {
    const error = await runner
      .run(['sh', '-c', 'echo hi; exec sleep 1000'], {
        onStdout: () => {
          throw new Error('listener broke');
        },
      })
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe('listener broke');
  });

  it('defaultRunner runs commands', async () => {
    await expect(defaultRunner.run(['true'])).resolves.toMatchObject({ exitCode: 0 });
  });

  it('formats argv for debug lines with shell quoting', () => {
    expect(formatArgv(['echo', 'a b', "it's", '--x=1'])).toBe(`echo 'a b' 'it'\\''s' --x=1`);
  });
});

describe('createRunner().spawn', () => {
  it('a detached process survives on its own, logs to a file and is killable', async () => {
    const logFile = join(dir, 'detached.log');
    const proc = runner.spawn(['sh', '-c', 'echo started; exec sleep 1000'], {
      detached: true,
      logFile,
    });
    spawned.push(proc);
    expect(proc.pid).toBeGreaterThan(0);
    await waitFor(
      async () => (await readFile(logFile, 'utf8').catch(() => '')).includes('started'),
      {
        description: 'detached process to log',
        timeoutMs: 15_000,
      },
    );
    expect(alive(proc.pid)).toBe(true);
    proc.kill('SIGTERM');
    const exit = await proc.exited;
    expect(exit.signal).toBe('SIGTERM');
    expect(alive(proc.pid)).toBe(false);
  });

  it.skipIf(!hasBuild)(
    'a detached process outlives the process that spawned it, in its own session',
    async () => {
      const { stdout } = await execFileP(process.execPath, [detachedFixture], { timeout: 30_000 });
      const pid = Number.parseInt(stdout, 10);
      started.push(pid);
      // The spawning Node process has exited (execFile resolved); the sleep is still there.
      expect(alive(pid)).toBe(true);
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      expect(Number(fields[3])).toBe(pid); // field 6: session id — it leads its own session
      process.kill(-pid, 'SIGKILL');
      await waitGone(pid);
    },
  );

  it.skipIf(!hasBuild)(
    'an unref’d piped process lets its caller exit, and dies with it',
    async () => {
      // execFile resolves only once the Node process has exited: it did not wait for the sleep.
      const { stdout } = await execFileP(process.execPath, [unrefFixture], { timeout: 30_000 });
      const pid = Number.parseInt(stdout, 10);
      expect(pid).toBeGreaterThan(0);
      await waitGone(pid);
      expect(alive(pid)).toBe(false);
    },
  );

  it.skipIf(!hasBuild)(
    'dieWithParent: the process dies when its caller is SIGKILLed (no handler runs there)',
    async () => {
      const caller = spawnChild(process.execPath, [dieWithParentFixture], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      started.push(caller.pid!);
      const pid = await new Promise<number>((resolve, reject) => {
        caller.stdout?.once('data', (c: Buffer) => resolve(Number.parseInt(c.toString(), 10)));
        caller.once('exit', () => reject(new Error('the caller exited early')));
      });
      started.push(pid);
      await waitFor(async () => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep'), {
        description: 'the sleep to exec',
        timeoutMs: 10_000,
      });
      expect(alive(pid)).toBe(true);
      caller.kill('SIGKILL');
      await waitGone(pid);
      expect(alive(pid)).toBe(false);
    },
  );

  it('dieWithParent: exit code and output pass through the supervisor; kill() ends the command', async () => {
    const out: string[] = [];
    const proc = runner.spawn(['sh', '-c', 'echo hi; exit 3'], {
      dieWithParent: true,
      onStdout: (c) => out.push(c.toString()),
    });
    expect((await proc.exited).exitCode).toBe(3);
    expect(out.join('')).toBe('hi\n');
    const long = runner.spawn(['sleep', '1000'], { dieWithParent: true });
    spawned.push(long);
    long.kill('SIGKILL');
    expect((await long.exited).signal).toBe('SIGKILL');
  });

  it('a piped process streams output and reports its exit with the stderr tail', async () => {
    const chunks: string[] = [];
    const proc = runner.spawn(['sh', '-c', 'echo out; echo "broke here" >&2; exit 4'], {
      onStdout: (chunk) => chunks.push(chunk.toString()),
    });
    spawned.push(proc);
    const exit = await proc.exited;
    expect(exit.exitCode).toBe(4);
    expect(exit.stderrTail).toContain('broke here');
    expect(chunks.join('')).toBe('out\n');
  });

  it('kill() signals the whole process group', async () => {
    const pidFile = join(dir, 'spawn-grandchild.pid');
    const proc = runner.spawn(['sh', '-c', `sh -c 'echo $$ > ${pidFile}; exec sleep 1000' & wait`]);
    spawned.push(proc);
    const grandchild = await readPid(pidFile);
    started.push(grandchild);
    proc.kill('SIGKILL');
    await proc.exited;
    await waitGone(grandchild);
  });

  it('throws ToolNotFoundError for a missing executable', () => {
    expect(() => runner.spawn(['vms-no-such-tool-xyz'])).toThrow(ToolNotFoundError);
  });
});
