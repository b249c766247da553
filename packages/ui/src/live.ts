/**
 * Keeps the hub current with what each backend really has, whichever process changed it:
 *
 * - a backend with an event stream (`watchInstances`, e.g. the docker and podman engines'
 *   events) is listed once, then again only when its stream names a change (coalesced over a
 *   few milliseconds); a stream that ends is re-opened with a bounded back-off;
 * - a backend without one (qemu, linuxkit, lima, tart, podman-machine) is listed every
 *   `pollMs` (default 2 s), one listing at a time, each under a deadline.
 */
import { type BackendV1, type DetectResult, toVmsError } from '@vms/core';
import type { Hub } from './hub.js';
import type { BackendView } from './protocol.js';

export interface FeedOptions {
  /** Interval of the fallback poll, for backends without an event stream (default 2000 ms). */
  pollMs?: number;
  /** Deadline of one detect() or list() (default 10 s). */
  callTimeoutMs?: number;
  /** Also list instances @vms did not create. */
  all?: boolean;
  /** Delay that coalesces a burst of events into one listing (default 25 ms). */
  coalesceMs?: number;
}

const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;

/** Follows one backend until `close()`. */
export class BackendFeed {
  readonly backend: BackendV1;
  readonly #hub: Hub;
  readonly #options: Required<FeedOptions>;
  readonly #controller = new AbortController();
  #view: BackendView;
  #unwatch: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #listing: Promise<void> | undefined;
  #again = false;
  #retryMs = RETRY_MIN_MS;

  constructor(backend: BackendV1, hub: Hub, options: FeedOptions = {}) {
    this.backend = backend;
    this.#hub = hub;
    this.#options = {
      pollMs: options.pollMs ?? 2_000,
      callTimeoutMs: options.callTimeoutMs ?? 10_000,
      all: options.all ?? false,
      coalesceMs: options.coalesceMs ?? 25,
    };
    this.#view = {
      name: backend.name,
      available: false,
      live: 'none',
      capabilities: backend.capabilities,
    };
  }

  get #closed(): boolean {
    return this.#controller.signal.aborted;
  }

  /** Detects the backend (or takes `detected`), lists it and starts following it. */
  async start(detected?: DetectResult): Promise<void> {
    const d =
      detected ??
      (await this.backend.detect({ signal: this.#signal() }).catch(
        (error: unknown): DetectResult => ({
          available: false,
          reason: toVmsError(error).message,
        }),
      ));
    const live = this.backend.watchInstances ? 'events' : 'poll';
    this.#setView({
      name: this.backend.name,
      available: d.available,
      ...(d.version ? { version: d.version } : {}),
      ...(d.reason ? { reason: d.reason } : {}),
      ...(d.hint ? { hint: d.hint } : {}),
      capabilities: this.backend.capabilities,
      live: d.available ? live : 'none',
      ...(d.available && live === 'poll' ? { pollMs: this.#options.pollMs } : {}),
    });
    if (!d.available || this.#closed) return;
    if (live === 'events') this.#subscribe();
    await this.refresh();
    if (live === 'poll') this.#schedulePoll();
  }

  /** Lists the backend now (a listing already running is followed by exactly one more). */
  refresh(): Promise<void> {
    if (this.#listing) {
      this.#again = true;
      return this.#listing;
    }
    this.#listing = this.#listOnce().finally(() => {
      this.#listing = undefined;
      if (this.#again && !this.#closed) {
        this.#again = false;
        void this.refresh();
      }
    });
    return this.#listing;
  }

  close(): void {
    this.#controller.abort();
    this.#unwatch?.();
    this.#unwatch = undefined;
    clearTimeout(this.#timer);
  }

  #signal(): AbortSignal {
    return AbortSignal.any([
      this.#controller.signal,
      AbortSignal.timeout(this.#options.callTimeoutMs),
    ]);
  }

  #setView(view: BackendView): void {
    this.#view = view;
    this.#hub.setBackend(view);
  }

  async #listOnce(): Promise<void> {
    const started = Date.now();
    try {
      const listed = await this.backend.list({ signal: this.#signal(), all: this.#options.all });
      if (this.#closed) return;
      this.#hub.recordLatency(this.backend.name, 'list', Date.now() - started, true);
      this.#hub.applyList(this.backend.name, listed);
      if (this.#view.error) {
        const { error: _, ...rest } = this.#view;
        this.#setView(rest);
      }
    } catch (error) {
      if (this.#closed) return;
      this.#hub.recordLatency(this.backend.name, 'list', Date.now() - started, false);
      this.#setView({ ...this.#view, error: toVmsError(error).message });
    }
  }

  #schedulePoll(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      void this.refresh().then(() => this.#schedulePoll());
    }, this.#options.pollMs);
    this.#timer.unref();
  }

  #subscribe(): void {
    const watch = this.backend.watchInstances;
    if (!watch || this.#closed) return;
    let coalesce: NodeJS.Timeout | undefined;
    this.#unwatch = watch.call(this.backend, {
      onChange: () => {
        this.#retryMs = RETRY_MIN_MS;
        if (coalesce) return;
        coalesce = setTimeout(() => {
          coalesce = undefined;
          void this.refresh();
        }, this.#options.coalesceMs);
      },
      onEnd: (error) => {
        this.#unwatch = undefined;
        if (this.#closed) return;
        this.#setView({
          ...this.#view,
          error: `event stream ended${error ? `: ${error.message}` : ''}; re-opening`,
        });
        this.#timer = setTimeout(() => {
          this.#subscribe();
          void this.refresh();
        }, this.#retryMs);
        this.#timer.unref();
        this.#retryMs = Math.min(RETRY_MAX_MS, this.#retryMs * 2);
      },
    });
  }
}
