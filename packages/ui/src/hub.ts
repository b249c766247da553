/**
 * The dashboard's live model: every instance of every backend with its state, the history of
 * its transitions, the latency of each op, and the subscribers of the event stream. It is fed by
 * backend listings (after an event of the tool, or a poll) and by the core events of the
 * instances this dashboard acts on; it never asks anything itself.
 */
import {
  type ListedInstance,
  type Properties,
  STATES,
  type StateName,
  transition,
} from '@vms/core';
import { LatencyStats } from './latency.js';
import {
  type BackendView,
  type HubMessage,
  INSTANCE_ACTIONS,
  type InstanceAction,
  type InstanceView,
  type Snapshot,
  type TransitionEntry,
} from './protocol.js';

function isStateName(state: string): state is StateName {
  return (STATES as readonly string[]).includes(state);
}

const HISTORY_LIMIT = 200;

export interface HubOptions {
  /** How long a deleted instance stays on the page (default 10 min). */
  deletedTtlMs?: number;
}

export class Hub {
  readonly #backends = new Map<string, BackendView>();
  readonly #instances = new Map<string, InstanceView>();
  readonly #history = new Map<string, TransitionEntry[]>();
  readonly #subscribers = new Set<(message: HubMessage) => void>();
  readonly #opStarted = new Map<string, number>();
  /** What this dashboard is doing to each instance (kept apart: an op may begin before the instance exists). */
  readonly #busy = new Map<string, NonNullable<InstanceView['busy']>>();
  readonly #deletedTtlMs: number;
  readonly latency = new LatencyStats();

  constructor(options: HubOptions = {}) {
    this.#deletedTtlMs = options.deletedTtlMs ?? 600_000;
  }

  subscribe(listener: (message: HubMessage) => void): () => void {
    this.#subscribers.add(listener);
    return () => this.#subscribers.delete(listener);
  }

  #send(message: HubMessage): void {
    for (const listener of this.#subscribers) listener(message);
  }

  snapshot(): Snapshot {
    this.#expire();
    return {
      serverTime: new Date().toISOString(),
      backends: [...this.#backends.values()],
      instances: [...this.#instances.values()].sort((a, b) => a.id.localeCompare(b.id)),
      history: Object.fromEntries(this.#history),
      latency: this.latency.rows(),
    };
  }

  instance(id: string): InstanceView | undefined {
    return this.#instances.get(id);
  }

  backend(name: string): BackendView | undefined {
    return this.#backends.get(name);
  }

  setBackend(view: BackendView): void {
    this.#backends.set(view.name, view);
    this.#send({ type: 'backend', backend: view });
  }

  /** A fresh listing of `backend`: new, changed and vanished instances. */
  applyList(backend: string, listed: readonly ListedInstance[]): void {
    const seen = new Set<string>();
    for (const l of listed) {
      const id = `${backend}:${l.name}`;
      seen.add(id);
      this.#observe(id, backend, l.name, l.state, l.reason, {
        managed: l.managed,
        properties: l.properties ?? {},
      });
    }
    for (const view of this.#instances.values()) {
      if (view.backend !== backend || seen.has(view.id) || view.state === 'deleted') continue;
      // An op of this dashboard (creating, deleting) owns the state until it ends.
      if (this.#busy.has(view.id)) continue;
      this.#observe(view.id, backend, view.name, 'deleted', undefined, {});
    }
    this.#expire();
  }

  /**
   * A state the runtime of one of this dashboard's instances went through: `ui` when one of its
   * actions caused it, `observed` when the runtime only learnt it (a refresh, its watcher).
   */
  applyState(
    id: string,
    backend: string,
    name: string,
    state: string,
    source: TransitionEntry['source'],
    reason?: string,
    action?: string,
  ): void {
    this.#transition(id, backend, name, state, reason, source, action, {});
  }

  #observe(
    id: string,
    backend: string,
    name: string,
    state: string,
    reason: string | undefined,
    extra: { managed?: boolean; properties?: Properties },
  ): void {
    this.#transition(id, backend, name, state, reason, 'observed', undefined, extra);
  }

  #transition(
    id: string,
    backend: string,
    name: string,
    state: string,
    reason: string | undefined,
    source: TransitionEntry['source'],
    action: string | undefined,
    extra: { managed?: boolean; properties?: Properties },
  ): void {
    const at = new Date().toISOString();
    const before = this.#instances.get(id);
    const changed = before?.state !== state;
    const view: InstanceView = {
      id,
      backend,
      name,
      state,
      ...(reason ? { reason } : {}),
      managed: extra.managed ?? before?.managed ?? true,
      properties: extra.properties ?? before?.properties ?? {},
      since: changed ? at : (before?.since ?? at),
      actions: this.#offer(backend, state),
      ...(this.#busy.has(id) ? { busy: this.#busy.get(id) } : {}),
    };
    this.#instances.set(id, view);
    if (changed) {
      const entry: TransitionEntry = {
        state,
        at,
        ...(reason ? { reason } : {}),
        ...(action ? { action } : {}),
        source,
      };
      const list = this.#history.get(id) ?? [];
      list.push(entry);
      if (list.length > HISTORY_LIMIT) list.splice(0, list.length - HISTORY_LIMIT);
      this.#history.set(id, list);
      this.#send({ type: 'transition', id, entry });
    }
    if (changed || JSON.stringify(before) !== JSON.stringify(view))
      this.#send({ type: 'instance', instance: view });
  }

  /**
   * Core's legal, non-no-op actions in `state`, within what the backend can do (start from
   * suspended is offered as resume), plus snapshot and refresh where they apply.
   */
  #offer(backend: string, state: string): InstanceAction[] {
    if (!isStateName(state)) return [];
    const caps = this.#backends.get(backend)?.capabilities;
    const offered: InstanceAction[] = [];
    for (const a of INSTANCE_ACTIONS) {
      if (a === 'snapshot' || a === 'refresh') continue;
      const t = transition(state, a);
      if (!t.legal || t.noop) continue;
      if ((a === 'suspend' || a === 'resume') && caps?.suspend === false) continue;
      if (a === 'start' && state === 'suspended') continue;
      offered.push(a);
    }
    const settled = state === 'stopped' || state === 'running' || state === 'suspended';
    if (settled && caps?.snapshot) offered.push('snapshot');
    if (state !== 'deleted') offered.push('refresh');
    return offered;
  }

  opBegin(id: string, action: string): void {
    this.#opStarted.set(`${id}\u0000${action}`, Date.now());
    this.#setBusy(id, { action });
    this.#send({ type: 'op', id, action, phase: 'begin' });
  }

  opEnd(
    id: string,
    backend: string,
    action: string,
    ok: boolean,
    durationMs?: number,
    error?: { code: string; message: string; hint?: string },
  ): void {
    const key = `${id}\u0000${action}`;
    const started = this.#opStarted.get(key);
    this.#opStarted.delete(key);
    const ms = durationMs ?? (started === undefined ? undefined : Date.now() - started);
    if (ms !== undefined) {
      this.latency.record(backend, action, ms, ok);
      this.#send({ type: 'latency', latency: this.latency.rows() });
    }
    this.#setBusy(id, undefined);
    this.#send({
      type: 'op',
      id,
      action,
      phase: 'end',
      ok,
      ...(ms !== undefined ? { durationMs: ms } : {}),
      ...(error ? { error } : {}),
    });
  }

  progress(id: string, action: string, step: string): void {
    this.#setBusy(id, { action, step });
  }

  /** A timed call that is not an instance op (a backend's list()). */
  recordLatency(backend: string, op: string, ms: number, ok: boolean): void {
    this.latency.record(backend, op, ms, ok);
    this.#send({ type: 'latency', latency: this.latency.rows() });
  }

  #setBusy(id: string, busy: InstanceView['busy']): void {
    if (busy) this.#busy.set(id, busy);
    else this.#busy.delete(id);
    const view = this.#instances.get(id);
    if (!view) return;
    const next: InstanceView = { ...view };
    if (busy) next.busy = busy;
    else delete next.busy;
    this.#instances.set(id, next);
    this.#send({ type: 'instance', instance: next });
  }

  #expire(): void {
    const cutoff = Date.now() - this.#deletedTtlMs;
    for (const view of [...this.#instances.values()]) {
      if (view.state === 'deleted' && !view.busy && Date.parse(view.since) < cutoff) {
        this.#instances.delete(view.id);
        this.#history.delete(view.id);
        this.#send({ type: 'forget', id: view.id });
      }
    }
  }
}
