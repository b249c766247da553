import { describe, expect, it } from 'vitest';
import { OCI_START_FAILURE, startFailureExitCode } from './exec-start.js';

describe('a command the runtime could not start', () => {
  const notFound =
    'OCI runtime exec failed: exec failed: unable to start container process: exec: "nope": executable file not found in $PATH: unknown\r\n';
  const denied =
    'OCI runtime exec failed: exec failed: unable to start container process: exec: "/etc/passwd": permission denied: unknown\r\n';

  it('is recognised by the daemon message', () => {
    expect(OCI_START_FAILURE.test(notFound)).toBe(true);
    expect(OCI_START_FAILURE.test('hello\n')).toBe(false);
  });

  it('exits 127 when the command does not exist (docker says 126), 126 when not executable', () => {
    expect(startFailureExitCode(notFound, 126)).toBe(127);
    expect(startFailureExitCode(denied, 126)).toBe(126);
    expect(startFailureExitCode('', 3)).toBe(3);
  });
});
