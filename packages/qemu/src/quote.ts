/** POSIX shell quoting for argv sent to a remote shell (ssh joins its arguments with spaces). */

/** Quotes one argument so `sh` reads it back as exactly this string. */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
