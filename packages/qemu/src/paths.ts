/**
 * Host paths of an instance as the tools read them. QEMU takes any path (option values get
 * their commas doubled, see `optValue`); OpenSSH reads `-i` and `UserKnownHostsFile` through its
 * own quoting, `%` tokens and `${ENV}` expansion: `%` is escaped, what cannot be escaped is
 * refused up front, naming the path and the character.
 */
import { InvalidOptionsError } from '@vms/core';

/** The first character (or `${`) of `path` that no tool we run can take, if any. */
export function unusablePathPart(path: string): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are refused
  return /["\u0000-\u001f\u007f]|\$\{/.exec(path)?.[0];
}

/** Refuses a path the instance would need but ssh (or a terminal) cannot take. */
export function checkHostPath(path: string, field: string): void {
  const bad = unusablePathPart(path);
  if (bad === undefined) return;
  throw new InvalidOptionsError(
    [
      {
        path: field,
        message: `${JSON.stringify(path)} holds ${JSON.stringify(bad)}, which ssh cannot take in a path`,
      },
    ],
    {
      hint:
        field === 'VMS_HOME'
          ? 'set VMS_HOME to a directory whose path has no double quote, "${" or control character'
          : 'use a path without a double quote, "${" or control character',
    },
  );
}

/** A path for ssh's `IdentityFile` / `UserKnownHostsFile` options: `%` starts a token there, so it is doubled. */
export function sshPath(path: string): string {
  return path.replace(/%/g, '%%');
}
