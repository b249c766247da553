/**
 * `prunePool`: finds and deletes the instances pools named `namePrefix` left behind (a process
 * that crashed, a pool dropped without `close()`). The CLI's `prune` can call it.
 */
import {
  createInstance,
  deadlineSignal,
  openInstance,
  parseOptions,
  toVmsError,
  type VmsError,
} from '@vms/core';
import { POOL_LABEL, parseMemberName, parseSavedStateName } from './naming.js';
import { type PruneOptions, pruneOptionsSchema } from './options.js';
import { livePoolIds } from './pool.js';
import { deleteMember } from './teardown.js';

export interface PruneResult {
  /** Names of the instances deleted. */
  deleted: string[];
  /** Instances of pools alive in this process, left alone (see `includeLive`). */
  skipped: string[];
  /** Instances that could not be deleted. */
  failed: { name: string; error: VmsError }[];
  /** Saved states of those pools deleted (backends with `savedStates`). */
  savedStates: string[];
}

/**
 * Deletes every instance named `<namePrefix>-<poolId>-<n>` (and, where the backend reports
 * labels, labelled `dev.vms.pool=<namePrefix>`), with its pool snapshot. Pools alive in this
 * process are skipped unless `includeLive`. Never throws for one instance: see `failed`.
 */
export async function prunePool(options: PruneOptions): Promise<PruneResult> {
  const o = parseOptions(pruneOptionsSchema, options);
  const deadline = deadlineSignal({
    timeoutMs: o.timeoutMs,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const result: PruneResult = { deleted: [], skipped: [], failed: [], savedStates: [] };
  try {
    const listed = await o.backend.list({ signal: deadline.signal });
    const ours = listed.filter((l) => {
      if (parseMemberName(o.namePrefix, l.name) === undefined) return false;
      const label = l.properties?.labels?.[POOL_LABEL];
      return label === undefined || label === o.namePrefix;
    });
    for (const l of ours) {
      const poolId = parseMemberName(o.namePrefix, l.name)!;
      if (!o.includeLive && livePoolIds.has(poolId)) result.skipped.push(l.name);
    }
    const doomed = ours.filter((l) => !result.skipped.includes(l.name));
    await Promise.all(
      doomed.map(async (l) => {
        try {
          // With the pool's options when given; else attached from what @vms recorded at create
          // (or through the backend's attach driver when that record is gone).
          const instance = o.options
            ? createInstance(o.backend, l.name, o.options, o.instanceSettings)
            : await openInstance(o.backend, l.name, { ...o.instanceSettings, refresh: false });
          await deleteMember(instance, {
            timeoutMs: Math.max(1, deadline.deadline - Date.now()),
            signal: deadline.signal,
            snapshot: true,
          });
          result.deleted.push(l.name);
        } catch (error) {
          result.failed.push({ name: l.name, error: toVmsError(error) });
        }
      }),
    );
    // Their saved states go last (their members' disks were overlays over them).
    const saved = o.backend.savedStates;
    if (saved) {
      for (const name of await saved.list()) {
        const poolId = parseSavedStateName(o.namePrefix, name);
        if (poolId === undefined || (!o.includeLive && livePoolIds.has(poolId))) continue;
        try {
          await saved.delete(name);
          result.savedStates.push(name);
        } catch (error) {
          result.failed.push({ name: `saved state ${name}`, error: toVmsError(error) });
        }
      }
    }
  } finally {
    deadline.dispose();
  }
  result.deleted.sort();
  return result;
}
