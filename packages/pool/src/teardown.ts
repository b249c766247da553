/** Deleting a pool instance and what the pool made for it (its ready snapshot), in one place. */
import { type Instance, VmsError } from '@vms/core';
import { POOL_SNAPSHOT } from './naming.js';

/**
 * Deletes `instance` (whatever its state), then its pool snapshot where the backend keeps
 * snapshots apart from the instance (docker images); a snapshot already gone is fine.
 */
export async function deleteMember(
  instance: Instance,
  options: { timeoutMs: number; signal?: AbortSignal; snapshot: boolean },
): Promise<void> {
  const op = {
    timeoutMs: options.timeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  await instance.delete(op);
  if (options.snapshot && instance.capabilities.snapshot) {
    try {
      await instance.snapshots.delete(POOL_SNAPSHOT, op);
    } catch (error) {
      if (!VmsError.hasCode(error, 'NOT_FOUND')) throw error;
    }
  }
}
