/**
 * limactl, run as argv arrays: errors classified by exit code (0 ok, 1 fatal; `shell` and `copy`
 * pass the remote exit code through), then by the fatal log message, which becomes the error
 * message.
 */
import { type ProcessRunner, VmsError } from '@vms/core';
import { type CallOptions, LogrusTool } from './logrus-tool.js';
import { type LimaInstance, parseLimaList, parseLimaVersion } from './parse.js';

export type { CallOptions };

/** `No instance matching NAME found.` + `unmatched instances` (exit 1). */
export function isUnmatched(error: unknown): boolean {
  return (
    VmsError.hasCode(error, 'COMMAND_FAILED') &&
    error.exitCode === 1 &&
    /unmatched instances|No instance matching/i.test(error.stderrTail)
  );
}

export class LimaCli extends LogrusTool {
  constructor(runner: ProcessRunner, limactlPath: string, env: Record<string, string>) {
    super('limactl', runner, limactlPath, env, parseLimaVersion);
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
}

export type { LimaInstance };
