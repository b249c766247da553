/**
 * `vms` itself: global flags, dispatch to a lazily loaded command, SIGINT → AbortSignal, and one
 * place that turns any error into `error: …` / `hint: …` (or a JSON envelope) and an exit code.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandArgs } from './args.js';
import { findCommand } from './commands.js';
import type { CliContext, CliStdin } from './context.js';
import type { BuiltinBackends } from './discovery.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { Output, type Stream } from './output.js';
import type { Registry } from './registry.js';
import { UsageError } from './usage-error.js';

export interface CliOptions {
  version: string;
  /** Backends compiled into a bundled CLI (vms-all), by package name. */
  builtins?: BuiltinBackends;
  stdout?: Stream;
  stderr?: Stream;
  stdin?: CliStdin;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Directory of the running CLI, to find backends installed next to it. */
  cliDir?: string;
  /** Install SIGINT/SIGTERM handlers (default true). */
  handleSignals?: boolean;
}

interface ErrorLike {
  code?: string;
  message: string;
  hint?: string;
  instance?: string;
  cause?: unknown;
  argv?: string[];
  stderrTail?: string;
}

function describe(error: unknown): ErrorLike {
  if (error instanceof Error) return error as ErrorLike;
  return { message: String(error) };
}

/** Hints for errors that come without one, by exit code. */
const DEFAULT_HINTS: Partial<Record<number, string>> = {
  [EXIT.timeout]: 'allow more time with --timeout (e.g. --timeout 10m)',
  [EXIT.locked]:
    'another process is operating on this instance: wait for it, or allow more time with --timeout',
};

/** Runs `vms` with `argv` (without node and script) and resolves to the exit code. */
export async function cliMain(argv: string[], options: CliOptions): Promise<number> {
  const env = options.env ?? process.env;
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  // Global flags may come before the command.
  const leading: string[] = [];
  let i = 0;
  while (i < argv.length && (argv[i] as string).startsWith('-')) leading.push(argv[i++] as string);
  const name = argv[i];
  const rest = argv.slice(i + 1);
  // Until the flags are parsed (an error may come first), look for --json/--debug before any `--`.
  const own = argv.indexOf('--') >= 0 ? argv.slice(0, argv.indexOf('--')) : argv;
  let json = own.includes('--json');
  let debug = own.includes('--debug');
  const out = new Output(stdout, stderr, env, json && name !== 'events');
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    out.note('');
    out.note(
      `${signal === 'SIGINT' ? 'interrupted' : 'terminated'}: aborting (press Ctrl-C again to exit now)`,
    );
    void import('@vms/core').then(({ AbortedError }) =>
      controller.abort(new AbortedError(`interrupted by ${signal}`)),
    );
  };
  const handleSignals = options.handleSignals ?? true;
  if (handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  const command = name ? findCommand(name) : undefined;
  try {
    if (leading.some((a) => a === '--version' || a === '-V') || name === 'version') {
      stdout.write(`${options.version}\n`);
      return EXIT.ok;
    }
    if (!name || (!command && leading.some((a) => a === '--help' || a === '-h'))) {
      const { mainHelp } = await import('./help.js');
      stdout.write(mainHelp(options.version));
      return name || leading.length ? EXIT.ok : EXIT.usage;
    }
    if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}`, 'run: vms help');
    const args = parseCommandArgs(command.name, [...leading, ...rest], {
      options: command.options,
      ...(command.restAfter !== undefined ? { restAfter: command.restAfter } : {}),
    });
    if (args.values.help) {
      const { commandHelp } = await import('./help.js');
      stdout.write(commandHelp(command));
      return EXIT.ok;
    }
    json = args.values.json === true;
    debug = args.values.debug === true;
    if (debug) env.VMS_DEBUG = '1';
    let registry: Registry | undefined;
    const cwd = options.cwd ?? process.cwd();
    const ctx: CliContext = {
      command: command.name,
      json,
      debug,
      out,
      signal: controller.signal,
      env,
      cwd,
      stdin: options.stdin ?? (process.stdin as CliStdin),
      version: options.version,
      showProgress: !json && stderr.isTTY === true && env.TERM !== 'dumb',
      ...(options.builtins ? { builtins: options.builtins } : {}),
      get registry(): Registry {
        if (!registry) throw new Error('registry not loaded: call loadRegistry(ctx) first');
        return registry;
      },
      settings: {
        // One command, then exit: no engine event stream (only `events` follows changes).
        watch: command.name === 'events',
        ...(debug
          ? {
              debug: (message: string, data?: Record<string, unknown>) =>
                out.note(`debug: ${message}${data ? ` ${JSON.stringify(data)}` : ''}`),
            }
          : {}),
      },
    };
    if (command.needsBackends !== false) {
      // Discovery is cheap (no imports) but only commands that need backends pay for zod + core.
      const { createRegistry } = await import('./backend-commands.js');
      registry = createRegistry({
        cwd,
        env,
        cliDir: options.cliDir ?? dirname(fileURLToPath(import.meta.url)),
        execPath: process.execPath,
        ...(options.builtins ? { builtins: options.builtins } : {}),
      });
    }
    const mod = await command.load();
    return await mod.run(ctx, args);
  } catch (error) {
    const e = describe(error);
    const usage = UsageError.isInstance(error);
    const code = usage ? EXIT.usage : exitCodeFor(e.code);
    const hint = e.hint ?? DEFAULT_HINTS[code];
    out.error(e.message, hint);
    if (debug) {
      let cause = e.cause;
      while (cause) {
        const c = describe(cause);
        out.note(`cause: ${c.message}`);
        cause = c.cause;
      }
      if (e.argv) out.note(`command: ${e.argv.join(' ')}`);
      if (e.stderrTail) out.note(`stderr: ${e.stderrTail.trim()}`);
      if (error instanceof Error && error.stack && !e.code) out.note(error.stack);
    }
    if (json && name !== 'events') {
      out.result(command?.name ?? name ?? '', {
        ok: false,
        error: {
          code: usage ? 'USAGE' : (e.code ?? 'OPERATION_FAILED'),
          message: e.message,
          ...(hint ? { hint } : {}),
          ...(e.instance ? { instance: e.instance } : {}),
        },
        exitCode: code,
      });
    }
    return code;
  } finally {
    if (handleSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}

/**
 * Exits once stdout and stderr have drained: watchers, child processes or a forwarded stdin a
 * backend left open must not keep `vms` alive after the command finished.
 */
export function exitWhenFlushed(code: number): void {
  let pending = 2;
  const done = () => {
    pending--;
    if (pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}
