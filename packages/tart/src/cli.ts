/**
 * The tart commands the driver runs, each built as an argv array and classified by exit code
 * first (tart: 0 ok, 1 runtime error, 2 VMDoesNotExist / VMNotRunning / VMAlreadyRunning,
 * 64 usage), then by the message.
 */
import {
  CommandFailedError,
  type ProcessRunner,
  type RunOptions,
  type RunResult,
  VmsError,
} from '@vms/core';
import {
  parseTartGet,
  parseTartIp,
  parseTartList,
  parseTartVersion,
  type TartListEntry,
  type TartVmDetails,
} from './parse.js';

export type CallOptions = Pick<RunOptions, 'signal' | 'deadline' | 'timeoutMs'>;

/** `the specified VM "NAME" does not exist` (exit 2; exit 1 from `tart run`'s validation). */
export function isDoesNotExist(error: unknown): boolean {
  return (
    VmsError.hasCode(error, 'COMMAND_FAILED') &&
    (error.exitCode === 2 || error.exitCode === 1) &&
    /does not exist/i.test(error.stderrTail)
  );
}

/** `VM "NAME" is running` (exit 1, from `tart delete`). */
export function isRunning(error: unknown): boolean {
  return (
    VmsError.hasCode(error, 'COMMAND_FAILED') &&
    error.exitCode === 1 &&
    /^VM ".*" is running\s*$/m.test(error.stderrTail)
  );
}

/** `VM "NAME" is not running` (exit 2). */
export function isNotRunning(error: unknown): boolean {
  return (
    VmsError.hasCode(error, 'COMMAND_FAILED') &&
    error.exitCode === 2 &&
    /is not running/i.test(error.stderrTail)
  );
}

export class TartCli {
  constructor(
    readonly runner: ProcessRunner,
    readonly tartPath: string,
    readonly env: Record<string, string>,
  ) {}

  argv(args: string[]): string[] {
    return [this.tartPath, ...args];
  }

  run(args: string[], options: RunOptions = {}): Promise<RunResult> {
    return this.runner.run(this.argv(args), { ...options, env: { ...this.env, ...options.env } });
  }

  /** `tart get NAME --format json`; undefined when the VM does not exist. */
  async get(name: string, options: CallOptions): Promise<TartVmDetails | undefined> {
    try {
      const result = await this.run(['get', name, '--format', 'json'], options);
      return parseTartGet(result.stdout);
    } catch (error) {
      if (isDoesNotExist(error)) return undefined;
      throw error;
    }
  }

  /** `tart ip NAME`; undefined when no address is known yet. */
  async ip(
    name: string,
    resolver: string | undefined,
    options: CallOptions,
  ): Promise<string | undefined> {
    const args = ['ip', name, ...(resolver ? ['--resolver', resolver] : [])];
    const result = await this.run(args, { ...options, okExitCodes: [0, 1] });
    if (result.exitCode !== 0) {
      if (/no IP address found/i.test(result.stderr)) return undefined;
      throw new CommandFailedError(this.argv(args), result);
    }
    return parseTartIp(result.stdout);
  }

  /** `tart list --format json` (local VMs and the OCI cache). */
  async list(options: CallOptions): Promise<TartListEntry[]> {
    const result = await this.run(['list', '--format', 'json'], options);
    return parseTartList(result.stdout);
  }

  async version(options: CallOptions): Promise<string | undefined> {
    const result = await this.run(['--version'], options);
    return parseTartVersion(result.stdout);
  }
}
