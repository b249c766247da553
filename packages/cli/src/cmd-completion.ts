/**
 * Shell completion scripts for bash, zsh and fish, generated from the command table. Instance
 * names complete from `vms list --json` (quick: backends answer in parallel with a deadline).
 */
import { expectPositionals, GLOBAL_OPTIONS, type OptionDefs } from './args.js';
import { COMMANDS } from './commands.js';
import type { CommandModule } from './context.js';
import { EXIT } from './exit-codes.js';
import { UsageError } from './usage-error.js';

const flagsOf = (options: OptionDefs): string[] =>
  Object.entries({ ...options, ...GLOBAL_OPTIONS }).flatMap(([name, def]) => [
    `--${name}`,
    ...(def.short ? [`-${def.short}`] : []),
  ]);

const LIST_NAMES = `vms list --json --backend-timeout 3s 2>/dev/null | sed -n 's/^ *"id": "\\(.*\\)",\\{0,1\\}$/\\1/p'`;

function bash(): string {
  const cases = COMMANDS.map(
    (c) =>
      `    ${c.name}) flags="${flagsOf(c.options).join(' ')}"; instances=${c.takesInstance ? 1 : 0} ;;`,
  );
  return `# bash completion for vms: source <(vms completion bash)
_vms() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd=\${COMP_WORDS[1]} flags="" instances=0
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${COMMANDS.map((c) => c.name).join(' ')} --help --version" -- "$cur"))
    return
  fi
  case "$cmd" in
${cases.join('\n')}
  esac
  case "$cmd" in
    completion) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")); return ;;
    help) COMPREPLY=($(compgen -W "${COMMANDS.map((c) => c.name).join(' ')}" -- "$cur")); return ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  elif [ "$instances" -eq 1 ]; then
    COMPREPLY=($(compgen -W "$(${LIST_NAMES})" -- "$cur"))
  fi
}
complete -F _vms vms
`;
}

function zsh(): string {
  const cmds = COMMANDS.map((c) => `    '${c.name}:${c.summary.replace(/'/g, '')}'`);
  const cases = COMMANDS.map(
    (c) =>
      `    ${c.name}) _values -w 'flags' ${flagsOf(c.options)
        .map((f) => `'${f}'`)
        .join(' ')} ;;`,
  );
  return `#compdef vms
# zsh completion for vms: vms completion zsh > "\${fpath[1]}/_vms"
_vms() {
  local -a commands
  commands=(
${cmds.join('\n')}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  if [[ $words[CURRENT] == -* ]]; then
    case $words[2] in
${cases.join('\n')}
    esac
    return
  fi
  case $words[2] in
    completion) _values 'shell' bash zsh fish ;;
    help) _describe 'command' commands ;;
    ${COMMANDS.filter((c) => c.takesInstance)
      .map((c) => c.name)
      .join('|')}) compadd -- \${(f)"$(${LIST_NAMES})"} ;;
  esac
}
_vms "$@"
`;
}

function fish(): string {
  const lines = [
    '# fish completion for vms: vms completion fish > ~/.config/fish/completions/vms.fish',
    'complete -c vms -f',
    ...COMMANDS.map(
      (c) =>
        `complete -c vms -n '__fish_use_subcommand' -a '${c.name}' -d '${c.summary.replace(/'/g, '')}'`,
    ),
  ];
  for (const c of COMMANDS) {
    for (const [name, def] of Object.entries({ ...c.options, ...GLOBAL_OPTIONS })) {
      lines.push(
        `complete -c vms -n '__fish_seen_subcommand_from ${c.name}' -l '${name}'${def.short ? ` -s '${def.short}'` : ''}${def.type === 'string' ? ' -r' : ''} -d '${def.description.replace(/'/g, '')}'`,
      );
    }
  }
  const withInstances = COMMANDS.filter((c) => c.takesInstance)
    .map((c) => c.name)
    .join(' ');
  lines.push(
    `complete -c vms -n '__fish_seen_subcommand_from ${withInstances}' -a '(${LIST_NAMES})'`,
  );
  lines.push(`complete -c vms -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'`);
  return `${lines.join('\n')}\n`;
}

const SCRIPTS: Record<string, () => string> = { bash, zsh, fish };

export const run: CommandModule['run'] = async (ctx, args) => {
  expectPositionals('completion', args.positionals, 1, 1, 'shell (bash, zsh or fish)');
  const shell = args.positionals[0] as string;
  const script = SCRIPTS[shell];
  if (!script)
    throw new UsageError(`no completion for ${JSON.stringify(shell)}`, 'choose bash, zsh or fish');
  ctx.out.stdout.write(script());
  return EXIT.ok;
};
