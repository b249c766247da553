/**
 * colima, run as argv arrays. Its failures are one logrus `level=fatal` line and exit 1, whose
 * message becomes the error message (LogrusTool). It needs Lima: a missing `lima` is its own
 * "dependency check failed" error.
 */
import { mkdirSync } from 'node:fs';
import { type ProcessRunner, type RunOptions, type RunResult, VmsError } from '@vms/core';
import { type CallOptions, LogrusTool } from '../logrus-tool.js';
import { compareVersions } from '../parse.js';
import { colimaStatusArgs, STATUS_JSON_SINCE } from './argv.js';
import {
  type ColimaInstance,
  type ColimaStatus,
  parseColimaList,
  parseColimaStatusJson,
  parseColimaStatusText,
  parseColimaVersion,
} from './parse.js';

export type { CallOptions };

/** `<display name> is not running` (status) / `not running` (ssh). */
export function isNotRunning(error: unknown): boolean {
  return VmsError.hasCode(error, 'COMMAND_FAILED') && /\bnot running\b/.test(error.message);
}

export class ColimaCli extends LogrusTool {
  #homeReady = false;

  constructor(
    runner: ProcessRunner,
    colimaPath: string,
    env: Record<string, string>,
    /** COLIMA_HOME when set: colima ignores it unless the directory exists. */
    readonly home: string | undefined,
  ) {
    super(
      'colima',
      runner,
      colimaPath,
      home ? { ...env, COLIMA_HOME: home } : env,
      parseColimaVersion,
    );
  }

  override run(args: string[], options: RunOptions = {}): Promise<RunResult> {
    if (this.home && !this.#homeReady) {
      mkdirSync(this.home, { recursive: true });
      this.#homeReady = true;
    }
    return super.run(args, options);
  }

  /** `colima list --json`: every profile (colima's Lima instances). */
  async list(options: CallOptions): Promise<ColimaInstance[]> {
    const result = await this.run(['list', '--json'], options);
    return parseColimaList(result.stdout);
  }

  /** One profile, from the full list (a filtered list fails for a missing profile on Lima ≥ 1). */
  async inspect(name: string, options: CallOptions): Promise<ColimaInstance | undefined> {
    return (await this.list(options)).find((i) => i.name === name);
  }

  /** `colima status` as JSON (0.8.1+) or parsed from its log lines; undefined when not running. */
  async status(name: string, options: CallOptions): Promise<ColimaStatus | undefined> {
    const version = (await this.version(options)) ?? '999.0.0';
    try {
      const result = await this.run(colimaStatusArgs(name, version), options);
      return compareVersions(version, STATUS_JSON_SINCE) >= 0
        ? parseColimaStatusJson(result.stdout)
        : parseColimaStatusText(result.stderr);
    } catch (error) {
      if (isNotRunning(error)) return undefined;
      throw error;
    }
  }
}

export type { ColimaInstance, ColimaStatus };
