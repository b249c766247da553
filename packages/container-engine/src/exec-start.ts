/**
 * A command that could not start inside the container. Docker reports it as exit code 126 for
 * every cause, with an "OCI runtime exec failed" message (on stderr through the CLI, as the first
 * stdout frame through the API); the vms contract, like a shell and podman, says 127 when the
 * command does not exist and 126 when it cannot be executed.
 */

/** The daemon's message when the runtime could not start an exec'd command. */
export const OCI_START_FAILURE =
  /^(?:OCI runtime exec failed|Error: runc: exec failed|Error: crun:)/;

/** The exit code the contract gives a command the runtime could not start, from its message. */
export function startFailureExitCode(message: string, exitCode: number): number {
  if (exitCode !== 126 && exitCode !== 127) return exitCode;
  if (/executable file not found|no such file or directory|command was not found/i.test(message))
    return 127;
  return exitCode;
}
