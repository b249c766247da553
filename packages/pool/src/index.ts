/// <reference types="node" preserve="true" />
// ^ our .d.ts use Node's types: this loads @types/node (a peer) whatever the tsconfig "types" say
/** `@vms/pool`: warm pools of @vms instances over any backend. */
export { PoolClosedError } from './errors.js';
export type { BackgroundPhase, DeleteReason, PoolEventName, PoolEvents } from './events.js';
export { runHealthCheck } from './health.js';
export {
  NAME_PREFIX_PATTERN,
  POOL_ID_LABEL,
  POOL_LABEL,
  POOL_SNAPSHOT,
  parseMemberName,
} from './naming.js';
export type {
  AcquireOptions,
  HealthCheck,
  PruneOptions,
  RecycleMode,
  ReleaseOptions,
  WaitOptions,
} from './options.js';
export { type CloseOptions, createPool, type Lease, Pool, type PoolConfig } from './pool.js';
export { type PruneResult, prunePool } from './prune.js';
export type { LatencySummary, PoolStats, PoolTotals } from './stats.js';
