/**
 * limactl, run as argv arrays: errors classified by exit code (0 ok, 1 fatal; `shell` and `copy`
 * pass the remote exit code through), then by the fatal log message, which becomes the error
 * message.
 */
import { CommandFailedError, type ProcessRunner, type RunOptions, type RunResult } from '@vms/core';
import { fatalMessage, type LimaInstance, parseLimaList, parseLimaVersion } from './parse.js';

export type CallOptions = Pick<RunOptions, 'signal' | 'deadline' | 'timeoutMs'>;

/** `No instance matching NAME found.` + `unmatched instances` (exit 1). */
export function isUnmatched(error: unknown): boolean {
  return (
    error instanceof CommandFailedError &&
    error.exitCode === 1 &&
    /unmatched instances|No instance matching/i.test(error.stderrTail)
  );
}

export class LimaCli {
  #version: Promise<string | undefined> | undefined;

  constructor(
    readonly runner: ProcessRunner,
    readonly limactlPath: string,
    readonly env: Record<string, string>,
  ) {}

  argv(args: string[]): string[] {
    return [this.limactlPath, ...args];
  }

  /** Runs limactl; a failure's message is limactl's own fatal message. */
  async run(args: string[], options: RunOptions = {}): Promise<RunResult> {
    try {
      return await this.runner.run(this.argv(args), {
        ...options,
        env: { ...this.env, ...options.env },
      });
    } catch (error) {
      if (!(error instanceof CommandFailedError)) throw error;
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
          message: `limactl ${args[0] ?? ''} failed (exit code ${error.exitCode ?? '?'}): ${fatal}`,
          cause: error,
        },
      );
    }
  }

  /** `limactl list --json NAME`; undefined when lima does not know the instance. */
  async inspect(name: string, options: CallOptions): Promise<LimaInstance | undefined> {
    try {
      const result = await this.run(['list', '--json', name], options);
      return parseLimaList(result.stdout).find((i) => i.name === name);
    } catch (error) {
      if (isUnmatched(error)) return undefined;
      throw error;
    }
  }

  /** `limactl list --json`: every instance. */
  async list(options: CallOptions): Promise<LimaInstance[]> {
    const result = await this.run(['list', '--json'], options);
    return parseLimaList(result.stdout);
  }

  /** `limactl --version`, asked once. */
  version(options: CallOptions): Promise<string | undefined> {
    this.#version ??= this.run(['--version'], options).then(
      (r) => parseLimaVersion(r.stdout),
      (error: unknown) => {
        this.#version = undefined;
        throw error;
      },
    );
    return this.#version;
  }
}

export type { LimaInstance };
