/** The readiness check an instance passes on its way out of the pool. */
import {
  abortReasonToError,
  deadlineSignal,
  type Instance,
  OperationFailedError,
  raceAbort,
  toVmsError,
} from '@vms/core';
import type { HealthCheck } from './options.js';

/**
 * Resolves when `instance` is ready by `check`; throws (a VmsError) when it is not, when the
 * check fails, or at `timeoutMs`. A check that ignores its signal cannot outlive the deadline.
 */
export async function runHealthCheck(
  check: HealthCheck,
  instance: Instance,
  options: { signal: AbortSignal; timeoutMs: number },
): Promise<void> {
  if (check === 'none') return;
  const deadline = deadlineSignal({ signal: options.signal, timeoutMs: options.timeoutMs });
  const { signal } = deadline;
  const mode = check === 'auto' ? (instance.capabilities.exec ? 'exec' : 'state') : check;
  try {
    const work = async (): Promise<void> => {
      if (mode === 'exec') {
        const r = await instance.exec(['true'], { signal, maxOutputBytes: 4096 });
        if (r.exitCode !== 0) {
          throw new OperationFailedError(
            `readiness check \`true\` exited with code ${r.exitCode}${r.stderr ? `: ${r.stderr.trim().slice(0, 300)}` : ''}`,
            { instance: instance.id },
          );
        }
      } else if (mode === 'state') {
        const { state } = await instance.refresh({ signal });
        if (state.name !== 'running') {
          throw new OperationFailedError(
            `readiness check: instance is ${state.name}${state.reason ? ` (${state.reason})` : ''}`,
            { instance: instance.id },
          );
        }
      } else {
        const ok = await mode(instance, { signal });
        if (ok === false) {
          throw new OperationFailedError('readiness check returned false', {
            instance: instance.id,
          });
        }
      }
    };
    await raceAbort(work(), signal);
  } catch (error) {
    if (signal.aborted) {
      throw abortReasonToError(signal, `readiness check of ${instance.id}`);
    }
    throw toVmsError(error, `readiness check of ${instance.id} failed`);
  } finally {
    deadline.dispose();
  }
}
