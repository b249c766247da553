import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import {
  AlreadyExistsError,
  commonInstanceOptions,
  type DriverExecResult,
  type DriverV1,
  defineBackend,
  type ExecIo,
  InvalidOptionsError,
  type Observation,
  type OpContext,
  OperationFailedError,
  pidExists,
  processStartTime,
  processState,
  SPECIFICATION_VERSION,
  waitFor,
} from '@vms/core';
import { z } from 'zod';

// 1. Options: the common ones (cpus, ports, env, labels, …) plus your own. Extending
//    commonInstanceOptions keeps the schema strict: a misspelt option is an error.
const procOptionsSchema = commonInstanceOptions.extend({
  /** The instance's main process (its "VM"). */
  command: z.array(z.string().min(1)).min(1).default(['sleep', 'infinity']),
});

export interface ProcSettings {
  /** Directory holding one directory per instance. */
  root: string;
}

interface PidFile {
  pid: number;
  startTime: number | null;
}

// 2. The backend: name, capabilities, options schema, detect, list, driver. Construction does
//    no I/O. defineBackend types `driver`'s options from the schema and checks the shape.
export function createProc(settings: ProcSettings) {
  return defineBackend({
    specificationVersion: SPECIFICATION_VERSION,
    name: 'proc',
    capabilities: {
      suspend: true,
      exec: true,
      logs: false,
      snapshot: false,
      copy: false,
      portForward: false,
      mounts: false,
    },
    optionsSchema: procOptionsSchema,
    async detect() {
      return existsSync('/proc/self/stat')
        ? { available: true, version: process.versions.node }
        : { available: false, reason: 'needs Linux /proc', hint: 'run on Linux' };
    },
    async list() {
      if (!existsSync(settings.root)) return [];
      return readdirSync(settings.root).map((name) => ({
        name,
        state: observe(join(settings.root, name)).state,
        managed: true,
      }));
    },
    driver(name, options) {
      return procDriver(join(settings.root, name), options);
    },
  });
}

// 3. What the world says: the directory, and whether its main process lives (SIGSTOPped:
//    suspended). A process is the one we started only if its start time matches.
function running(dir: string): PidFile | undefined {
  const file = join(dir, 'pid.json');
  if (!existsSync(file)) return undefined;
  const saved = JSON.parse(readFileSync(file, 'utf8')) as PidFile;
  const alive = pidExists(saved.pid) && processStartTime(saved.pid) === saved.startTime;
  return alive ? saved : undefined;
}

function observe(dir: string): Observation {
  if (!existsSync(dir)) return { state: 'absent' };
  const main = running(dir);
  if (!main) return { state: 'stopped' };
  return { state: processState(main.pid) === 'T' ? 'suspended' : 'running' };
}

// 4. The driver does the work of each verb for one instance. No state machine, locking, timeouts
//    or rollback here: @vms/core's Instance runtime does all of that around these calls.
function procDriver(dir: string, options: z.output<typeof procOptionsSchema>): DriverV1 {
  const stop = async (force: boolean, graceMs: number, signal: AbortSignal) => {
    const main = running(dir);
    if (!main) return 'already-stopped' as const;
    signalGroup(main.pid, 'SIGCONT'); // a stopped (suspended) process handles no other signal
    let how: 'graceful' | 'forced' = 'graceful';
    if (!force) signalGroup(main.pid, 'SIGTERM');
    if (force || !(await exited(main.pid, graceMs, signal).catch(() => false))) {
      how = 'forced';
      signalGroup(main.pid, 'SIGKILL');
      await exited(main.pid, 10_000, AbortSignal.timeout(10_000));
    }
    rmSync(join(dir, 'pid.json'), { force: true });
    return how;
  };

  return {
    async doCreate() {
      if (existsSync(dir)) throw new AlreadyExistsError(`${dir} exists`);
      mkdirSync(dir, { recursive: true });
    },
    async doStart() {
      const [command, ...args] = options.command;
      const child = spawn(command as string, args, {
        cwd: dir,
        detached: true, // its own process group, so stop ends everything it started
        stdio: 'ignore',
        env: { ...process.env, ...options.env, VMS_PROC_MAIN: dir },
      });
      const pid = await spawned(child);
      child.unref();
      writeFileSync(
        join(dir, 'pid.json'),
        JSON.stringify({ pid, startTime: processStartTime(pid) }),
      );
    },
    async doStop(req) {
      return { how: await stop(req.force, req.timeoutMs, req.signal) };
    },
    async doSuspend(ctx) {
      const pid = mustRun(dir);
      signalGroup(pid, 'SIGSTOP'); // delivered asynchronously: return once it took effect
      await waitFor(async () => processState(pid) === 'T', {
        description: 'SIGSTOP',
        signal: ctx.signal,
        deadline: ctx.deadline,
      });
    },
    async doResume(ctx) {
      const pid = mustRun(dir);
      signalGroup(pid, 'SIGCONT');
      await waitFor(async () => processState(pid) !== 'T', {
        description: 'SIGCONT',
        signal: ctx.signal,
        deadline: ctx.deadline,
      });
    },
    async doDelete(ctx) {
      if (!existsSync(dir)) return { existed: false };
      await stop(true, 0, ctx.signal);
      rmSync(dir, { recursive: true, force: true });
      return { existed: true };
    },
    async doInspect() {
      return observe(dir);
    },
    doExec(argv, io, ctx) {
      return execIn(dir, options.env, argv, io, ctx);
    },
  };
}

function mustRun(dir: string): number {
  const main = running(dir);
  if (!main) throw new OperationFailedError(`${dir}: its main process is not running`);
  return main.pid;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal); // the whole process group: the command and its children
  } catch {
    // already gone
  }
}

/** Resolves true once `pid` has exited; rejects at `withinMs` or when `signal` aborts. */
function exited(pid: number, withinMs: number, signal: AbortSignal): Promise<boolean> {
  return waitFor(async () => !pidExists(pid), {
    description: `pid ${pid} to exit`,
    timeoutMs: withinMs,
    signal,
  });
}

/** Resolves with the pid once the process runs; rejects when it cannot be started. */
function spawned(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('spawn', () => resolve(child.pid as number));
  });
}

// 5. Exec semantics (see "doExec" in this guide): argv without a shell; a missing command exits
//    127; cwd is absolute (core checks it); env adds to the instance's; user switches uid/gid;
//    on abort, the command's whole process group is killed before doExec returns.
function execIn(
  dir: string,
  instanceEnv: Record<string, string>,
  argv: string[],
  io: ExecIo,
  ctx: OpContext,
): Promise<DriverExecResult> {
  if (io.tty) throw new InvalidOptionsError([{ path: 'tty', message: 'proc has no terminals' }]);
  const ids = io.user ? userIds(io.user) : undefined;
  return new Promise((resolve, reject) => {
    const [command, ...args] = argv;
    const child = spawn(command as string, args, {
      cwd: io.cwd ?? dir,
      env: { ...process.env, ...instanceEnv, ...io.env, VMS_PROC_EXEC: dir },
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(ids ? { uid: ids.uid, gid: ids.gid } : {}),
    });
    const onAbort = () => {
      if (child.pid) signalGroup(child.pid, 'SIGKILL');
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    child.stdout?.on('data', io.onStdout);
    child.stderr?.on('data', io.onStderr);
    child.stdin?.on('error', () => {}); // the command may exit without reading its stdin
    child.once('error', (error: NodeJS.ErrnoException) => {
      ctx.signal.removeEventListener('abort', onAbort);
      if (error.code === 'ENOENT') resolve({ exitCode: 127 });
      else if (error.code === 'EACCES') resolve({ exitCode: 126 });
      else reject(error);
    });
    child.once('close', (code, signal) => {
      ctx.signal.removeEventListener('abort', onAbort);
      if (ctx.signal.aborted) reject(ctx.signal.reason);
      else resolve({ exitCode: code ?? 128 + (signal ? constants.signals[signal] : 0) });
    });
    if (io.stdin === undefined) child.stdin?.end();
    else if (typeof io.stdin === 'string' || io.stdin instanceof Uint8Array)
      child.stdin?.end(io.stdin);
    else if (child.stdin) io.stdin.pipe(child.stdin);
  });
}

/** uid and gid of a user, from /etc/passwd (name or number). */
function userIds(user: string): { uid: number; gid: number } {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name === user || uid === user) return { uid: Number(uid), gid: Number(gid) };
  }
  throw new InvalidOptionsError([{ path: 'user', message: `no user ${user} in /etc/passwd` }]);
}
