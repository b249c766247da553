/**
 * The exit codes of `vms`: stable, documented in the README. `vms exec` and `vms shell` exit with
 * the command's own code when the command ran.
 */
import type { ErrorCode } from '@vms/core';

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  notFound: 3,
  unavailable: 4,
  timeout: 5,
  invalidTransition: 6,
  locked: 7,
  alreadyExists: 8,
  unsupported: 9,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const BY_CODE: Record<ErrorCode, ExitCode> = {
  INVALID_OPTIONS: EXIT.usage,
  NOT_FOUND: EXIT.notFound,
  ALREADY_EXISTS: EXIT.alreadyExists,
  INVALID_TRANSITION: EXIT.invalidTransition,
  CAPABILITY_UNSUPPORTED: EXIT.unsupported,
  BACKEND_UNAVAILABLE: EXIT.unavailable,
  TIMEOUT: EXIT.timeout,
  ABORTED: EXIT.interrupted,
  LOCKED: EXIT.locked,
  COMMAND_FAILED: EXIT.failed,
  OPERATION_FAILED: EXIT.failed,
  PROTOCOL_ERROR: EXIT.failed,
  POLICY_REFUSED: EXIT.failed,
};

/** The exit code for a @vms error code (1 for anything unknown). */
export function exitCodeFor(code: string | undefined): ExitCode {
  return (code && BY_CODE[code as ErrorCode]) || EXIT.failed;
}
