/** What every command gets: parsed globals, output, the interrupt signal and the backends. */
import type { InstanceSettings } from '@vms/core';
import type { ParsedArgs } from './args.js';
import type { BuiltinBackends } from './discovery.js';
import type { Output } from './output.js';
import type { Registry } from './registry.js';

export interface CliStdin extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

export interface CliContext {
  command: string;
  json: boolean;
  debug: boolean;
  out: Output;
  /** Aborted on SIGINT/SIGTERM: operations end through it (exit 130). */
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdin: CliStdin;
  version: string;
  /** Whether to draw progress (stderr is a terminal and --json is off). */
  showProgress: boolean;
  /** The backends (discovered on first access). */
  readonly registry: Registry;
  /** Modules compiled into a bundled CLI (vms-all), by package name: backends, @vms/mcp. */
  builtins?: BuiltinBackends;
  /** Settings for every Instance the command makes (debug sink, timeouts). */
  settings: InstanceSettings;
}

export interface CommandModule {
  run(ctx: CliContext, args: ParsedArgs): Promise<number>;
}
