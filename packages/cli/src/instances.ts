/**
 * From what the user typed to an Instance: `backend:name`, or `name` alone when exactly one
 * available backend has an instance of that name.
 */
import {
  type BackendV1,
  createInstance,
  type Instance,
  NotFoundError,
  openInstance,
  VmsError,
  validateInstanceName,
} from '@vms/core';
import { checkBackendName } from './backend-name.js';
import type { CliContext } from './context.js';
import { onEngineOf, recallEngineHost } from './engine-host.js';
import { createProgress, type Progress } from './progress.js';
import { withDeadline } from './registry.js';
import { formatDuration } from './units.js';
import { UsageError } from './usage-error.js';

export const DEFAULT_BACKEND_TIMEOUT_MS = 10_000;

export interface InstanceRef {
  backend?: string;
  name: string;
}

export function parseRef(text: string): InstanceRef {
  const colon = text.indexOf(':');
  if (colon < 0) return { name: text };
  const backend = text.slice(0, colon);
  const name = text.slice(colon + 1);
  if (!backend || !name) {
    throw new UsageError(
      `${JSON.stringify(text)} is not an instance name`,
      'write BACKEND:NAME (docker:web) or NAME',
    );
  }
  checkBackendName(backend, text);
  return { backend, name };
}

/** Lists one backend with a deadline; errors come back as values. */
export async function listBackend(
  ctx: CliContext,
  backend: BackendV1,
  timeoutMs: number,
  all = false,
): Promise<{
  backend: BackendV1;
  instances: Awaited<ReturnType<BackendV1['list']>>;
  error?: VmsError;
}> {
  try {
    const instances = await withDeadline(timeoutMs, ctx.signal, `${backend.name} list`, (signal) =>
      backend.list({ signal, all }),
    );
    return { backend, instances };
  } catch (error) {
    const { toVmsError } = await import('@vms/core');
    return { backend, instances: [], error: toVmsError(error) };
  }
}

/** A backend that could not be listed, as `vms list` reports it (human and JSON). */
export interface ListError {
  backend: string;
  code: string;
  message: string;
  hint?: string;
  /** Instances this machine's records hold on that backend (their state is unknown now). */
  recorded?: string[];
}

/**
 * The installed backends that are not available now but should have answered: they hold
 * instances in our records, or their tool is installed and does not answer (an engine that is
 * down). An empty engine and a backend that is simply not installed are not errors.
 */
export async function unreachableBackends(
  ctx: CliContext,
  available: readonly BackendV1[],
  timeoutMs: number,
): Promise<ListError[]> {
  const { listInstanceRecords, vmsHome } = await import('@vms/core');
  const loaded = (await ctx.registry.loadAll()).flatMap((l) => l.backends);
  const others = loaded.filter((b) => !available.includes(b));
  const found = await Promise.all(
    others.map(async (backend): Promise<ListError | undefined> => {
      const detected = await ctx.registry.detect(backend, timeoutMs, ctx.signal);
      if (detected.available) return undefined;
      const recorded = await listInstanceRecords(vmsHome(), backend.name).catch(() => []);
      if (recorded.length === 0 && !detected.toolPath) return undefined;
      const why = detected.reason ?? 'it does not answer';
      return {
        backend: backend.name,
        code: 'BACKEND_UNAVAILABLE',
        message: recorded.length
          ? `cannot list: ${why} (our records hold ${recorded.length} instance${recorded.length === 1 ? '' : 's'} there: ${recorded.join(', ')})`
          : `cannot list: ${why}`,
        ...(detected.hint ? { hint: detected.hint } : {}),
        ...(recorded.length ? { recorded } : {}),
      };
    }),
  );
  return found.filter((e): e is ListError => e !== undefined);
}

/** Finds the backend of `text`, searching every available backend when no backend is named. */
export async function resolveRef(
  ctx: CliContext,
  text: string,
  timeoutMs = DEFAULT_BACKEND_TIMEOUT_MS,
): Promise<{ backend: BackendV1; name: string }> {
  const ref = parseRef(text);
  validateInstanceName(ref.name);
  if (ref.backend) return { backend: await ctx.registry.get(ref.backend), name: ref.name };
  const available = await ctx.registry.available(timeoutMs, ctx.signal);
  if (available.length === 0) throw await noBackendsError(ctx);
  const listed = await Promise.all(available.map((b) => listBackend(ctx, b, timeoutMs)));
  const matches = listed.filter((l) => l.instances.some((i) => i.name === ref.name));
  if (matches.length === 1)
    return { backend: (matches[0] as (typeof matches)[0]).backend, name: ref.name };
  if (matches.length > 1) {
    matches.sort((a, b) => a.backend.name.localeCompare(b.backend.name));
    throw new UsageError(
      `${ref.name} is ambiguous: ${matches.map((m) => `${m.backend.name}:${ref.name}`).join(', ')}`,
      `name one: vms ${ctx.command} ${(matches[0] as (typeof matches)[0]).backend.name}:${ref.name}`,
    );
  }
  const failed = listed
    .filter((l) => l.error)
    .map((l) => `${l.backend.name} (${l.error?.message})`);
  throw new NotFoundError(
    `no instance named ${ref.name} in ${available.map((b) => b.name).join(', ')}`,
    {
      hint: failed.length
        ? `some backends did not answer: ${failed.join('; ')}`
        : 'see vms list, or name the backend: BACKEND:NAME',
    },
  );
}

/** The error when no backend is installed or none is available. */
export async function noBackendsError(ctx: CliContext): Promise<VmsError> {
  const loaded = await ctx.registry.loadAll();
  if (loaded.length === 0) {
    return new VmsError('BACKEND_UNAVAILABLE', 'no vms backend is installed', {
      hint: 'install one, e.g. npm install @vms/docker (or @vms/podman, @vms/qemu); see vms backends',
    });
  }
  return new VmsError('BACKEND_UNAVAILABLE', 'no installed backend is available', {
    hint: 'see vms backends for what each one needs',
  });
}

/**
 * A handle on an instance to create, from options built at run time (flags, JSON): core
 * validates them (unknown keys, capabilities) and throws INVALID_OPTIONS / CAPABILITY_UNSUPPORTED.
 */
export function makeInstance(
  ctx: CliContext,
  backend: BackendV1,
  name: string,
  options: unknown = {},
): Instance {
  return createInstance(backend, name, options, ctx.settings);
}

/**
 * A handle on an instance that already exists, through core's `openInstance`: with the options
 * @vms recorded when it was created (by any process), else the backend's attach driver (an
 * instance @vms did not create), else the schema's defaults. The op that follows reconciles.
 */
export async function attachInstance(
  ctx: CliContext,
  target: BackendV1,
  name: string,
): Promise<Instance> {
  // A container created with --on lives on that VM's engine.
  const on = await recallEngineHost(target.name, name);
  const backend = on ? await onEngineOf(ctx, target, on, attachInstance) : target;
  const instance = await openInstance(backend, name, { ...ctx.settings, refresh: false });
  if (ctx.debug) ctx.out.note(`debug: ${instance.id}: options from ${instance.optionsFrom}`);
  return instance;
}

/**
 * Runs one operation of `instance` with a spinner (on a terminal) fed by its events; an illegal
 * transition from `initial`/`deleted` becomes "does not exist" (exit 3).
 */
export async function withProgress<T>(
  ctx: CliContext,
  instance: Instance,
  label: string,
  work: () => Promise<T>,
): Promise<T> {
  const progress: Progress = createProgress(
    ctx.out.stderr,
    ctx.showProgress ? 'bar' : ctx.json ? 'off' : 'lines',
    `${label} ${instance.id}`,
  );
  const offs = [
    instance.on('progress', (e) => progress.step(e.step, e.detail)),
    instance.on('state', (e) => {
      progress.label(`${e.to.name} ${instance.id}`);
      if (ctx.debug) ctx.out.note(`debug: ${instance.id}: ${e.from.name} → ${e.to.name}`);
    }),
  ];
  try {
    return await work();
  } catch (error) {
    throw notFoundIfAbsent(error, instance);
  } finally {
    for (const off of offs) off();
    progress.stop();
  }
}

export function notFoundIfAbsent(error: unknown, instance: Instance): unknown {
  const state = instance.state.name;
  if (
    VmsError.hasCode(error, 'INVALID_TRANSITION') &&
    (state === 'initial' || state === 'deleted')
  ) {
    return new NotFoundError(`${instance.id} does not exist`, {
      instance: instance.id,
      hint: `create it: vms create ${instance.id}`,
      cause: error,
    });
  }
  return error;
}

export const took = (ms: number) => formatDuration(ms);
