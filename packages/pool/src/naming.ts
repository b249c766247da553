/**
 * How a pool marks what it makes, so that `prunePool` can find it after a crash: instance names
 * `<namePrefix>-<poolId>-<n>` and labels in the common `labels` option.
 */
import { randomBytes } from 'node:crypto';

/** Label set on every pool instance: its pool's `namePrefix`. */
export const POOL_LABEL = 'dev.vms.pool';
/** Label set on every pool instance: the random id of the pool object that made it. */
export const POOL_ID_LABEL = 'dev.vms.pool-id';
/** Name of the snapshot a `recycle: 'snapshot'` pool takes when an instance first becomes ready. */
export const POOL_SNAPSHOT = 'vms-pool-ready';

/** Pool name prefixes: instance-name characters, short enough to leave room for `-<id>-<n>`. */
export const NAME_PREFIX_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,39}$/;

const POOL_ID_PATTERN = /^[0-9a-f]{8}$/;
const SUFFIX_PATTERN = /^([0-9a-f]{8})-([0-9a-z]{1,12})$/;

/** A fresh random pool id (8 hex digits). */
export function newPoolId(): string {
  return randomBytes(4).toString('hex');
}

/** The name of the `seq`-th instance of pool `poolId`. */
export function memberName(namePrefix: string, poolId: string, seq: number): string {
  if (!POOL_ID_PATTERN.test(poolId)) throw new Error(`invalid pool id ${JSON.stringify(poolId)}`);
  return `${namePrefix}-${poolId}-${seq.toString(36)}`;
}

/**
 * The pool id in an instance name made by a pool with `namePrefix`, or undefined when the name is
 * not one. Strict, so pool `ci` never claims the instances of pool `ci-linux`.
 */
export function parseMemberName(namePrefix: string, name: string): string | undefined {
  if (!name.startsWith(`${namePrefix}-`)) return undefined;
  const m = SUFFIX_PATTERN.exec(name.slice(namePrefix.length + 1));
  return m?.[1];
}

/** The labels a pool adds to its instances' options. */
export function poolLabels(namePrefix: string, poolId: string): Record<string, string> {
  return { [POOL_LABEL]: namePrefix, [POOL_ID_LABEL]: poolId };
}

/** The name of pool `poolId`'s saved state (backends with `savedStates`). */
export function savedStateName(namePrefix: string, poolId: string): string {
  return `${namePrefix}-${poolId}`;
}

/** The pool id in the name of a saved state made by a pool with `namePrefix`, else undefined. */
export function parseSavedStateName(namePrefix: string, name: string): string | undefined {
  if (!name.startsWith(`${namePrefix}-`)) return undefined;
  const id = name.slice(namePrefix.length + 1);
  return POOL_ID_PATTERN.test(id) ? id : undefined;
}
