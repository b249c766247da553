/** The pool's public inputs, validated with zod; errors name the offending field. */
import {
  type BackendV1,
  backoffOptionsSchema,
  type Instance,
  type InstanceSettings,
  isBackendV1,
} from '@vms/core';
import * as z from '@vms/core/zod';
import { NAME_PREFIX_PATTERN } from './naming.js';

/**
 * What happens to a released instance. `delete`: it is deleted and a fresh one is made.
 * `snapshot`: it is restored to the snapshot taken when it first became ready (backends with the
 * `snapshot` capability; others fall back to `delete`, announced by a `fallback` event).
 * `reuse`: it goes back to the pool as it is (started again if it was stopped).
 */
export type RecycleMode = 'delete' | 'snapshot' | 'reuse';

/**
 * The readiness check run on the way out of the pool. `auto`: `exec` when the backend can exec,
 * else `state`. `exec`: `exec(['true'])` must exit 0. `state`: `refresh()` must say running.
 * `none`: no check. A function: resolves when ready; throws, or resolves `false`, when not.
 */
export type HealthCheck = 'auto' | 'exec' | 'state' | 'none' | HealthCheckFn;

type HealthCheckFn = (instance: Instance, ctx: { signal: AbortSignal }) => Promise<unknown>;
const functionSchema = z.custom<HealthCheckFn>((v) => typeof v === 'function', {
  message: 'must be a function',
});

export const poolConfigSchema = z
  .object({
    backend: z.custom<BackendV1>((v) => isBackendV1(v), {
      message: 'must be a @vms backend (vms-backend-v1)',
    }),
    namePrefix: z
      .string()
      .regex(
        NAME_PREFIX_PATTERN,
        'must be 1-40 letters, digits, "_", "." or "-", starting with a letter or digit',
      ),
    /** Instance options for the backend (validated by its schema). */
    options: z.record(z.string(), z.unknown()).default({}),
    /** Instances kept created, started and ready (warm). */
    min: z.number().int().min(0).max(1000).default(1),
    /** Most live instances (warm, busy, creating, checking, recycling). Default: max(min, 1). */
    max: z.number().int().min(1).max(1000).optional(),
    /** A warm instance above `min` idle this long is deleted; 0 never shrinks. */
    idleTimeoutMs: z.number().int().min(0).default(300_000),
    recycle: z.enum(['delete', 'snapshot', 'reuse']).default('delete'),
    instanceSettings: z
      .custom<InstanceSettings>((v) => typeof v === 'object' && v !== null, {
        message: 'must be an object (InstanceSettings)',
      })
      .optional(),
    /** Default deadline of `acquire`. */
    acquireTimeoutMs: z.number().int().positive().default(300_000),
    healthCheck: z
      .union([z.enum(['auto', 'exec', 'state', 'none']), functionSchema])
      .default('auto'),
    /** Deadline of one readiness check. */
    healthCheckTimeoutMs: z.number().int().positive().default(10_000),
    /**
     * How long a passed readiness check is trusted. Warm instances are checked as they become
     * warm and again, while idle, at half this age; an acquire hands out an instance whose
     * last check passed within it at once (a death in between is reported by the backend's
     * watch and the instance replaced), and checks again first otherwise. 0: check on every
     * acquire, never while idle.
     */
    healthCheckMaxAgeMs: z.number().int().min(0).default(10_000),
    /** Most instances created at the same time. */
    createConcurrency: z.number().int().min(1).default(4),
    /** Delays between refill attempts after a failure (capped, jittered). */
    refillBackoff: backoffOptionsSchema.default({
      initialMs: 500,
      maxMs: 30_000,
      factor: 2,
      jitter: 0.2,
    }),
    /** Deadline of each delete (recycling, shrinking, closing). */
    deleteTimeoutMs: z.number().int().positive().default(120_000),
    /** Start members from a saved state where the backend can (`backend.savedStates`). */
    savedState: z.boolean().default(true),
    /** Acquires the latency percentiles are computed over. */
    latencyWindow: z.number().int().min(1).max(1_000_000).default(1000),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.max !== undefined && c.max < c.min) {
      ctx.addIssue({ code: 'custom', path: ['max'], message: `must be at least min (${c.min})` });
    }
  });

export type PoolConfigInput = z.input<typeof poolConfigSchema>;
export type PoolConfigParsed = z.output<typeof poolConfigSchema>;

const signalSchema = z.instanceof(AbortSignal, { message: 'must be an AbortSignal' });

export const acquireOptionsSchema = z
  .object({
    signal: signalSchema.optional(),
    /** Overrides the pool's `acquireTimeoutMs`. */
    timeoutMs: z.number().int().positive().optional(),
  })
  .strict();
export type AcquireOptions = z.input<typeof acquireOptionsSchema>;

export const releaseOptionsSchema = z
  .object({
    /** Overrides the pool's `recycle` for this instance (e.g. `delete` after a failed job). */
    recycle: z.enum(['delete', 'snapshot', 'reuse']).optional(),
  })
  .strict();
export type ReleaseOptions = z.input<typeof releaseOptionsSchema>;

export const waitOptionsSchema = z
  .object({
    signal: signalSchema.optional(),
    timeoutMs: z.number().int().positive().optional(),
  })
  .strict();
export type WaitOptions = z.input<typeof waitOptionsSchema>;

export const pruneOptionsSchema = z
  .object({
    backend: z.custom<BackendV1>((v) => isBackendV1(v), {
      message: 'must be a @vms backend (vms-backend-v1)',
    }),
    namePrefix: z.string().regex(NAME_PREFIX_PATTERN, 'must be a pool name prefix'),
    /**
     * Instance options handed to the backend to build the delete handles (the pool's own
     * options). Default: the options @vms recorded when each instance was created.
     */
    options: z.record(z.string(), z.unknown()).optional(),
    instanceSettings: z
      .custom<InstanceSettings>((v) => typeof v === 'object' && v !== null, {
        message: 'must be an object (InstanceSettings)',
      })
      .optional(),
    /** Also delete the instances of pools alive in this process (default false). */
    includeLive: z.boolean().default(false),
    signal: signalSchema.optional(),
    /** Deadline of the whole prune. */
    timeoutMs: z.number().int().positive().default(300_000),
  })
  .strict();
export type PruneOptions = z.input<typeof pruneOptionsSchema>;
