/**
 * The backends of one invocation: discovered up front (no imports), loaded on first use, detected
 * with a per-backend deadline so one slow tool cannot hold up the others.
 */
import {
  BackendUnavailableError,
  type BackendV1,
  type DetectResult,
  TimeoutError,
  toVmsError,
  type VmsError,
} from '@vms/core';
import { checkBackendName } from './backend-name.js';
import { type BackendSource, FIRST_PARTY, installHint } from './discovery.js';
import { loadSource } from './loader.js';

export interface LoadedSource {
  source: BackendSource;
  backends: BackendV1[];
  error?: VmsError;
}

/** Runs `work` with its own AbortSignal that fires at `timeoutMs` or when `signal` aborts. */
export async function withDeadline<T>(
  timeoutMs: number,
  signal: AbortSignal,
  what: string,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new TimeoutError(`${what} did not answer within ${timeoutMs} ms`, {
        timeoutMs,
      });
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), {
      once: true,
    });
  });
  try {
    return await Promise.race([work(controller.signal), timeout, aborted]);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

export class Registry {
  readonly sources: readonly BackendSource[];
  readonly #loads = new Map<BackendSource, Promise<LoadedSource>>();
  readonly #detects = new Map<BackendV1, Promise<DetectResult>>();

  constructor(sources: readonly BackendSource[]) {
    this.sources = sources;
  }

  /** Sources that can be loaded (installed, bundled). */
  get present(): BackendSource[] {
    return this.sources.filter((s) => s.installed || s.builtin);
  }

  load(source: BackendSource): Promise<LoadedSource> {
    let pending = this.#loads.get(source);
    if (!pending) {
      pending = loadSource(source).then(
        (backends) => ({ source, backends }),
        (error: unknown) => ({ source, backends: [], error: toVmsError(error) }),
      );
      this.#loads.set(source, pending);
    }
    return pending;
  }

  /** Loads every present source, in parallel. */
  loadAll(): Promise<LoadedSource[]> {
    return Promise.all(this.present.map((s) => this.load(s)));
  }

  /** The backend called `name`, loading only the sources that may provide it. */
  async get(name: string): Promise<BackendV1> {
    checkBackendName(name);
    const expected = this.present.filter((s) => s.expectedNames.includes(name));
    const unknown = this.present.filter(
      (s) => s.expectedNames.length === 0 || s.kind !== 'first-party',
    );
    let loadError: VmsError | undefined;
    for (const group of [expected, unknown.filter((s) => !expected.includes(s))]) {
      const loaded = await Promise.all(group.map((s) => this.load(s)));
      for (const l of loaded) {
        const found = l.backends.find((b) => b.name === name);
        if (found) return found;
        if (l.error && l.source.expectedNames.includes(name)) loadError = l.error;
      }
    }
    if (loadError) throw loadError;
    const firstParty = FIRST_PARTY.find((f) => f.names.includes(name));
    if (firstParty) {
      throw new BackendUnavailableError(name, `${firstParty.pkg} is not installed`, {
        hint: installHint({ specifier: firstParty.pkg, kind: 'first-party' }),
      });
    }
    const installed = (await this.loadAll()).flatMap((l) => l.backends.map((b) => b.name));
    throw new BackendUnavailableError(name, 'no installed package provides it', {
      hint: `install one (npm install vms-backend-${name}) or name it in vms.config.json${
        installed.length ? `; installed backends: ${installed.join(', ')}` : ''
      }`,
    });
  }

  /** The backend's detect(), at most once per invocation, within `timeoutMs`. Never throws. */
  detect(backend: BackendV1, timeoutMs: number, signal: AbortSignal): Promise<DetectResult> {
    let pending = this.#detects.get(backend);
    if (!pending) {
      pending = withDeadline(timeoutMs, signal, `${backend.name} detect`, (s) =>
        backend.detect({ signal: s }),
      ).catch((error: unknown) => ({
        available: false,
        reason: toVmsError(error).message,
      }));
      this.#detects.set(backend, pending);
    }
    return pending;
  }

  /** Every loaded backend whose tool is available, in discovery order. */
  async available(timeoutMs: number, signal: AbortSignal): Promise<BackendV1[]> {
    const backends = (await this.loadAll()).flatMap((l) => l.backends);
    const detected = await Promise.all(backends.map((b) => this.detect(b, timeoutMs, signal)));
    return backends.filter((_, i) => detected[i]?.available);
  }
}
