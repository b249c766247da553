/**
 * One client's sandbox: the instances it created, under the names it gave them. Everything it
 * makes is named `mcp-<session>-<name>` and labelled with the session; each instance is deleted
 * when its lifetime is over, when the agent deletes it, and when the session ends (the client
 * disconnected, or the server exits). Operations on an instance end when it is deleted.
 */
import {
  AlreadyExistsError,
  type BackendV1,
  type Instance,
  InvalidOptionsError,
  NotFoundError,
  PolicyRefusedError,
  toVmsError,
  VmsError,
} from '@vms/core';
import type { Lease } from '@vms/pool';
import { ALIAS_PATTERN } from './policy.js';
import type { ServerCore } from './server-core.js';
import {
  ALIAS_LABEL,
  removeSessionRecord,
  SESSION_LABEL,
  sessionPrefix,
  writeSessionRecord,
} from './sessions.js';

/** How long deleting one instance may take when a session ends. */
const DELETE_TIMEOUT_MS = 120_000;
/** How long a closing session waits for its aborted tool calls to end (they end in ms). */
const CALLS_END_MS = 15_000;

export interface Tracked {
  /** The name the agent uses. */
  readonly alias: string;
  readonly instance: Instance;
  readonly backend: BackendV1;
  /** What it was made from. */
  readonly source: { template: string } | { image: string };
  readonly createdAt: Date;
  readonly expiresAt: Date;
  /** Set when the instance came from a warm pool: deleting releases it. */
  readonly lease: Lease | undefined;
  /** Snapshots taken through the session (deleted with the instance). */
  readonly snapshots: Set<string>;
  /** Aborted when the instance is being deleted: its running operations end. */
  readonly controller: AbortController;
  timer: NodeJS.Timeout | undefined;
}

export interface CreateRequest {
  alias: string | undefined;
  /** Backend of an image create (default: the first allowed backend that takes images). */
  backend?: string | undefined;
  template: string | undefined;
  image: string | undefined;
  cpus: number | undefined;
  memoryMiB: number | undefined;
  env: Record<string, string> | undefined;
  start: boolean;
}

export class Session {
  readonly id: string;
  readonly kind: 'stdio' | 'http';
  readonly core: ServerCore;
  readonly #instances = new Map<string, Tracked>();
  /** Aliases being created right now (reserved). */
  readonly #pending = new Set<string>();
  #seq = 0;
  #closing: Promise<void> | undefined;
  #recorded: Promise<unknown> | undefined;
  /** Tool calls running in this session (see track). */
  readonly #calls = new Set<Promise<unknown>>();

  constructor(core: ServerCore, id: string, kind: 'stdio' | 'http') {
    this.core = core;
    this.id = id;
    this.kind = kind;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Instances of this session, in creation order. */
  get instances(): Tracked[] {
    return [...this.#instances.values()];
  }

  /** Writes the session record (before anything is created). */
  record(): Promise<unknown> {
    this.#recorded ??= writeSessionRecord(this.core.home, this.id, this.kind);
    return this.#recorded;
  }

  /** The instance the agent calls `alias`; NOT_FOUND (with a hint) when there is none. */
  get(alias: string): Tracked {
    const tracked = this.#instances.get(alias);
    if (!tracked) {
      const known = [...this.#instances.keys()];
      throw new NotFoundError(`no instance named ${JSON.stringify(alias)} in this session`, {
        hint: known.length
          ? `instances of this session: ${known.join(', ')}`
          : 'create one with create_instance (list_instances shows what exists)',
      });
    }
    return tracked;
  }

  /** A signal for an operation on `tracked`: aborted by the caller's signal or when the instance goes. */
  signalFor(tracked: Tracked, signal: AbortSignal): AbortSignal {
    return AbortSignal.any([signal, tracked.controller.signal]);
  }

  async create(
    req: CreateRequest,
    signal: AbortSignal,
    progress: (m: string) => void,
  ): Promise<Tracked> {
    this.#assertOpen();
    const alias = req.alias ?? this.#nextAlias();
    if (!ALIAS_PATTERN.test(alias)) {
      throw new InvalidOptionsError([
        {
          path: 'name',
          message: `${JSON.stringify(alias)} is not a valid name (1-40 letters, digits, "_", "." or "-", starting with a letter or digit)`,
        },
      ]);
    }
    if (this.#instances.has(alias) || this.#pending.has(alias)) {
      throw new AlreadyExistsError(`this session already has an instance named ${alias}`, {
        hint: `pick another name, or delete_instance ${alias} first`,
      });
    }
    this.#pending.add(alias);
    try {
      const plan = await this.core.plan(req);
      await this.record();
      let instance: Instance;
      let lease: Lease | undefined;
      const off: Array<() => void> = [];
      const forward = (i: Instance) =>
        off.push(i.on('progress', (e) => progress(`${e.action}: ${e.step}`)));
      try {
        if (plan.pool && req.start) {
          progress(`taking a warm instance from the pool of template ${plan.pool.template}`);
          lease = await plan.pool.pool.acquire({ signal });
          instance = lease.instance;
        } else {
          const release = this.core.reserveSlot();
          try {
            instance = this.core.makeInstance(plan.backend, `${sessionPrefix(this.id)}${alias}`, {
              ...plan.options,
              labels: { ...plan.labels, [SESSION_LABEL]: this.id, [ALIAS_LABEL]: alias },
            });
            forward(instance);
            progress(`creating ${instance.id}`);
            await instance.create({ signal });
            if (req.start) {
              progress(`starting ${instance.id}`);
              try {
                await instance.start({ signal });
              } catch (error) {
                // A half-started instance is of no use to an agent: nothing is left behind.
                await instance.delete({ timeoutMs: DELETE_TIMEOUT_MS }).catch(() => {});
                throw error;
              }
            }
          } finally {
            release();
          }
        }
      } finally {
        for (const f of off) f();
      }
      const now = Date.now();
      const tracked: Tracked = {
        alias,
        instance,
        backend: plan.backend,
        source: plan.source,
        createdAt: new Date(now),
        expiresAt: new Date(now + this.core.policy.instanceLifetimeMs),
        lease,
        snapshots: new Set(),
        controller: new AbortController(),
        timer: undefined,
      };
      this.#instances.set(alias, tracked);
      this.core.instanceCount.add(tracked);
      tracked.timer = setTimeout(() => {
        this.core.log(
          `session ${this.id}: ${alias} (${instance.id}) reached its lifetime: deleting it`,
        );
        void this.delete(alias).catch((error: unknown) =>
          this.core.log(
            `session ${this.id}: could not delete ${instance.id}: ${toVmsError(error).message}`,
          ),
        );
      }, this.core.policy.instanceLifetimeMs);
      tracked.timer.unref();
      if (this.closed) {
        // The session ended while this create ran: the close already went by, so undo it here.
        await this.delete(alias).catch(() => {});
        throw new VmsError('ABORTED', 'the session ended during create');
      }
      return tracked;
    } finally {
      this.#pending.delete(alias);
      if (this.closed && this.#pending.size === 0 && this.#instances.size === 0)
        await removeSessionRecord(this.core.home, this.id).catch(() => {});
    }
  }

  /** Deletes the instance `alias` (ending its running operations first). */
  async delete(alias: string): Promise<{ existed: boolean }> {
    const tracked = this.get(alias);
    this.#instances.delete(alias);
    clearTimeout(tracked.timer);
    tracked.controller.abort(new VmsError('ABORTED', `${alias} is being deleted`));
    try {
      if (tracked.lease) {
        await tracked.lease.release({ recycle: 'delete' });
        return { existed: true };
      }
      const result = await tracked.instance.delete({ timeoutMs: DELETE_TIMEOUT_MS });
      for (const name of tracked.snapshots) {
        await tracked.instance.snapshots
          .delete(name, { timeoutMs: DELETE_TIMEOUT_MS })
          .catch((error: unknown) => {
            if (
              !VmsError.hasCode(error, 'NOT_FOUND') &&
              !VmsError.hasCode(error, 'INVALID_TRANSITION')
            )
              this.core.log(
                `session ${this.id}: snapshot ${name} of ${tracked.instance.id}: ${toVmsError(error).message}`,
              );
          });
      }
      return result;
    } finally {
      this.core.instanceCount.delete(tracked);
    }
  }

  /** A tool call of this session: close() lets the running ones end before deleting. */
  track<T>(call: Promise<T>): Promise<T> {
    this.#calls.add(call);
    const forget = () => this.#calls.delete(call);
    call.then(forget, forget);
    return call;
  }

  /**
   * Ends the session: running operations are aborted and awaited (so their processes, an exec's
   * ssh for one, are gone before this process may exit), every instance is deleted, then the
   * record is removed. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const t of this.#instances.values())
        t.controller.abort(new VmsError('ABORTED', 'the session is closing'));
      await endWithin(Promise.allSettled([...this.#calls]), CALLS_END_MS);
      const aliases = [...this.#instances.keys()];
      const results = await Promise.allSettled(aliases.map((a) => this.delete(a)));
      let failed = 0;
      results.forEach((r, i) => {
        if (r.status === 'rejected') {
          failed++;
          this.core.log(
            `session ${this.id}: could not delete ${aliases[i]}: ${toVmsError(r.reason).message}`,
          );
        }
      });
      // A record stays while something may be left: `vms prune` finds it once this process is gone.
      if (failed === 0 && this.#pending.size === 0)
        await removeSessionRecord(this.core.home, this.id);
      this.core.log(`session ${this.id} closed (${aliases.length - failed} instance(s) deleted)`);
    })();
    return this.#closing;
  }

  #assertOpen(): void {
    if (this.closed) throw new VmsError('ABORTED', 'the session is closing');
  }

  #nextAlias(): string {
    let alias: string;
    do alias = `vm-${++this.#seq}`;
    while (this.#instances.has(alias) || this.#pending.has(alias));
    return alias;
  }
}

/** Refusal helper: `rule` is the policy field that refused. */
export function refuse(rule: string, message: string, hint?: string): PolicyRefusedError {
  return new PolicyRefusedError(rule, message, hint ? { hint } : {});
}

/** Resolves when `work` settles or after `ms`, whichever is first. */
function endWithin(work: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    work.finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
