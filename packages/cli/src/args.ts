/**
 * Argument parsing over node:util parseArgs (strict: unknown flags are usage errors). The zod
 * validation of flag values is in flags.ts, loaded only by commands (help stays light).
 */
import { parseArgs } from 'node:util';
import { oneLine } from './output.js';
import { UsageError } from './usage-error.js';

export interface OptionDef {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Shown in help, e.g. `DURATION`. */
  value?: string;
  description: string;
}

export type OptionDefs = Record<string, OptionDef>;

/** Flags every command accepts. */
export const GLOBAL_OPTIONS: OptionDefs = {
  json: { type: 'boolean', description: 'machine-readable output ({ "schema": "vms-cli/v1", … })' },
  debug: { type: 'boolean', description: 'log the tool commands that run, and error causes' },
  help: { type: 'boolean', short: 'h', description: 'show help for the command' },
};

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  /** Everything after the command's last positional (or after `--`), for exec-like commands. */
  rest: string[];
}

export interface ParseSpec {
  options: OptionDefs;
  /** When set, arguments after this many positionals (or after `--`) are passed through as `rest`. */
  restAfter?: number;
}

/** Where the pass-through part of argv starts: after `--`, or after `restAfter` positionals. */
function splitRest(args: string[], spec: ParseSpec): { head: string[]; rest: string[] } {
  const options = { ...GLOBAL_OPTIONS, ...spec.options };
  const takesValue = (flag: string): boolean => {
    if (flag.startsWith('--')) {
      if (flag.includes('=')) return false;
      return options[flag.slice(2)]?.type === 'string';
    }
    const last = flag.slice(-1);
    return Object.values(options).some((o) => o.short === last && o.type === 'string');
  };
  let positionals = 0;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') return { head: args.slice(0, i), rest: args.slice(i + 1) };
    if (arg.startsWith('-') && arg.length > 1) {
      if (takesValue(arg)) i++;
      continue;
    }
    positionals++;
    if (spec.restAfter !== undefined && positionals === spec.restAfter) {
      // `NAME --json -e A=1 -- CMD`: flags between NAME and a `--` are still ours.
      let j = i + 1;
      while (j < args.length && (args[j] as string).startsWith('-') && args[j] !== '--') {
        j += takesValue(args[j] as string) ? 2 : 1;
      }
      if (args[j] === '--') return { head: args.slice(0, j), rest: args.slice(j + 1) };
      return { head: args.slice(0, i + 1), rest: args.slice(i + 1) };
    }
  }
  return { head: args, rest: [] };
}

export function parseCommandArgs(command: string, args: string[], spec: ParseSpec): ParsedArgs {
  const { head, rest } =
    spec.restAfter === undefined ? { head: args, rest: [] } : splitRest(args, spec);
  const options = Object.fromEntries(
    Object.entries({ ...GLOBAL_OPTIONS, ...spec.options }).map(([name, def]) => [
      name,
      {
        type: def.type,
        ...(def.short ? { short: def.short } : {}),
        ...(def.multiple ? { multiple: true } : {}),
      },
    ]),
  );
  try {
    const parsed = parseArgs({ args: head, options, allowPositionals: true, strict: true });
    return {
      values: parsed.values as ParsedArgs['values'],
      positionals: parsed.positionals,
      rest,
    };
  } catch (error) {
    throw usageFromParseError(error, command, head);
  }
}

/**
 * node:util parseArgs speaks in several lines of its own ("…argument is ambiguous. Did you
 * forget…"): one line naming the flag, and a hint, as every other usage error.
 */
export function usageFromParseError(error: unknown, command: string, args: string[]): UsageError {
  const message = error instanceof Error ? error.message : String(error);
  const help = `see: vms help ${command}`;
  const flag = /^Option '(?:(-\w), )?(--?[^' <]+)/.exec(message);
  const name = flag?.[2] ?? '';
  if (/argument is ambiguous/.test(message) && name) {
    const at = args.findIndex((a) => a === name || (flag?.[1] !== undefined && a === flag[1]));
    const next = at >= 0 ? args[at + 1] : undefined;
    const long = /use '(--[^=']+)=/.exec(message)?.[1] ?? name;
    return new UsageError(
      `${name} needs a value, but the next argument ${JSON.stringify(next ?? '')} is a flag`,
      `to pass a value that starts with "-", write ${long}=${next ?? '-VALUE'}`,
    );
  }
  const unknown = /^Unknown option '([\s\S]*?)'(?:\. To specify|$)/.exec(message);
  if (unknown) return new UsageError(`Unknown option '${oneLine(unknown[1] ?? '')}'`, help);
  if (/argument missing/.test(message) && name)
    return new UsageError(`${name} needs a value`, help);
  if (/does not take an argument/.test(message) && name)
    return new UsageError(`${name} takes no value`, help);
  const first = message.split('\n')[0] ?? message;
  return new UsageError(
    first.replace(/\. To specify a positional argument.*$/s, '').replace(/[.\s]+$/, ''),
    help,
  );
}

/** Exactly `count` positionals (or between min and max), else a usage error. */
export function expectPositionals(
  command: string,
  positionals: string[],
  min: number,
  max: number,
  what: string,
): void {
  if (positionals.length < min)
    throw new UsageError(`missing ${what}`, `usage: vms help ${command}`);
  if (positionals.length > max) {
    throw new UsageError(
      `unexpected argument ${JSON.stringify(positionals[max])}`,
      `see: vms help ${command}`,
    );
  }
}
