/**
 * Every action of the page goes through core's Instance runtime, as the CLI's do: the state
 * table, the per-instance queue and cross-process lock, deadlines and typed errors all apply.
 * Each handle's events (state, op, progress) feed the hub, so the page sees transitional
 * states and op latencies as they happen.
 */
import {
  type BackendV1,
  createInstance,
  type Instance,
  type InstanceSettings,
  InvalidOptionsError,
  NotFoundError,
  openInstance,
  parseOptions,
  type SnapshotInfo,
  toVmsError,
  validateInstanceName,
} from '@vms/core';
import { z } from 'zod';
import type { Hub } from './hub.js';
import type { InstanceAction } from './protocol.js';

/** `POST /api/instances` */
export const createBodySchema = z
  .object({
    backend: z.string().min(1),
    name: z.string().min(1),
    options: z.unknown().optional(),
    start: z.boolean().default(false),
  })
  .strict();

/** `POST /api/instances/:id/:action` */
export const actionBodySchema = z
  .object({
    /** stop: skip the graceful phase. */
    force: z.boolean().optional(),
    /** stop: how long the graceful phase may take. */
    graceMs: z.number().int().min(0).max(600_000).optional(),
    /** snapshot: its name (default: a timestamp). */
    snapshot: z.string().min(1).optional(),
  })
  .strict();
export type ActionBody = z.output<typeof actionBodySchema>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** `backend:name` → its parts, checked against the known backends. */
export function splitId(
  id: string,
  backends: ReadonlyMap<string, BackendV1>,
): { backend: BackendV1; name: string } {
  const colon = id.indexOf(':');
  const backendName = colon > 0 ? id.slice(0, colon) : '';
  const backend = backends.get(backendName);
  if (!backend) {
    throw new NotFoundError(`no backend ${JSON.stringify(backendName)} in this dashboard`, {
      hint: `instance ids look like docker:web; backends here: ${[...backends.keys()].join(', ') || 'none'}`,
    });
  }
  return { backend, name: validateInstanceName(id.slice(colon + 1)) };
}

export class Actions {
  readonly #hub: Hub;
  readonly #backends: ReadonlyMap<string, BackendV1>;
  readonly #settings: InstanceSettings;
  readonly #handles = new Map<string, Promise<Instance>>();
  /** Aborted when the server closes: the lifetime of the shared handles (never one request's). */
  readonly #closing: AbortSignal;

  constructor(
    hub: Hub,
    backends: ReadonlyMap<string, BackendV1>,
    settings: InstanceSettings,
    closing: AbortSignal,
  ) {
    this.#hub = hub;
    this.#backends = backends;
    this.#settings = settings;
    this.#closing = closing;
  }

  /** Creates (and optionally starts) an instance from the form's input. */
  async create(input: unknown, signal?: AbortSignal): Promise<{ id: string }> {
    const body = parseOptions(createBodySchema, input);
    const { backend, name } = splitId(`${body.backend}:${body.name}`, this.#backends);
    const options = body.options ?? {};
    if (!isPlainObject(options)) {
      throw new InvalidOptionsError([{ path: 'options', message: 'must be a JSON object' }]);
    }
    const instance = this.#wire(createInstance(backend, name, options, this.#settings));
    this.#handles.set(instance.id, Promise.resolve(instance));
    try {
      await instance.create(signal ? { signal } : {});
    } catch (error) {
      this.#handles.delete(instance.id);
      throw error;
    }
    if (body.start) await instance.start(signal ? { signal } : {});
    return { id: instance.id };
  }

  /** Runs one lifecycle action on `id`. */
  async act(
    id: string,
    action: InstanceAction,
    input: unknown,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const body = parseOptions(actionBodySchema, input);
    const instance = await this.handle(id);
    const op = signal ? { signal } : {};
    switch (action) {
      case 'start':
        return instance.start(op);
      case 'stop':
        return instance.stop({
          ...op,
          ...(body.force ? { force: true } : {}),
          ...(body.graceMs !== undefined ? { graceMs: body.graceMs } : {}),
        });
      case 'suspend':
        return instance.suspend(op);
      case 'resume':
        return instance.resume(op);
      case 'delete': {
        const result = await instance.delete(op);
        this.#handles.delete(id);
        return result;
      }
      case 'snapshot': {
        const name = body.snapshot ?? `ui-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        await this.#timed(instance, 'snapshot', () => instance.snapshots.create(name, op));
        return { snapshot: name };
      }
      case 'refresh': {
        const r = await instance.refresh(op);
        return { state: r.state, properties: r.properties };
      }
    }
  }

  async snapshots(id: string, signal?: AbortSignal): Promise<SnapshotInfo[]> {
    const instance = await this.handle(id);
    return instance.snapshots.list(signal ? { signal } : {});
  }

  /**
   * The handle of `id` (attached once, then reused: one queue per instance in this process).
   * Shared by every request, so it is attached under the server's lifetime, not a request's.
   */
  handle(id: string): Promise<Instance> {
    const { backend, name } = splitId(id, this.#backends);
    let pending = this.#handles.get(id);
    if (!pending) {
      // Core attaches with the options recorded at create, else the backend's attach driver
      // (an instance @vms did not create), else the schema's defaults; the ops reconcile.
      pending = openInstance(backend, name, {
        ...this.#settings,
        signal: this.#closing,
        refresh: false,
      }).then((i) => this.#wire(i));
      this.#handles.set(id, pending);
      pending.catch(() => this.#handles.delete(id));
    }
    return pending;
  }

  /** Ops core does not announce with `op` events (snapshots) are timed here. */
  async #timed<T>(instance: Instance, action: string, work: () => Promise<T>): Promise<T> {
    this.#hub.opBegin(instance.id, action);
    const started = Date.now();
    try {
      const result = await work();
      this.#hub.opEnd(instance.id, instance.backend.name, action, true, Date.now() - started);
      return result;
    } catch (error) {
      const e = toVmsError(error);
      this.#hub.opEnd(instance.id, instance.backend.name, action, false, Date.now() - started, {
        code: e.code,
        message: e.message,
        ...(e.hint ? { hint: e.hint } : {}),
      });
      throw error;
    }
  }

  #wire(instance: Instance): Instance {
    const hub = this.#hub;
    const backend = instance.backend.name;
    instance.on('state', (e) => {
      if (e.to.name === 'initial') return;
      const caused = e.action !== undefined && e.action !== 'refresh';
      hub.applyState(
        e.instance,
        backend,
        instance.name,
        e.to.name,
        caused ? 'ui' : 'observed',
        e.to.reason,
        caused ? e.action : undefined,
      );
    });
    instance.on('op', (e) => {
      if (e.phase === 'begin') hub.opBegin(e.instance, e.action);
      else
        hub.opEnd(
          e.instance,
          backend,
          e.action,
          e.ok === true,
          e.durationMs,
          e.error
            ? {
                code: e.error.code,
                message: e.error.message,
                ...(e.error.hint ? { hint: e.error.hint } : {}),
              }
            : undefined,
        );
    });
    instance.on('progress', (e) => hub.progress(e.instance, e.action, e.step));
    return instance;
  }

  /** Forgets every handle (the server is closing). */
  clear(): void {
    this.#handles.clear();
  }
}
