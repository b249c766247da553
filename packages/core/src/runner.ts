/**
 * Process runner over execa: argv arrays only, deadline + abort that kill the whole process
 * tree, output caps, secret redaction, debug logging. Injectable: backends take a
 * `ProcessRunner` in their settings so tests can replay recorded tool output.
 *
 * STUB: signatures are final; the implementation is being written.
 */

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
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  redact?: string[];
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

export interface RunnerSettings {
  /** Receives one line per command run (redacted), plus its outcome. Default: VMS_DEBUG=1 → stderr. */
  debug?: (line: string) => void;
  redact?: string[];
  /** Extra environment for every command. */
  env?: Record<string, string | undefined>;
}

export function createRunner(_settings: RunnerSettings = {}): ProcessRunner {
  throw new Error('not implemented yet');
}
