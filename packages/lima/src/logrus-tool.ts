/**
 * A Go command-line tool that reports through logrus on stderr (limactl, and colima, which
 * drives limactl): run as argv arrays, a failure classified by exit code and carrying the tool's
 * own last fatal (or error) log line as its message. Shared by the lima and colima backends.
 */
import {
  CommandFailedError,
  type ProcessRunner,
  type RunOptions,
  type RunResult,
  VmsError,
} from '@vms/core';
import { fatalMessage } from './parse.js';

export type CallOptions = Pick<RunOptions, 'signal' | 'deadline' | 'timeoutMs'>;

export class LogrusTool {
  #version: Promise<string | undefined> | undefined;

  constructor(
    /** The tool's name in messages, e.g. "limactl". */
    readonly tool: string,
    readonly runner: ProcessRunner,
    /** The executable: a name looked up on PATH, or a path. */
    readonly path: string,
    readonly env: Record<string, string>,
    private readonly parseVersion: (stdout: string) => string | undefined,
  ) {}

  argv(args: string[]): string[] {
    return [this.path, ...args];
  }

  /** Runs the tool; a failure's message is the tool's own fatal message. */
  async run(args: string[], options: RunOptions = {}): Promise<RunResult> {
    try {
      return await this.runner.run(this.argv(args), {
        ...options,
        env: { ...this.env, ...options.env },
      });
    } catch (error) {
      if (!VmsError.hasCode(error, 'COMMAND_FAILED')) throw error;
      const fatal = fatalMessage(error.stderrTail);
      if (!fatal) throw error;
      throw new CommandFailedError(
        error.argv,
        {
          ...(error.exitCode === undefined ? {} : { exitCode: error.exitCode }),
          ...(error.signal === undefined ? {} : { signal: error.signal }),
          stderr: error.stderrTail,
          stdout: error.stdoutTail,
        },
        {
          message: `${this.tool} ${args[0] ?? ''} failed (exit code ${error.exitCode ?? '?'}): ${fatal}`,
          cause: error,
        },
      );
    }
  }

  /** `TOOL --version`, asked once (a failure is asked again next time). */
  version(options: CallOptions): Promise<string | undefined> {
    this.#version ??= this.run(['--version'], options).then(
      (r) => this.parseVersion(r.stdout),
      (error: unknown) => {
        this.#version = undefined;
        throw error;
      },
    );
    return this.#version;
  }
}
