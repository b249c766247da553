/**
 * The suite must catch real bugs. Each case plants one bug in the guide's process-sandbox backend
 * (by wrapping its driver, so the example stays clean), runs the whole suite against it in memory
 * and expects the test named to fail. `pnpm exec vitest run planted-bugs` prints how each reads.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createProc } from '../../__examples__/proc-backend.js';
import { procWorld } from '../../__examples__/proc-world.js';
import { OperationFailedError } from '../../errors.js';
import { commonInstanceOptions } from '../../options.js';
import type { BackendV1, DriverV1 } from '../../spec/v1.js';
import { killProcessesMentioning, processesMentioning, readProcFile } from '../processes.js';
import { runSuiteInMemory } from './__fixtures__/mini-runner.js';
import { delegateBackend, delegateDriver } from './delegate.js';
import { runConformanceSuite } from './index.js';

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) {
    killProcessesMentioning(root);
    rmSync(root, { recursive: true, force: true });
  }
});

/** The pid of an instance's main process, from the example's own pid file. */
function mainPid(dir: string): number | undefined {
  const file = join(dir, 'pid.json');
  return existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as { pid: number }).pid
    : undefined;
}

function kill(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // gone
  }
}

interface Plant {
  /** What the bug is, as a user would report it. */
  bug: string;
  /** Test names (substrings of `group > test`) of which at least one must fail. */
  caughtBy: string[];
  /** Wraps the example backend (its root given) into the buggy one. */
  plant: (backend: BackendV1, root: string) => BackendV1;
  /** The issue this bug comes from (9 were planted by hand when the suite had 15 tests). */
  fromIssue?: true;
}

const wrapDriver =
  (patch: (d: DriverV1, dir: string) => Partial<DriverV1>) => (backend: BackendV1, root: string) =>
    delegateBackend(backend, (d, name) => delegateDriver(d, patch(d, join(root, name))));

const PLANTS: Plant[] = [
  {
    bug: 'stop clears its record without killing the process',
    caughtBy: ['walks create → start → stop'],
    fromIssue: true,
    plant: wrapDriver((_, dir) => ({
      doStop: async () => {
        rmSync(join(dir, 'pid.json'), { force: true });
        return { how: 'graceful' };
      },
    })),
  },
  {
    bug: 'doExec ignores its abort signal (the command outlives the timeout)',
    caughtBy: ['a timed-out command ends inside the guest'],
    fromIssue: true,
    plant: wrapDriver((d) => ({
      doExec: (argv, io, ctx) =>
        d.doExec!(argv, io, { ...ctx, signal: new AbortController().signal }),
    })),
  },
  {
    bug: 'exec ignores env',
    caughtBy: ['sets env for the command'],
    fromIssue: true,
    plant: wrapDriver((d) => ({
      doExec: (argv, { env: _env, ...io }, ctx) => d.doExec!(argv, io, ctx),
    })),
  },
  {
    bug: 'exec ignores cwd',
    caughtBy: ['runs in the given cwd'],
    fromIssue: true,
    plant: wrapDriver((d) => ({
      doExec: (argv, { cwd: _cwd, ...io }, ctx) => d.doExec!(argv, io, ctx),
    })),
  },
  {
    bug: 'exec ignores user',
    caughtBy: ['runs as the given user'],
    fromIssue: true,
    plant: wrapDriver((d) => ({
      doExec: (argv, { user: _user, ...io }, ctx) => d.doExec!(argv, io, ctx),
    })),
  },
  {
    bug: 'exec ignores stdin',
    caughtBy: ['forwards stdin'],
    fromIssue: true,
    plant: wrapDriver((d) => ({
      doExec: (argv, { stdin: _stdin, ...io }, ctx) => d.doExec!(argv, io, ctx),
    })),
  },
  {
    bug: 'stop of a suspended instance sends SIGTERM without SIGCONT (the process stays, stopped)',
    caughtBy: ['stops a suspended instance'],
    fromIssue: true,
    plant: wrapDriver((d, dir) => ({
      doStop: async (req) => {
        const pid = mainPid(dir);
        const stopped = pid !== undefined && readProcFile(pid, 'stat').includes(') T ');
        if (!stopped) return d.doStop(req);
        kill(pid, 'SIGTERM');
        rmSync(join(dir, 'pid.json'), { force: true });
        return { how: 'graceful' };
      },
    })),
  },
  {
    bug: 'a forced stop (the rollback of a failed start) does nothing',
    caughtBy: ['a start that fails after the backend started the instance is rolled back'],
    fromIssue: true,
    plant: wrapDriver((d) => ({
      doStop: async (req) => (req.force ? { how: 'forced' } : d.doStop(req)),
    })),
  },
  {
    bug: 'delete removes the directory but leaves the process running',
    caughtBy: ['deletes a running instance'],
    fromIssue: true,
    plant: wrapDriver((_, dir) => ({
      doDelete: async () => {
        const existed = existsSync(dir);
        rmSync(dir, { recursive: true, force: true });
        return { existed };
      },
    })),
  },
  {
    bug: 'exec reports exit code 0 whatever the command returned',
    caughtBy: ['passes the exit code through'],
    plant: wrapDriver((d) => ({
      doExec: async (argv, io, ctx) => {
        await d.doExec!(argv, io, ctx);
        return { exitCode: 0 };
      },
    })),
  },
  {
    bug: 'exec throws for a missing command instead of exiting 127',
    caughtBy: ['a command that does not exist exits 127'],
    plant: wrapDriver((d) => ({
      doExec: async (argv, io, ctx) => {
        const r = await d.doExec!(argv, io, ctx);
        if (r.exitCode === 127) throw new OperationFailedError(`${argv[0]}: not found`);
        return r;
      },
    })),
  },
  {
    bug: 'suspend only records "suspended" (inspect believes it; the process keeps running)',
    caughtBy: ['suspends and resumes'],
    plant: wrapDriver((d) => {
      let suspended = false;
      return {
        doSuspend: async () => {
          suspended = true;
        },
        doResume: async () => {
          suspended = false;
        },
        doInspect: async (ctx) => {
          const o = await d.doInspect(ctx);
          return suspended && o.state === 'running' ? { ...o, state: 'suspended' } : o;
        },
        doStop: async (req) => {
          suspended = false;
          return d.doStop(req);
        },
      };
    }),
  },
  {
    bug: "exec sends the command's stderr to stdout",
    caughtBy: ['keeps stdout and stderr apart'],
    plant: wrapDriver((d) => ({
      doExec: (argv, io, ctx) => d.doExec!(argv, { ...io, onStderr: io.onStdout }, ctx),
    })),
  },
  {
    bug: 'list leaves out stopped instances',
    caughtBy: ['lists a created instance'],
    plant: (backend) => ({
      ...delegateBackend(backend, (d) => d),
      list: async (ctx) => (await backend.list(ctx)).filter((l) => l.state !== 'stopped'),
    }),
  },
  {
    bug: 'declares suspend without implementing doSuspend/doResume',
    caughtBy: ['implements the driver methods of every capability it declares'],
    plant: wrapDriver(() => ({ doSuspend: undefined, doResume: undefined })),
  },
  {
    bug: 'the options schema passes unknown keys through (a typo is silently kept)',
    caughtBy: ['refuses a misspelt option'],
    plant: (backend) => ({
      ...delegateBackend(backend, (d) => d),
      optionsSchema: z.looseObject(commonInstanceOptions.shape),
    }),
  },
  {
    bug: 'on abort, exec kills the command but not what it started (its children survive)',
    caughtBy: ['an aborted command ends inside the guest with everything it started'],
    plant: wrapDriver((d, dir) => ({
      doExec: (argv, io, ctx) => {
        const detached = new AbortController();
        ctx.signal.addEventListener('abort', () => {
          // Only the top process of this exec, found by its command line; not its group.
          for (const pid of processesMentioning(`VMS_PROC_EXEC=${dir}\0`)) {
            if (readProcFile(pid, 'cmdline').split('\0')[0] === argv[0]) {
              try {
                process.kill(pid, 'SIGKILL');
              } catch {
                // gone
              }
            }
          }
        });
        return d.doExec!(argv, io, { ...ctx, signal: detached.signal });
      },
    })),
  },
];

const found: { bug: string; fromIssue: boolean; test: string; message: string }[] = [];
afterAll(() => {
  const lines = found.map(
    (f, i) =>
      `${i + 1}. ${f.fromIssue ? '[issue] ' : ''}${f.bug}\n   ✗ ${f.test}\n     ${f.message}`,
  );
  console.log(`How the suite reports each planted bug:\n${lines.join('\n')}`);
});

describe('the conformance suite catches planted bugs (in the guide example backend)', () => {
  it.concurrent('passes the example as it is (the control)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vms-planted-'));
    roots.push(root);
    const outcome = await runSuiteInMemory((t) =>
      runConformanceSuite(t, {
        name: 'proc',
        backend: () => createProc({ root }),
        options: () => ({}),
        observe: procWorld(root),
        skip: { tty: 'no terminals' },
      }),
    );
    expect(outcome.failed).toEqual([]);
    expect(outcome.passed.length).toBeGreaterThan(30);
  }, 240_000);

  for (const p of PLANTS) {
    it.concurrent(`catches: ${p.bug}`, async () => {
      const root = mkdtempSync(join(tmpdir(), 'vms-planted-'));
      roots.push(root);
      const backend = p.plant(createProc({ root }), root);
      const outcome = await runSuiteInMemory((t) =>
        runConformanceSuite(t, {
          name: 'proc (planted bug)',
          backend: () => backend,
          options: () => ({}),
          observe: procWorld(root),
          skip: { tty: 'no terminals' },
          timeoutMs: 60_000,
        }),
      );
      const hit = outcome.failed.find((f) => p.caughtBy.some((name) => f.test.includes(name)));
      expect(
        hit,
        `the suite missed "${p.bug}"; it failed only: ${outcome.failed.map((f) => f.test).join('; ') || 'nothing'}`,
      ).toBeDefined();
      if (hit)
        found.push({
          bug: p.bug,
          fromIssue: p.fromIssue === true,
          test: hit.test,
          message: hit.message,
        });
    }, 240_000);
  }
});
