/**
 * A ProcessRunner that answers from recordings instead of running anything: backends' unit
 * tests inject it to check the exact argv they run and how they parse a tool's output. Exit
 * codes, deadlines, aborts and output caps behave as in the real runner (same code).
 */

import { parseOptions } from '../options.js';
import {
  capOutput,
  checkExitCode,
  type ProcessRunner,
  type RunOptions,
  type RunResult,
  runAbortError,
  type SpawnExit,
  type SpawnedProcess,
  type SpawnOptions,
} from '../runner.js';
import { deadlineSignal, sleep } from '../wait.js';
import * as z from '../zod.js';

export interface Recording {
  /** Exact argv (each element a string or a RegExp tested against it) or a predicate. */
  argv: (string | RegExp)[] | ((argv: string[]) => boolean);
  exitCode?: number;
  stdout?: string;
  stderr?: string;
  /**
   * run(): how long the command "takes" (deadline and abort apply meanwhile).
   * spawn(): when the process exits; without it, it runs until kill().
   */
  delayMs?: number;
  /** How many calls it answers (default: unlimited). */
  times?: number;
}

export interface ReplayRunnerOptions {
  /** Throw on an argv no recording matches (default true); else answer exit 0 with no output. */
  strict?: boolean;
  /** Strings masked as in the real runner's errors. */
  redact?: string[];
}

export interface ReplayRunner extends ProcessRunner {
  /** Every argv run or spawned, in order. */
  readonly calls: string[][];
  /** Recordings with calls left (those with `times` not used up, and all unlimited ones). */
  pending(): Recording[];
}

const recordingSchema = z.object({
  argv: z.union([z.array(z.union([z.string(), z.instanceof(RegExp)])), z.function()]),
  exitCode: z.number().int().optional(),
  stdout: z.string().optional(),
  stderr: z.string().optional(),
  delayMs: z.number().min(0).optional(),
  times: z.number().int().positive().optional(),
});
const optionsSchema = z
  .object({ strict: z.boolean().optional(), redact: z.array(z.string()).optional() })
  .strict();

/** PIDs above Linux's largest possible pid_max (2^22), so no fake PID is ever a real process. */
let nextFakePid = 2 ** 22 + 1;

function describeRecording(recording: Recording): string {
  return typeof recording.argv === 'function'
    ? '<predicate>'
    : JSON.stringify(recording.argv.map(String));
}

/**
 * Creates a runner that answers each call with the first matching recording that has calls left.
 *
 * ```ts
 * const runner = createReplayRunner([
 *   { argv: ['docker', 'version', '--format', /json/], stdout: '{"Client":{}}' },
 *   { argv: (a) => a[1] === 'rm', exitCode: 1, stderr: 'No such container' },
 * ]);
 * ```
 */
export function createReplayRunner(
  recordings: Recording[],
  options: ReplayRunnerOptions = {},
): ReplayRunner {
  parseOptions(z.array(recordingSchema), recordings, 'recordings');
  const { strict = true, redact = [] } = parseOptions(optionsSchema, options);
  const left = recordings.map((recording) => recording.times ?? Number.POSITIVE_INFINITY);
  const calls: string[][] = [];

  const take = (argv: string[]): Recording | undefined => {
    const index = recordings.findIndex(
      (recording, i) => (left[i] ?? 0) > 0 && matches(recording, argv),
    );
    if (index >= 0) {
      left[index] = (left[index] ?? 1) - 1;
      return recordings[index];
    }
    if (!strict) return undefined;
    throw new Error(
      `replay runner: no recording matches ${JSON.stringify(argv)}\nrecordings with calls left:\n${
        recordings
          .filter((_, i) => (left[i] ?? 0) > 0)
          .map((r) => `  ${describeRecording(r)}`)
          .join('\n') || '  (none)'
      }`,
    );
  };

  async function run(argv: string[], options: RunOptions = {}): Promise<RunResult> {
    calls.push([...argv]);
    const secrets = [...redact, ...(options.redact ?? [])];
    const started = Date.now();
    const limit = deadlineSignal(options);
    try {
      if (limit.signal.aborted) throw runAbortError(limit.signal, argv, secrets);
      const recording = take(argv);
      if (recording?.delayMs) {
        await sleep(recording.delayMs, limit.signal).catch(() => {
          throw runAbortError(limit.signal, argv, secrets);
        });
      }
      const stdout = capOutput(recording?.stdout ?? '', options.maxOutputBytes);
      const stderr = capOutput(recording?.stderr ?? '', options.maxOutputBytes);
      if (recording?.stdout) options.onStdout?.(Buffer.from(recording.stdout));
      if (recording?.stderr) options.onStderr?.(Buffer.from(recording.stderr));
      const result: RunResult = {
        argv,
        exitCode: recording?.exitCode ?? 0,
        stdout: stdout.text,
        stderr: stderr.text,
        durationMs: Date.now() - started,
        truncated: stdout.truncated || stderr.truncated,
      };
      return checkExitCode(result, {
        ...(options.okExitCodes === undefined ? {} : { okExitCodes: options.okExitCodes }),
        redact: secrets,
      });
    } finally {
      limit.dispose();
    }
  }

  function spawn(argv: string[], options: SpawnOptions = {}): SpawnedProcess {
    calls.push([...argv]);
    const recording = take(argv);
    const stderrTail = (recording?.stderr ?? '').slice(-2048);
    let finish!: (exit: SpawnExit) => void;
    const exited = new Promise<SpawnExit>((resolve) => {
      finish = resolve;
    });
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const end = (exit: SpawnExit) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      finish(exit);
    };
    if (recording?.stdout) options.onStdout?.(Buffer.from(recording.stdout));
    if (recording?.stderr) options.onStderr?.(Buffer.from(recording.stderr));
    if (recording === undefined || recording.delayMs !== undefined) {
      timer = setTimeout(
        () => end({ exitCode: recording?.exitCode ?? 0, stderrTail }),
        recording?.delayMs ?? 0,
      );
    }
    return {
      pid: nextFakePid++,
      argv,
      exited,
      kill(signal: NodeJS.Signals = 'SIGTERM') {
        end({ signal, stderrTail });
      },
    };
  }

  return {
    run,
    spawn,
    calls,
    pending: () => recordings.filter((_, i) => (left[i] ?? 0) > 0),
  };
}

function matches(recording: Recording, argv: string[]): boolean {
  const pattern = recording.argv;
  if (typeof pattern === 'function') return pattern(argv);
  return (
    pattern.length === argv.length &&
    pattern.every((part, i) =>
      typeof part === 'string' ? part === argv[i] : part.test(argv[i] ?? ''),
    )
  );
}
