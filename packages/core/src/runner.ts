/**
 * Process runner over execa: argv arrays only, deadline + abort that kill the whole process
 * tree, output caps, secret redaction, debug logging. Injectable: backends take a
 * `ProcessRunner` in their settings so tests can replay recorded tool output
 * (`createReplayRunner` in `@vms/core/testing`).
 */

import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { Readable } from 'node:stream';
import type { ResultPromise } from 'execa';
import {
  CommandFailedError,
  InvalidOptionsError,
  ToolNotFoundError,
  tail,
  type VmsError,
} from './errors.js';
import { abortReasonToError, deadlineSignal } from './wait.js';
import * as z from './zod.js';

export interface RunOptions {
  signal?: AbortSignal;
  /** Relative deadline. */
  timeoutMs?: number;
  /** Absolute deadline, epoch ms (the earlier of timeoutMs and deadline wins). */
  deadline?: number;
  stdin?: string | Uint8Array | NodeJS.ReadableStream;
  /** Merged over process.env; a value of undefined removes the variable. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Bytes of each stream kept in the result (default 16 MiB); the rest is dropped, `truncated` set. */
  maxOutputBytes?: number;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  /** Exit codes that resolve instead of throwing CommandFailedError (default [0]); 'any' never throws on exit. */
  okExitCodes?: number[] | 'any';
  /** Strings masked as *** in debug logs and error messages. */
  redact?: string[];
  /** SIGTERM → SIGKILL grace for the process tree on deadline/abort (default 2000 ms). */
  killGraceMs?: number;
}

export interface RunResult {
  argv: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
  truncated: boolean;
}

export interface SpawnOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Run in its own session, survive the caller (no tie to any AbortSignal), unref'd. */
  detached?: boolean;
  /** Append stdout+stderr to this file instead of piping. */
  logFile?: string;
  /**
   * Don't keep the caller's event loop alive for it (a watcher such as `docker events`), while
   * still piping its output. Implied by `detached`.
   */
  unref?: boolean;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  redact?: string[];
  /**
   * End the process (SIGKILL to its group) when this process dies, even by SIGKILL: it runs
   * under a tiny Node supervisor that watches a pipe from us and kills the group at its EOF.
   * For short-lived helpers that must never outlive their caller (a probe VM).
   */
  dieWithParent?: boolean;
}

export interface SpawnExit {
  exitCode?: number;
  signal?: string;
  /** Last 2 KiB of stderr (when piped). */
  stderrTail: string;
}

export interface SpawnedProcess {
  pid: number;
  argv: string[];
  /** Resolves when the process exits (never rejects). */
  exited: Promise<SpawnExit>;
  /** Signals the whole process group (default SIGTERM). */
  kill(signal?: NodeJS.Signals): void;
}

export interface ProcessRunner {
  /** Runs to completion. Throws CommandFailedError, TimeoutError, AbortedError or ToolNotFoundError. */
  run(argv: string[], options?: RunOptions): Promise<RunResult>;
  /** Starts a long-running process (a VM monitor, `tart run`). */
  spawn(argv: string[], options?: SpawnOptions): SpawnedProcess;
}

/**
 * Zod schema of an injected ProcessRunner (a backend's `runner` setting): any object with `run`
 * and `spawn` functions, e.g. `createRunner()` or `createReplayRunner(...)` from `@vms/core/testing`.
 */
export const processRunnerSchema = z.custom<ProcessRunner>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ProcessRunner).run === 'function' &&
    typeof (value as ProcessRunner).spawn === 'function',
  'must be a ProcessRunner ({ run, spawn })',
);

export interface RunnerSettings {
  /** Receives one line per command run (redacted), plus its outcome. Default: VMS_DEBUG=1 → stderr. */
  debug?: (line: string) => void;
  redact?: string[];
  /** Extra environment for every command. */
  env?: Record<string, string | undefined>;
}

/**
 * The supervisor of `dieWithParent` (run as `node -e`): runs argv in its own process group
 * (the supervisor leads it) and SIGKILLs the group when its stdin — a pipe whose other end only
 * the caller holds — reaches EOF, i.e. when the caller is gone. Exits as the command did.
 */
const PARENT_WATCH = `
const { spawn } = require('node:child_process');
const [cmd, ...args] = process.argv.slice(1);
const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
const die = () => { try { process.kill(-process.pid, 'SIGKILL'); } catch { child.kill('SIGKILL'); process.exit(137); } };
process.stdin.on('end', die);
process.stdin.on('error', die);
process.stdin.resume();
child.on('error', (e) => { process.stderr.write(e.message + '\\n'); process.exit(127); });
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code === null ? 1 : code);
});
`;

const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
const DEFAULT_KILL_GRACE_MS = 2000;
/** How long output pipes may stay open after the direct child exited (a daemonised grandchild). */
const PIPE_DRAIN_MS = 1000;
const STDERR_TAIL_BYTES = 2048;

/** Replaces every secret in `text` with `***` (longest first, so overlapping secrets stay hidden). */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of [...secrets].filter(Boolean).sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join('***');
  }
  return out;
}

/** `argv` with every secret masked, for messages and errors. */
export function redactArgv(argv: readonly string[], secrets: readonly string[]): string[] {
  return argv.map((arg) => redactText(arg, secrets));
}

/** POSIX shell quoting of one word: `sh` reads it back as exactly `word` (e.g. over ssh). */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Quotes an argv for a readable, copy-pasteable debug line. */
export function formatArgv(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/**
 * Throws CommandFailedError (argv and output redacted) when `result.exitCode` is not allowed by
 * `okExitCodes` (default [0]; 'any' allows all). Shared by the real and the replay runner.
 */
export function checkExitCode(
  result: RunResult,
  options: { okExitCodes?: number[] | 'any'; redact?: readonly string[]; signal?: string } = {},
): RunResult {
  const ok = options.okExitCodes ?? [0];
  if (ok === 'any' || (options.signal === undefined && ok.includes(result.exitCode))) return result;
  const secrets = options.redact ?? [];
  throw new CommandFailedError(redactArgv(result.argv, secrets), {
    ...(options.signal === undefined ? { exitCode: result.exitCode } : { signal: options.signal }),
    stderr: redactText(result.stderr, secrets),
    stdout: redactText(result.stdout, secrets),
  });
}

/** The error for a run ended by its deadline or its caller's abort, naming the command. */
export function runAbortError(
  signal: AbortSignal,
  argv: readonly string[],
  secrets: readonly string[],
): VmsError {
  return abortReasonToError(signal, `command ${formatArgv(redactArgv(argv, secrets))}`);
}

/** process.env, then each layer in order; a layer's undefined value removes the variable. */
export function mergeEnv(
  ...layers: Array<Record<string, string | undefined> | undefined>
): Record<string, string> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const layer of layers) {
    if (!layer) continue;
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) delete env[key];
      else env[key] = value;
    }
  }
  return env as Record<string, string>;
}

/** Keeps the first `maxBytes` bytes of `text` (UTF-8), telling whether anything was dropped. */
export function capOutput(
  text: string,
  maxBytes = DEFAULT_MAX_OUTPUT_BYTES,
): { text: string; truncated: boolean } {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return { text, truncated: false };
  return { text: bytes.subarray(0, maxBytes).toString('utf8'), truncated: true };
}

/** Keeps up to `max` bytes of a stream; counts what it drops. */
class OutputBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  constructor(private readonly max: number) {}
  push(chunk: Buffer): void {
    const room = this.max - this.size;
    if (room <= 0) {
      if (chunk.length > 0) this.truncated = true;
      return;
    }
    const kept = chunk.length <= room ? chunk : chunk.subarray(0, room);
    if (kept.length < chunk.length) this.truncated = true;
    this.chunks.push(kept);
    this.size += kept.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** Keeps the last `max` bytes of a stream. */
class TailBuffer {
  private buf = Buffer.alloc(0);
  constructor(private readonly max: number) {}
  push(chunk: Buffer): void {
    const joined = Buffer.concat([this.buf, chunk]);
    this.buf = joined.length > this.max ? joined.subarray(joined.length - this.max) : joined;
  }
  text(): string {
    return this.buf.toString('utf8');
  }
}

/** Signals a process group; a group that is already gone is not an error. */
function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the whole group has exited already.
  }
}

function exitCodeOf(exitCode: number | undefined, signal: string | undefined): number {
  if (exitCode !== undefined) return exitCode;
  const number = signal ? osConstants.signals[signal as NodeJS.Signals] : undefined;
  return 128 + (number ?? 0);
}

/** Process groups of runs in flight, killed if this process exits while they still run. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function trackGroup(pid: number): void {
  liveGroups.add(pid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const group of liveGroups) killGroup(group, 'SIGKILL');
    });
  }
}

function isReadable(value: unknown): value is Readable {
  return (
    typeof value === 'object' && value !== null && typeof (value as Readable).pipe === 'function'
  );
}

/**
 * Creates a ProcessRunner. `run` starts each command in its own process group so that a deadline
 * or abort ends the whole tree: SIGTERM to the group, SIGKILL after `killGraceMs`, and SIGKILL to
 * the group again once the direct child exits so grandchildren that ignore SIGTERM are gone too.
 */
export function createRunner(settings: RunnerSettings = {}): ProcessRunner {
  const debug =
    settings.debug ??
    (process.env.VMS_DEBUG === '1'
      ? (line: string) => process.stderr.write(`[vms] ${line}\n`)
      : undefined);
  const baseSecrets = settings.redact ?? [];

  async function run(argv: string[], options: RunOptions = {}): Promise<RunResult> {
    assertArgv(argv);
    const secrets = [...baseSecrets, ...(options.redact ?? [])];
    const shown = formatArgv(redactArgv(argv, secrets));
    const started = Date.now();
    const limit = deadlineSignal(options);
    if (limit.signal.aborted) {
      limit.dispose();
      throw runAbortError(limit.signal, argv, secrets);
    }
    debug?.(`$ ${shown}`);
    const stdinIsStream = isReadable(options.stdin);
    let child: ResultPromise;
    const { execa } = await loadExeca();
    try {
      child = execa(argv[0]!, argv.slice(1), {
        shell: false,
        detached: true,
        cleanup: false,
        reject: false,
        buffer: false,
        extendEnv: false,
        env: mergeEnv(settings.env, options.env),
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        stdin: options.stdin === undefined ? 'ignore' : 'pipe',
        stdout: 'pipe',
        stderr: 'pipe',
      });
    } catch (error) {
      limit.dispose();
      throw error;
    }
    const pid = child.pid;
    if (pid !== undefined) trackGroup(pid);
    const stdout = new OutputBuffer(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES);
    const stderr = new OutputBuffer(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES);

    // The first reason the run must end early: deadline, abort or a throwing output listener.
    let failure: { error: unknown } | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    const terminate = (error: () => unknown) => {
      if (failure) return;
      failure = { error: error() };
      killGroup(pid, 'SIGTERM');
      graceTimer = setTimeout(
        () => killGroup(pid, 'SIGKILL'),
        options.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
      );
    };
    const onAbort = () => terminate(() => runAbortError(limit.signal, argv, secrets));
    limit.signal.addEventListener('abort', onAbort, { once: true });

    const listen = (
      stream: Readable | null,
      buffer: OutputBuffer,
      listener?: (chunk: Buffer) => void,
    ) => {
      stream?.on('data', (chunk: Buffer) => {
        buffer.push(chunk);
        if (!listener || failure) return;
        try {
          listener(chunk);
        } catch (error) {
          terminate(() => error);
        }
      });
    };
    listen(child.stdout, stdout, options.onStdout);
    listen(child.stderr, stderr, options.onStderr);

    if (options.stdin !== undefined && child.stdin) {
      // A child that exits without reading its stdin must not crash us with EPIPE.
      child.stdin.on('error', () => {});
      if (stdinIsStream) (options.stdin as Readable).pipe(child.stdin);
      else child.stdin.end(options.stdin as string | Uint8Array);
    }

    let drainTimer: NodeJS.Timeout | undefined;
    child.once('exit', () => {
      // The command is over: a later deadline or abort must not kill what it left running.
      limit.signal.removeEventListener('abort', onAbort);
      clearTimeout(graceTimer);
      // Grandchildren that ignored SIGTERM die with the group once the direct child is gone.
      if (failure) killGroup(pid, 'SIGKILL');
      // A daemonised grandchild may hold our pipes open forever: stop reading after a short drain.
      drainTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, PIPE_DRAIN_MS);
    });

    let result: Awaited<ResultPromise>;
    try {
      result = await child;
    } finally {
      clearTimeout(graceTimer);
      clearTimeout(drainTimer);
      limit.signal.removeEventListener('abort', onAbort);
      limit.dispose();
      if (pid !== undefined) liveGroups.delete(pid);
      if (stdinIsStream && child.stdin) (options.stdin as Readable).unpipe(child.stdin);
    }
    const durationMs = Date.now() - started;

    if (
      result.code === 'ENOENT' &&
      pid === undefined &&
      (options.cwd === undefined || existsSync(options.cwd))
    ) {
      debug?.(`✗ ${shown}: not found (${durationMs} ms)`);
      throw new ToolNotFoundError(argv[0]!, { cause: result.cause });
    }
    if (failure) {
      debug?.(`✗ ${shown}: ${describeError(failure.error)} (${durationMs} ms)`);
      throw failure.error;
    }
    if (pid === undefined) {
      debug?.(`✗ ${shown}: could not start (${durationMs} ms)`);
      throw new CommandFailedError(
        redactArgv(argv, secrets),
        { stderr: result.message },
        {
          message: `could not start ${shown}: ${redactText(result.shortMessage ?? String(result.code), secrets)}`,
          cause: result.cause,
        },
      );
    }
    const signal = result.signal ?? undefined;
    const runResult: RunResult = {
      argv,
      exitCode: exitCodeOf(result.exitCode, signal),
      stdout: stdout.text(),
      stderr: stderr.text(),
      durationMs,
      truncated: stdout.truncated || stderr.truncated,
    };
    debug?.(
      `${signal ? `signal ${signal}` : `exit ${runResult.exitCode}`} ${shown} (${durationMs} ms)`,
    );
    return checkExitCode(runResult, {
      ...(options.okExitCodes === undefined ? {} : { okExitCodes: options.okExitCodes }),
      redact: secrets,
      ...(signal === undefined ? {} : { signal }),
    });
  }

  function spawn(argv: string[], options: SpawnOptions = {}): SpawnedProcess {
    assertArgv(argv);
    const secrets = [...baseSecrets, ...(options.redact ?? [])];
    const shown = formatArgv(redactArgv(argv, secrets));
    debug?.(`$ ${shown} &${options.detached ? ' (detached)' : ''}`);
    // node:child_process rather than execa: spawn must be synchronous, and execa is loaded
    // lazily (it costs ~130 ms of start-up that short CLI commands should not pay).
    const logFd = options.logFile === undefined ? undefined : openSync(options.logFile, 'a', 0o600);
    const output = logFd ?? (options.detached ? 'ignore' : 'pipe');
    let child: ChildProcess;
    const watched = options.dieWithParent === true && !options.detached;
    try {
      const [command, args] = watched
        ? [process.execPath, ['-e', PARENT_WATCH, '--', ...argv]]
        : [argv[0]!, argv.slice(1)];
      // node:child_process is loaded here, not at import (an HTTP-only command never needs it).
      child = process.getBuiltinModule('node:child_process').spawn(command, args, {
        shell: false,
        detached: true,
        env: mergeEnv(settings.env, options.env) as NodeJS.ProcessEnv,
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        stdio: [watched ? 'pipe' : 'ignore', output, output],
      });
      // Never written or ended by us: its EOF tells the supervisor that we are gone.
      (child.stdin as { unref?: () => void } | null)?.unref?.();
    } finally {
      if (logFd !== undefined) closeSync(logFd);
    }
    const settled = new Promise<{ exitCode?: number; signal?: string; error?: Error }>(
      (resolve) => {
        child.once('error', (error) => resolve({ error }));
        child.once('close', (code, signal) =>
          resolve({ ...(code === null ? {} : { exitCode: code }), ...(signal ? { signal } : {}) }),
        );
      },
    );
    const pid = child.pid;
    if (pid === undefined) {
      // Spawning failed synchronously (missing tool, not executable, bad cwd).
      debug?.(`✗ ${shown} &: could not start`);
      throw new ToolNotFoundError(argv[0]!, {
        hint: `could not start ${argv[0]}: make sure it is installed, executable and on PATH${options.cwd ? ` and that ${options.cwd} exists` : ''}`,
      });
    }
    if (!options.detached) trackGroup(pid);
    // Once it has exited its PID may be reused: kill() must not signal a stranger's group.
    let running = true;
    child.once('exit', () => {
      running = false;
      liveGroups.delete(pid);
      // As in run(): a grandchild holding the pipes must not keep `exited` pending.
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, PIPE_DRAIN_MS).unref();
    });
    const stderrTail = new TailBuffer(STDERR_TAIL_BYTES);
    child.stdout?.on('data', (chunk: Buffer) => options.onStdout?.(chunk));
    child.stderr?.on('data', (chunk: Buffer) => {
      stderrTail.push(chunk);
      options.onStderr?.(chunk);
    });
    const exited: Promise<SpawnExit> = settled.then((result) => {
      if (result.error) return { stderrTail: redactText(describeError(result.error), secrets) };
      const exit: SpawnExit = {
        ...(result.exitCode === undefined ? {} : { exitCode: result.exitCode }),
        ...(result.signal ? { signal: result.signal } : {}),
        stderrTail: redactText(tail(stderrTail.text(), STDERR_TAIL_BYTES), secrets),
      };
      debug?.(
        `${exit.signal ? `signal ${exit.signal}` : `exit ${exit.exitCode ?? '?'}`} ${shown} &`,
      );
      return exit;
    });
    if (options.detached || options.unref) {
      child.unref();
      const stdio = [child.stdout, child.stderr] as Array<{ unref?: () => void } | null>;
      for (const stream of stdio) stream?.unref?.();
    }
    return {
      pid,
      argv,
      exited,
      kill(signal: NodeJS.Signals = 'SIGTERM') {
        if (running) killGroup(pid, signal);
      },
    };
  }

  return { run, spawn };
}

let execaModule: Promise<typeof import('execa')> | undefined;
/** execa, imported on first use: commands that never spawn (an HTTP backend) never pay for it. */
function loadExeca(): Promise<typeof import('execa')> {
  execaModule ??= import('execa');
  return execaModule;
}

function assertArgv(argv: unknown): asserts argv is string[] {
  if (
    !Array.isArray(argv) ||
    argv.length === 0 ||
    !argv.every((arg) => typeof arg === 'string') ||
    argv[0] === ''
  ) {
    throw new InvalidOptionsError([
      { path: 'argv', message: 'must be a non-empty array of strings' },
    ]);
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

let lazyDefault: ProcessRunner | undefined;

/** A runner with default settings (VMS_DEBUG=1 logs to stderr), created on first use. */
export const defaultRunner: ProcessRunner = {
  run: (argv, options) => {
    lazyDefault ??= createRunner();
    return lazyDefault.run(argv, options);
  },
  spawn: (argv, options) => {
    lazyDefault ??= createRunner();
    return lazyDefault.spawn(argv, options);
  },
};
