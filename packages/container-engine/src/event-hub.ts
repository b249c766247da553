/**
 * One engine event stream per connection, shared by every container being watched: the first
 * watcher opens it, the last one to leave closes it. Each driver's watch used to open its own
 * filtered stream (an HTTP request, or an `events` process on the CLI path) on every start.
 */
import type { Connection } from './connection.js';
import { type EngineEvent, STATE_EVENT } from './engine.js';

type Listener = (event: EngineEvent) => void;

export class EventHub {
  private readonly listeners = new Map<string, Set<Listener>>();
  private stream: AbortController | undefined;

  constructor(private readonly conn: Connection) {}

  /**
   * Calls `listener` with each state-changing event (STATE_EVENT) of the container `name` until
   * the returned function is called. Events before the stream is open are not seen (the caller
   * has just observed the container); when the engine ends the stream, the watchers of that
   * stream hear nothing more (their next op reconciles) and the next watch opens a new one.
   */
  watch(name: string, listener: Listener): () => void {
    const set = this.listeners.get(name) ?? new Set();
    set.add(listener);
    this.listeners.set(name, set);
    this.stream ??= this.open();
    return () => {
      if (!set.delete(listener)) return;
      if (set.size === 0 && this.listeners.get(name) === set) this.listeners.delete(name);
      if (this.listeners.size === 0) this.close();
    };
  }

  /** Ends the stream (the connection is closing); watchers hear nothing more. */
  close(): void {
    this.stream?.abort();
    this.stream = undefined;
  }

  private open(): AbortController {
    const controller = new AbortController();
    const ended = () => {
      if (this.stream === controller) this.stream = undefined;
    };
    this.conn
      .get({ signal: controller.signal, deadline: Date.now() + 30_000 }, { start: false })
      .then((engine) =>
        engine.events(
          {},
          (event) => {
            if (controller.signal.aborted || !event.name || !STATE_EVENT.test(event.action)) return;
            for (const listener of [...(this.listeners.get(event.name) ?? [])]) listener(event);
          },
          controller.signal,
          ended,
        ),
      )
      .catch(ended);
    return controller;
  }
}
