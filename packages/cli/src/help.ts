/** Help text, rendered from the command table. */
import { GLOBAL_OPTIONS, type OptionDefs } from './args.js';
import { COMMANDS, type CommandDef } from './commands.js';

function optionLines(options: OptionDefs): string[] {
  const rows = Object.entries(options).map(([name, def]) => {
    const flag = `${def.short ? `-${def.short}, ` : '    '}--${name}${def.value ? ` ${def.value}` : ''}`;
    return [flag, `${def.description}${def.multiple ? ' (repeatable)' : ''}`] as const;
  });
  const width = Math.max(0, ...rows.map(([f]) => f.length));
  return rows.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`);
}

export const EXIT_CODES_TEXT =
  'Exit codes: 0 ok, 1 failed, 2 usage, 3 not found, 4 backend unavailable, 5 timeout, 6 invalid transition, 7 locked, 8 already exists, 9 unsupported by the backend, 130 interrupted; exec and shell exit with the command’s own code.';

export function mainHelp(version: string): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `vms ${version} — one lifecycle for local VMs and containers`,
    '',
    'Usage: vms <command> [flags]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Global flags:',
    ...optionLines({
      ...GLOBAL_OPTIONS,
      version: { type: 'boolean', short: 'V', description: 'print the version' },
    }),
    '',
    'Instances are named BACKEND:NAME (docker:web), or NAME alone when exactly one backend has it.',
    EXIT_CODES_TEXT,
    '',
    "Run 'vms help COMMAND' (or 'vms COMMAND --help') for a command's flags and examples.",
    '',
  ].join('\n');
}

export function commandHelp(def: CommandDef): string {
  return [
    `${def.summary}.`,
    '',
    `Usage: ${def.usage}`,
    ...(def.description ? ['', def.description] : []),
    ...(Object.keys(def.options).length ? ['', 'Flags:', ...optionLines(def.options)] : []),
    '',
    'Global flags:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    'Examples:',
    ...def.examples.map((e) => `  ${e}`),
    '',
  ].join('\n');
}
