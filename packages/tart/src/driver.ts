/**
 * The driver of one tart VM.
 *
 * `tart run` is the VM: it is started detached under a small supervisor (./supervisor.ts), so it
 * lives on after `start()` returns and after the caller's process exits, its output goes to
 * run.log, and its exit is recorded for whoever looks next (doInspect, watch()).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import {
  AlreadyExistsError,
  type CapabilityNarrowing,
  CapabilityUnsupportedError,
  CommandFailedError,
  type DriverExecResult,
  type DriverStopOutcome,
  type DriverV1,
  type ExecIo,
  fatal,
  type GuestExit,
  InvalidOptionsError,
  type LogsRequest,
  NotFoundError,
  type Observation,
  type OpContext,
  OperationFailedError,
  type ProcessRunner,
  type Properties,
  ProtocolError,
  type SpawnedProcess,
  type StateStore,
  type StopRequest,
  sleep,
  VmsError,
  waitFor,
} from '@vms/core';
import { type CallOptions, isDoesNotExist, isNotRunning, isRunning, type TartCli } from './cli.js';
import { guestCommand } from './guest-command.js';
import { type TartOptions, tartOptionsSchema } from './options.js';
import type { TartVmDetails } from './parse.js';
import { InstanceFiles, processAlive, type RunRecord, type TartState } from './records.js';
import { describeExit, type ExitRecord, supervisedArgv } from './supervisor.js';

export interface TartDriverContext {
  cli: TartCli;
  runner: ProcessRunner;
  store: StateStore<TartState>;
}

/** Deadline of clean-up work after a failure; not tied to the failed op's signal. */
const RECOVERY_MS = 30_000;
/** How a VM @vms did not create is run: tart's defaults (`source` is only used by create). */
const RUN_DEFAULTS: TartOptions = tartOptionsSchema.parse({ source: '(unknown)' });
/** What `tart stop --timeout N` may take beyond N before we kill `tart run` ourselves. */
const STOP_SLACK_MS = 5_000;
/** How long the supervisor may take to record an exit it has seen. */
const EXIT_RECORD_MS = 5_000;

export class TartDriver implements DriverV1 {
  readonly #cli: TartCli;
  readonly #runner: ProcessRunner;
  readonly #files: InstanceFiles;
  /** The `tart run` this process started, when it did. */
  #proc: SpawnedProcess | undefined;

  /** The creation options; undefined when attached to a VM @vms did not create. */
  readonly created: TartOptions | undefined;
  /** What `tart run` and readiness use: the creation options, or tart's defaults. */
  readonly options: TartOptions;

  constructor(
    context: TartDriverContext,
    readonly name: string,
    options: TartOptions | undefined,
  ) {
    this.created = options;
    this.options = options ?? RUN_DEFAULTS;
    this.#cli = context.cli;
    this.#runner = context.runner;
    this.#files = new InstanceFiles(context.store, name);
  }

  // ------------------------------------------------------------------------ create / delete

  /**
   * tart suspends macOS guests started with --suspendable only: off for instances whose options
   * do not ask for it, and for guests seen running another OS.
   */
  capabilities(last: Observation | undefined): CapabilityNarrowing {
    const os = last?.properties?.os;
    if (os !== undefined && os !== 'darwin')
      return { suspend: `tart can only suspend macOS guests; VM "${this.name}" runs ${os}` };
    if (this.created && !this.created.suspendable)
      return { suspend: 'created without suspendable: true' };
    return {};
  }

  async doCreate(ctx: OpContext): Promise<void> {
    if (!this.created) throw new InvalidOptionsError([{ path: '(options)', message: 'unknown' }]);
    const call = callOptions(ctx);
    // `tart clone` silently replaces an existing VM: refuse first.
    if (await this.#cli.get(this.name, call)) {
      throw new AlreadyExistsError(`tart VM "${this.name}" already exists`);
    }
    ctx.progress(`cloning ${this.created.source}`);
    try {
      await this.#cli.run(['clone', this.created.source, this.name], call);
      const set = setArgs(this.created);
      if (set.length > 0) {
        ctx.progress('applying resources');
        await this.#cli.run(['set', this.name, ...set], call);
      }
      await this.#files.writeInstance({
        source: this.created.source,
        labels: this.created.labels,
        createdAt: new Date().toISOString(),
      });
    } catch (error) {
      // Nothing is left behind: a half-made VM (cloned, `set` failed) is deleted.
      await this.#cli
        .run(['delete', this.name], { timeoutMs: RECOVERY_MS, okExitCodes: [0, 2] })
        .catch((cleanup: unknown) =>
          ctx.debug('clean-up after failed create failed', { error: String(cleanup) }),
        );
      await this.#files.remove();
      throw error;
    }
  }

  async doDelete(ctx: OpContext): Promise<{ existed: boolean }> {
    const call = callOptions(ctx);
    // Try the delete first (one tart call for a stopped VM); tart refuses a running one.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#cli.run(['delete', this.name], call);
        break;
      } catch (error) {
        if (isDoesNotExist(error)) {
          await this.#killRun();
          await this.#files.remove();
          return { existed: false };
        }
        if (attempt > 1 || !isRunning(error)) throw error;
        ctx.progress('stopping the VM');
        await this.#stopRunning({ ...ctx, timeoutMs: 0, force: true });
      }
    }
    await this.#files.remove();
    return { existed: true };
  }

  // ------------------------------------------------------------------------ start / resume

  doStart(ctx: OpContext): Promise<void> {
    return this.#launch(ctx, 'start');
  }

  /** `tart run` of a suspended VM restores it from its snapshot. */
  doResume(ctx: OpContext): Promise<void> {
    return this.#launch(ctx, 'resume');
  }

  async #launch(ctx: OpContext, what: 'start' | 'resume'): Promise<void> {
    const details = await this.#details(ctx);
    if (details.state === 'running') {
      // Started behind our back (or by another process): just wait until it is usable.
      await this.#awaitReady(ctx, ctx.signal);
      return;
    }
    const suspendable = this.options.suspendable && details.os === 'darwin';
    if (this.options.suspendable && !suspendable) {
      ctx.debug('suspendable ignored: tart can only suspend macOS guests', { os: details.os });
    }
    const runArgv = this.#cli.argv(runArgs(this.name, this.options, suspendable));
    await this.#files.ensureDir();
    await this.#files.writeSupervisor();
    this.#files.clearExit();
    const logOffset = this.#files.logSize();
    ctx.progress(what === 'resume' ? 'restoring the VM' : 'booting the VM');
    const proc = this.#runner.spawn(
      supervisedArgv(this.#files.supervisorFile, this.#files.exitFile, runArgv),
      {
        detached: true,
        logFile: this.#files.logFile,
        env: this.#cli.env,
      },
    );
    this.#proc = proc;
    const run: RunRecord = {
      pid: proc.pid,
      argv: runArgv,
      startedAt: new Date().toISOString(),
      logOffset,
      suspendable,
    };
    await this.#files.writeRun(run);

    // Readiness races the process: if `tart run` dies, start fails at once with its error.
    const died = new AbortController();
    let early: CommandFailedError | undefined;
    const exited = proc.exited
      .then(async () => {
        early = this.#runError(run, await this.#exitOf(proc), what);
        died.abort(early);
      })
      .catch((error: unknown) =>
        ctx.debug('reading the exit of tart run failed', { error: String(error) }),
      );
    try {
      await this.#awaitReady(ctx, AbortSignal.any([ctx.signal, died.signal]));
    } catch (error) {
      if (died.signal.aborted) throw early ?? error;
      // Give an exit that is racing this failure a moment to be recorded, then prefer it.
      await Promise.race([exited, sleep(50)]);
      if (early) throw early;
      await this.#files.markStopRequested();
      await this.#killRun();
      throw error;
    }
  }

  async #awaitReady(ctx: OpContext, signal: AbortSignal): Promise<void> {
    const { readiness } = this.options;
    const common = {
      deadline: ctx.deadline,
      signal,
      backoff: { initialMs: 50, maxMs: readiness.maxPollIntervalMs },
      attemptTimeoutMs: 30_000,
    };
    ctx.progress('waiting for the VM to run');
    await waitFor(
      async ({ signal: attempt }) => {
        const details = await this.#probe(() => this.#cli.get(this.name, { signal: attempt }));
        if (!details)
          throw fatal(new NotFoundError(`tart VM "${this.name}" disappeared while starting`));
        return details.state === 'running';
      },
      { ...common, description: `tart VM ${this.name} to run` },
    );
    if (readiness.ip) {
      ctx.progress('waiting for an IP address');
      await waitFor(
        ({ signal: attempt }) =>
          this.#probe(() => this.#cli.ip(this.name, readiness.ipResolver, { signal: attempt })),
        { ...common, description: `an IP address of tart VM ${this.name}` },
      );
    }
    if (readiness.exec) {
      ctx.progress('waiting for the guest agent');
      const nonce = `vms-ready-${randomBytes(6).toString('hex')}`;
      await waitFor(
        async ({ signal: attempt }) => {
          const args = ['exec', this.name, 'echo', nonce];
          const result = await this.#cli.run(args, { signal: attempt, okExitCodes: 'any' });
          if (result.exitCode !== 0) throw new CommandFailedError(this.#cli.argv(args), result);
          if (result.stdout.trim() === nonce) return true;
          throw fatal(
            new ProtocolError(
              `tart exec readiness probe: expected ${JSON.stringify(nonce)}, got ${JSON.stringify(result.stdout.trim())}`,
            ),
          );
        },
        { ...common, description: `the guest agent of tart VM ${this.name} (tart exec)` },
      );
    }
  }

  /** Malformed output does not fix itself: a ProtocolError ends a wait at once. */
  async #probe<T>(probe: () => Promise<T>): Promise<T> {
    try {
      return await probe();
    } catch (error) {
      if (error instanceof ProtocolError) throw fatal(error);
      throw error;
    }
  }

  // ------------------------------------------------------------------------ stop / suspend

  async doStop(req: StopRequest): Promise<DriverStopOutcome> {
    const details = await this.#details(req);
    if (details.state === 'stopped') {
      await this.#killRun(); // a wedged supervisor of a VM tart no longer runs
      const guestExit = await this.#guestExit();
      return { how: 'already-stopped', ...(guestExit ? { guestExit } : {}) };
    }
    if (details.state === 'suspended') {
      // `tart stop` of a suspended VM discards its saved state.
      await this.#cli.run(['stop', this.name], { ...callOptions(req), okExitCodes: [0, 2] });
      return { how: 'forced' };
    }
    return this.#stopRunning(req);
  }

  async #stopRunning(req: StopRequest): Promise<DriverStopOutcome> {
    await this.#files.markStopRequested();
    const seconds = req.force ? 0 : Math.max(1, Math.ceil(req.timeoutMs / 1000));
    // tart stop sends SIGINT, waits `--timeout`, then SIGKILLs `tart run` itself.
    let stopError: unknown;
    try {
      await this.#cli.run(['stop', this.name, '--timeout', String(seconds)], {
        signal: req.signal,
        // Its own budget, so that a hung `tart stop` still leaves time for the last resort.
        deadline: Math.min(req.deadline, Date.now() + seconds * 1000 + STOP_SLACK_MS),
      });
    } catch (error) {
      if (!isNotRunning(error)) stopError = error;
      if (req.signal.aborted) throw error;
    }
    let killed = false;
    let after = await this.#cli.get(this.name, callOptions(req));
    if (after?.state === 'running') {
      // Last resort: our own `tart run` process group.
      req.progress('killing tart run');
      killed = await this.#killRun();
      after = await this.#cli.get(this.name, callOptions(req));
    }
    if (after?.state === 'running') {
      throw VmsError.isInstance(stopError)
        ? stopError
        : new OperationFailedError(`tart VM "${this.name}" is still running after tart stop`, {
            cause: stopError,
          });
    }
    const exit = await this.#awaitExitRecord(req.signal);
    const guestExit = await this.#guestExit(exit);
    const forced = req.force || killed || exit?.signal === 'SIGKILL';
    return { how: forced ? 'forced' : 'graceful', ...(guestExit ? { guestExit } : {}) };
  }

  async doSuspend(ctx: OpContext): Promise<void> {
    const details = await this.#details(ctx);
    if (details.os !== undefined && details.os !== 'darwin') {
      throw new CapabilityUnsupportedError('suspend', 'tart', {
        hint: `tart can only suspend macOS guests; VM "${this.name}" runs ${details.os}`,
      });
    }
    if (details.state === 'suspended') return;
    if (details.state !== 'running') {
      throw new OperationFailedError(`tart VM "${this.name}" is ${details.state}, not running`);
    }
    const run = await this.#files.readRun();
    if (run && !run.suspendable) {
      throw new CapabilityUnsupportedError('suspend', 'tart', {
        hint: `VM "${this.name}" was started without --suspendable: set the option suspendable: true and restart it`,
      });
    }
    await this.#files.markStopRequested();
    // Asynchronous: tart signals `tart run` (SIGUSR1), which snapshots and exits.
    await this.#cli.run(['suspend', this.name], callOptions(ctx));
    await waitFor(
      async ({ signal }) => {
        const now = await this.#probe(() => this.#cli.get(this.name, { signal }));
        if (now?.state === 'suspended') return true;
        if (now?.state === 'stopped') {
          const exit = await this.#awaitExitRecord(signal);
          throw fatal(
            run
              ? this.#runError(run, exit ?? { endedAt: '', error: 'exit not recorded' }, 'suspend')
              : new OperationFailedError(`tart VM "${this.name}" stopped instead of suspending`),
          );
        }
        return false;
      },
      {
        description: `tart VM ${this.name} to suspend`,
        deadline: ctx.deadline,
        signal: ctx.signal,
        backoff: { initialMs: 50, maxMs: this.options.readiness.maxPollIntervalMs },
      },
    );
  }

  // ------------------------------------------------------------------------ inspect / watch

  async doInspect(ctx: OpContext): Promise<Observation> {
    const call = callOptions(ctx);
    const details = await this.#cli.get(this.name, call);
    if (!details) return { state: 'absent' };
    const properties = await this.#properties(details);
    if (details.state === 'running') {
      const ip = await this.#cli
        .ip(this.name, this.options.readiness.ipResolver, { ...call, timeoutMs: 10_000 })
        .catch(() => undefined);
      if (ip) {
        properties.ip = ip;
        properties.ips = [ip];
      }
      return { state: 'running', properties };
    }
    const reason = details.state === 'stopped' ? await this.#crashReason() : undefined;
    return { state: details.state, properties, ...(reason ? { reason } : {}) };
  }

  /** Reports a `tart run` that ended without being asked to (crash, guest shutdown). */
  watch(onChange: (observation: Observation) => void): () => void {
    let done = false;
    let watcher: fs.FSWatcher | undefined;
    const check = async () => {
      if (done) return;
      const reason = await this.#crashReason().catch(() => undefined);
      if (!reason || done) return;
      done = true;
      watcher?.close();
      onChange({ state: 'stopped', reason });
    };
    const recheck = () => void check();
    void this.#files.ensureDir().then(() => {
      if (done) return;
      try {
        // The supervisor renames exit.json into place when `tart run` ends, in any process.
        watcher = fs.watch(this.#files.dir, (_event, file) => {
          if (file === null || file === 'exit.json') recheck();
        });
        watcher.on('error', () => {});
        watcher.unref();
      } catch {
        // no watcher: the in-process handle below still reports our own `tart run`
      }
      recheck();
    }, recheck);
    void this.#proc?.exited.then(() => setImmediate(recheck));
    return () => {
      done = true;
      watcher?.close();
    };
  }

  async #crashReason(): Promise<string | undefined> {
    const run = await this.#files.readRun();
    if (!run || run.stopRequested) return undefined;
    const exit = this.#files.readExit();
    if (!exit && processAlive(run.pid)) return undefined;
    const output = lastLines(this.#files.readLog(run.logOffset), 3);
    const how = exit ? describeExit(exit) : 'its exit was not recorded';
    const kind = exit?.exitCode === 0 ? 'the guest shut down' : 'tart run exited unexpectedly';
    return `${kind} (${how})${output ? `: ${output}` : ''}`;
  }

  async #properties(details: TartVmDetails): Promise<Properties> {
    const record = (await this.#files.read())?.instance;
    return {
      ...(details.cpus === undefined ? {} : { cpus: details.cpus }),
      ...(details.memoryMiB === undefined ? {} : { memoryMiB: details.memoryMiB }),
      ...(details.diskGiB === undefined ? {} : { diskGiB: details.diskGiB }),
      ...(details.os === undefined ? {} : { os: details.os }),
      ...(record
        ? { image: record.source, labels: record.labels, createdAt: record.createdAt }
        : {}),
      extra: {
        state: details.state,
        ...(details.diskFormat === undefined ? {} : { diskFormat: details.diskFormat }),
        ...(details.sizeGB === undefined ? {} : { sizeGB: details.sizeGB }),
        ...(details.display === undefined ? {} : { display: details.display }),
        logFile: this.#files.logFile,
      },
    };
  }

  // ------------------------------------------------------------------------ exec / logs

  async doExec(argv: string[], io: ExecIo, ctx: OpContext): Promise<DriverExecResult> {
    const env = { ...this.options.env, ...io.env };
    const command = guestCommand(argv, {
      ...(Object.keys(env).length > 0 ? { env } : {}),
      ...(io.cwd === undefined ? {} : { cwd: io.cwd }),
      ...(io.user === undefined ? {} : { user: io.user }),
    });
    const flags = [...(io.stdin === undefined ? [] : ['-i']), ...(io.tty ? ['-t'] : [])];
    const args = ['exec', ...flags, this.name, ...command];
    const result = await this.#cli.run(args, {
      ...callOptions(ctx),
      ...(io.stdin === undefined ? {} : { stdin: io.stdin }),
      onStdout: io.onStdout,
      onStderr: io.onStderr,
      okExitCodes: 'any',
      maxOutputBytes: 64 * 1024,
    });
    // tart passes the remote exit code through; its own failures are told apart by their message.
    if (
      (result.exitCode === 2 && /^VM ".*" is not running\s*$/m.test(result.stderr)) ||
      (result.exitCode === 1 &&
        /Failed to connect to the VM using its control socket/.test(result.stderr)) ||
      (result.exitCode === 2 && /^the specified VM ".*" does not exist\s*$/m.test(result.stderr))
    ) {
      throw new CommandFailedError(this.#cli.argv(args), result);
    }
    return { exitCode: result.exitCode };
  }

  /** The output of `tart run` (boot messages, errors), from run.log. */
  async doLogs(req: LogsRequest): Promise<void> {
    let position = 0;
    const text = this.#files.readLog(0, Number.MAX_SAFE_INTEGER);
    position = Buffer.byteLength(text);
    const shown = req.tail === undefined ? text : lastLines(text, req.tail, true);
    if (shown) req.onData(Buffer.from(shown), 'stdout');
    if (!req.follow) return;
    for (;;) {
      const run = await this.#files.readRun();
      const running = run !== undefined && processAlive(run.pid);
      const size = this.#files.logSize();
      if (size > position) {
        const chunk = this.#files.readLog(position, size - position);
        position = size;
        req.onData(Buffer.from(chunk), 'stdout');
      }
      if (!running) return;
      try {
        await sleep(250, req.signal);
      } catch {
        return; // the caller stopped following
      }
    }
  }

  // ------------------------------------------------------------------------ helpers

  async #details(ctx: CallOptions): Promise<TartVmDetails> {
    const details = await this.#cli.get(this.name, callOptions(ctx));
    if (!details) throw new NotFoundError(`tart VM "${this.name}" does not exist`);
    return details;
  }

  /** Kills our `tart run` process group, if it is alive; true when it had to. */
  async #killRun(): Promise<boolean> {
    const run = await this.#files.readRun();
    const pid = run?.pid;
    if (!pid || !processAlive(pid)) return false;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      return false;
    }
    if (this.#proc?.pid === pid) {
      await Promise.race([this.#proc.exited, sleep(EXIT_RECORD_MS)]);
    } else {
      const until = Date.now() + EXIT_RECORD_MS;
      while (processAlive(pid) && Date.now() < until) await sleep(20);
    }
    return true;
  }

  /** How `proc` ended: the supervisor's record, else what the runner saw. */
  async #exitOf(proc: SpawnedProcess): Promise<ExitRecord> {
    const seen = await proc.exited;
    const recorded = await this.#awaitExitRecord();
    return (
      recorded ?? {
        endedAt: new Date().toISOString(),
        ...(seen.exitCode === undefined ? {} : { exitCode: seen.exitCode }),
        ...(seen.signal ? { signal: seen.signal } : {}),
      }
    );
  }

  /**
   * The exit record of the current run, waiting briefly while its supervisor is still writing it
   * and then exiting (so that no process of this VM is left when a stop returns).
   */
  async #awaitExitRecord(signal?: AbortSignal): Promise<ExitRecord | undefined> {
    const until = Date.now() + EXIT_RECORD_MS;
    const run = await this.#files.readRun();
    for (;;) {
      const exit = this.#files.readExit();
      const alive = run !== undefined && processAlive(run.pid);
      if (!alive || Date.now() >= until || signal?.aborted) return exit;
      await sleep(20);
    }
  }

  async #guestExit(exit = this.#files.readExit()): Promise<GuestExit | undefined> {
    if (!exit) return undefined;
    const run = await this.#files.readRun();
    const message = lastLines(this.#files.readLog(run?.logOffset ?? 0), 5);
    return {
      ...(exit.exitCode === undefined ? {} : { exitCode: exit.exitCode }),
      ...(exit.signal ? { signal: exit.signal } : {}),
      ...(message ? { message } : {}),
    };
  }

  #runError(run: RunRecord, exit: ExitRecord, what: string): CommandFailedError {
    const output = this.#files.readLog(run.logOffset);
    const last = lastLines(output, 1);
    return new CommandFailedError(
      run.argv,
      {
        ...(exit.exitCode === undefined ? {} : { exitCode: exit.exitCode }),
        ...(exit.signal ? { signal: exit.signal } : {}),
        stderr: output,
      },
      {
        message: `tart run exited during ${what} (${describeExit(exit)})${last ? `: ${last}` : ''}`,
      },
    );
  }
}

function callOptions(ctx: CallOptions): CallOptions {
  return {
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...(ctx.deadline === undefined ? {} : { deadline: ctx.deadline }),
  };
}

/** `tart set` flags for the resources asked for. */
export function setArgs(options: TartOptions): string[] {
  return [
    ...(options.cpus === undefined ? [] : ['--cpu', String(options.cpus)]),
    ...(options.memoryMiB === undefined ? [] : ['--memory', String(options.memoryMiB)]),
    ...(options.diskGiB === undefined ? [] : ['--disk-size', String(options.diskGiB)]),
  ];
}

/** `tart run` arguments: headless, and the user's escape hatch last. */
export function runArgs(name: string, options: TartOptions, suspendable: boolean): string[] {
  return [
    'run',
    name,
    '--no-graphics',
    ...(options.audio ? [] : ['--no-audio']),
    ...(suspendable ? ['--suspendable'] : []),
    ...options.runArgs,
  ];
}

function lastLines(text: string, count: number, keepNewline = false): string {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const picked = lines.slice(-count);
  if (keepNewline) return picked.length > 0 ? `${picked.join('\n')}\n` : '';
  return picked
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' / ');
}
