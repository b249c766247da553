/**
 * events: NDJSON state changes. With NAME, the instance is refreshed every --interval (its
 * backend's own watch reports changes in between); without NAME, every instance of the available
 * backends is found by polling list(). Records: {"schema":"vms-cli/v1","type":"state"|"drift"|"error",…}.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { lazySchema, STATES } from '@vms/core';
import * as z from '@vms/core/zod';
import { expectPositionals } from './args.js';
import { backendSelection, selectBackends } from './backend-flags.js';
import type { CliContext, CommandModule } from './context.js';
import { EXIT } from './exit-codes.js';
import { durationFlag, validateFlags } from './flags.js';
import { attachInstance, listBackend, resolveRef } from './instances.js';
import { UsageError } from './usage-error.js';

const flagsSchema = lazySchema(() =>
  backendSelection().extend({
    interval: durationFlag().optional(),
    until: z.enum(STATES).optional(),
  }),
);

const DEFAULT_INTERVAL_MS = 2_000;

/** Sleeps `ms`; false when interrupted. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await delay(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

async function watchOne(
  ctx: CliContext,
  ref: string,
  intervalMs: number,
  until: string | undefined,
): Promise<number> {
  const { backend, name } = await resolveRef(ctx, ref);
  const instance = await attachInstance(ctx, backend, name);
  let reached = false;
  let wake: (() => void) | undefined;
  instance.on('state', (e) => {
    ctx.out.record({
      type: 'state',
      instance: e.instance,
      from: e.from,
      to: e.to,
      ...(e.action ? { action: e.action } : {}),
      at: e.at,
    });
    if (until && e.to.name === until) {
      reached = true;
      wake?.();
    }
  });
  instance.on('drift', (e) => {
    // The first observation is not drift: the handle starts out knowing nothing.
    if (e.expected.name === 'initial') return;
    ctx.out.record({
      type: 'drift',
      instance: e.instance,
      expected: e.expected,
      observed: e.observed,
      at: e.at,
    });
  });
  while (!ctx.signal.aborted) {
    try {
      await instance.refresh({ signal: ctx.signal });
    } catch (error) {
      if (ctx.signal.aborted) break;
      const { toVmsError } = await import('@vms/core');
      const e = toVmsError(error);
      ctx.out.record({
        type: 'error',
        instance: instance.id,
        code: e.code,
        message: e.message,
        at: new Date().toISOString(),
      });
    }
    if (reached) return EXIT.ok;
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    await Promise.race([pause(intervalMs, ctx.signal), woken]);
    if (reached) return EXIT.ok;
  }
  return EXIT.interrupted;
}

async function watchAll(
  ctx: CliContext,
  flags: z.output<ReturnType<typeof flagsSchema>>,
  intervalMs: number,
): Promise<number> {
  const { backends, timeoutMs } = await selectBackends(ctx, flags);
  const known = new Map<string, { name: string; reason?: string }>();
  while (!ctx.signal.aborted) {
    const listed = await Promise.all(backends.map((b) => listBackend(ctx, b, timeoutMs)));
    const at = new Date().toISOString();
    const seen = new Set<string>();
    for (const l of listed) {
      if (l.error) {
        if (!ctx.signal.aborted)
          ctx.out.record({
            type: 'error',
            backend: l.backend.name,
            code: l.error.code,
            message: l.error.message,
            at,
          });
        // A backend that did not answer keeps its instances as they were.
        for (const id of known.keys()) if (id.startsWith(`${l.backend.name}:`)) seen.add(id);
        continue;
      }
      for (const i of l.instances) {
        const id = `${l.backend.name}:${i.name}`;
        seen.add(id);
        const to = { name: i.state, ...(i.reason ? { reason: i.reason } : {}) };
        const from = known.get(id);
        if (!from || from.name !== to.name || from.reason !== to.reason) {
          ctx.out.record({ type: 'state', instance: id, from: from ?? null, to, at });
          known.set(id, to);
        }
      }
    }
    for (const [id, from] of known) {
      if (!seen.has(id)) {
        ctx.out.record({ type: 'state', instance: id, from, to: { name: 'deleted' }, at });
        known.delete(id);
      }
    }
    if (!(await pause(intervalMs, ctx.signal))) break;
  }
  return EXIT.interrupted;
}

export const run: CommandModule['run'] = async (ctx, args) => {
  expectPositionals('events', args.positionals, 0, 1, 'instance name');
  const flags = validateFlags('events', flagsSchema, args.values);
  const intervalMs = flags.interval ?? DEFAULT_INTERVAL_MS;
  const ref = args.positionals[0];
  if (ref) return watchOne(ctx, ref, intervalMs, flags.until);
  if (flags.until)
    throw new UsageError(
      '--until needs an instance name',
      'vms events BACKEND:NAME --until running',
    );
  return watchAll(ctx, flags, intervalMs);
};
