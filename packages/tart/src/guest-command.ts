/**
 * `tart exec` has no flags for environment, working directory or user: they are applied inside
 * the guest by wrapping the command, argv-safely (no shell re-splitting of the user's argv).
 */
export interface GuestCommandOptions {
  env?: Record<string, string>;
  cwd?: string;
  user?: string;
}

export function guestCommand(argv: string[], options: GuestCommandOptions): string[] {
  let command = argv;
  const env = Object.entries(options.env ?? {});
  if (env.length > 0) command = ['env', ...env.map(([k, v]) => `${k}=${v}`), ...command];
  if (options.cwd !== undefined) {
    // "$1" is the directory; the rest is the command, exec'd with its argv intact.
    command = [
      '/bin/sh',
      '-c',
      'cd -- "$1" || exit 1; shift; exec "$@"',
      'sh',
      options.cwd,
      ...command,
    ];
  }
  if (options.user !== undefined) command = ['sudo', '-n', '-u', options.user, '--', ...command];
  return command;
}
