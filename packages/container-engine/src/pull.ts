/**
 * Image pull progress, from either transport, as core progress steps: the engine API streams
 * JSON messages per layer (docker: `Pulling fs layer`, `Downloading` with byte counts,
 * `Download complete`, `Extracting`, `Pull complete`, `Already exists`; podman's compat API the
 * same words without extraction), the CLIs print lines (docker: `<layer>: <status>`, without
 * byte counts when not on a terminal; podman: `Copying blob <digest> [done]`). Both become
 * `LayerEvent`s, which `PullTracker` folds into one progress step per change, throttled.
 */
import type { ProgressDetail, ProgressReporter } from '@vms/core';

/** One layer's news, normalised from an API message or a CLI line. */
export interface LayerEvent {
  /** Short layer id (12 hex). */
  id: string;
  status: 'waiting' | 'downloading' | 'done';
  /** Bytes downloaded so far / the layer's size, when the engine tells. */
  current?: number;
  total?: number;
}

/** A JSON message of `POST /images/create` (moby `jsonmessage.JSONMessage`). */
export interface PullMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  errorDetail?: { message?: string };
  /** Deprecated in API 1.48, dropped in 1.52: read `errorDetail` first. */
  error?: string;
}

const LAYER_ID = /^[0-9a-f]{12}$/;

/** The layer event in one API message; undefined for messages about the whole image. */
export function layerEventOf(m: PullMessage): LayerEvent | undefined {
  if (!m.id || !LAYER_ID.test(m.id) || !m.status) return undefined;
  const status = m.status.toLowerCase();
  if (status.startsWith('downloading')) {
    const { current, total } = m.progressDetail ?? {};
    return {
      id: m.id,
      status: 'downloading',
      ...(typeof current === 'number' ? { current } : {}),
      ...(typeof total === 'number' && total > 0 ? { total } : {}),
    };
  }
  if (/^(pulling fs layer|waiting|retrying)/.test(status)) return { id: m.id, status: 'waiting' };
  if (
    /^(download complete|verifying checksum|extracting|pull complete|already exists)/.test(status)
  )
    return { id: m.id, status: 'done' };
  return undefined;
}

/** The error a pull stream ended with, when it did. */
export function pullErrorOf(m: PullMessage): string | undefined {
  return m.errorDetail?.message || m.error || undefined;
}

/** docker CLI: `a1b2c3d4e5f6: Pull complete`. */
export function dockerPullLine(line: string): LayerEvent | undefined {
  const m = /^([0-9a-f]{12}): (.+)$/.exec(line.trim());
  return m ? layerEventOf({ id: m[1], status: m[2] }) : undefined;
}

/** podman CLI (stderr): `Copying blob sha256:<hex>`, `Copying blob <hex> done`, `… skipped: already exists`. */
export function podmanPullLine(line: string): LayerEvent | undefined {
  const m = /^Copying blob (?:sha256:)?([0-9a-f]{12})[0-9a-f]*(.*)$/.exec(line.trim());
  if (!m?.[1]) return undefined;
  const rest = (m[2] ?? '').toLowerCase();
  return { id: m[1], status: /done|skipped|already exists/.test(rest) ? 'done' : 'waiting' };
}

interface Layer {
  current: number;
  total?: number;
  done: boolean;
}

/**
 * Folds layer events into progress steps `pulling <image>` with detail: bytes (when the engine
 * reports sizes), the layer that changed, and layers done of layers known. A layer starting or
 * finishing reports at once; byte counts at most every `intervalMs`.
 */
export class PullTracker {
  private readonly layers = new Map<string, Layer>();
  private lastReport = 0;

  constructor(
    private readonly image: string,
    private readonly report: ProgressReporter,
    private readonly intervalMs = 200,
  ) {}

  /** Reports the start of the pull. */
  begin(): void {
    this.report(`pulling ${this.image}`);
  }

  push(e: LayerEvent): void {
    let layer = this.layers.get(e.id);
    const isNew = !layer;
    if (!layer) {
      layer = { current: 0, done: false };
      this.layers.set(e.id, layer);
    }
    const wasDone = layer.done;
    if (e.total !== undefined) layer.total = e.total;
    if (e.current !== undefined) layer.current = e.current;
    if (e.status === 'done') {
      layer.done = true;
      if (layer.total !== undefined) layer.current = layer.total;
    }
    const now = Date.now();
    if (isNew || layer.done !== wasDone || now - this.lastReport >= this.intervalMs) {
      this.lastReport = now;
      this.report(`pulling ${this.image}`, this.detail(e.id));
    }
  }

  /** Marks every layer done and reports the end. */
  end(): void {
    for (const layer of this.layers.values()) {
      layer.done = true;
      if (layer.total !== undefined) layer.current = layer.total;
    }
    // Nothing measured (the engine had every layer and only tagged the image): no detail.
    this.report(`pulled ${this.image}`, ...(this.layers.size ? [this.detail()] : []));
  }

  detail(item?: string): ProgressDetail {
    let current = 0;
    let total = 0;
    let sized = false;
    let done = 0;
    for (const layer of this.layers.values()) {
      if (layer.done) done += 1;
      current += layer.current;
      if (layer.total !== undefined) {
        total += layer.total;
        sized = true;
      }
    }
    return {
      ...(sized ? { unit: 'bytes' as const, current, total } : {}),
      ...(item ? { item } : {}),
      parts: { done, total: this.layers.size },
    };
  }
}

/** Splits a stream of chunks into lines, calling `onLine` for each complete one. */
export function lineSplitter(onLine: (line: string) => void): {
  push: (chunk: Buffer) => void;
  flush: () => void;
} {
  let buffer = '';
  return {
    push(chunk) {
      buffer += chunk.toString('utf8');
      // docker rewrites lines with \r on terminals; treat it as a line end too.
      const parts = buffer.split(/\r?\n|\r/);
      buffer = parts.pop() ?? '';
      for (const line of parts) if (line.trim()) onLine(line);
    },
    flush() {
      if (buffer.trim()) onLine(buffer);
      buffer = '';
    },
  };
}
