/** Typed events emitted by an Instance. */
import { EventEmitter } from 'node:events';
import type { VmsError } from './errors.js';
import type { ProgressDetail } from './spec/v1.js';
import type { Action, InstanceState } from './states.js';

export type { ProgressDetail };

export interface InstanceEvents {
  /** Every state change, including the transitional ones. */
  state: { instance: string; from: InstanceState; to: InstanceState; action?: Action; at: string };
  /** Reality differed from what the runtime believed (found by refresh, an op's reconcile, or a watch). */
  drift: { instance: string; expected: InstanceState; observed: InstanceState; at: string };
  /** Output of exec and logs, as it arrives. */
  output: { instance: string; stream: 'stdout' | 'stderr'; chunk: Buffer; source: 'exec' | 'logs' };
  /** The current step of a long operation, with structured detail when the work is measurable. */
  progress: {
    instance: string;
    action: string;
    step: string;
    elapsedMs: number;
    detail?: ProgressDetail;
  };
  /** An operation began or ended. */
  op: {
    instance: string;
    action: string;
    phase: 'begin' | 'end';
    ok?: boolean;
    durationMs?: number;
    error?: VmsError;
  };
}

export type InstanceEventName = keyof InstanceEvents;

/** A minimal typed wrapper over EventEmitter. */
export class TypedEmitter<E extends { [K in keyof E]: unknown }> {
  readonly #emitter = new EventEmitter();

  constructor() {
    this.#emitter.setMaxListeners(0);
  }

  on<K extends keyof E & string>(event: K, listener: (payload: E[K]) => void): () => void {
    this.#emitter.on(event, listener);
    return () => this.#emitter.off(event, listener);
  }

  once<K extends keyof E & string>(event: K, listener: (payload: E[K]) => void): () => void {
    this.#emitter.once(event, listener);
    return () => this.#emitter.off(event, listener);
  }

  off<K extends keyof E & string>(event: K, listener: (payload: E[K]) => void): void {
    this.#emitter.off(event, listener);
  }

  protected emit<K extends keyof E & string>(event: K, payload: E[K]): void {
    this.#emitter.emit(event, payload);
  }
}
