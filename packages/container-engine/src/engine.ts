/**
 * What the driver needs from an engine, implemented twice: over the HTTP API (engine-api.ts) and
 * over the CLI (engine-cli.ts). Both return the same normalised shapes, so the driver, the
 * mapping to core's states and the tests are written once.
 */
import type { PortMapping } from '@vms/core';
import { type LayerEvent, lineSplitter } from './pull.js';
import type { ImageReference } from './reference.js';

export type Transport = 'api' | 'cli';

/** One container as the driver sees it, from either transport. */
export interface ContainerInfo {
  id: string;
  name: string;
  /** The engine's raw status word (`running`, `exited`, `paused`, `created`, `configured`, …). */
  status: string;
  exitCode?: number;
  /** The engine's error message for the last start, when any. */
  error?: string;
  oomKilled?: boolean;
  labels: Record<string, string>;
  image?: string;
  createdAt?: string;
  ips: string[];
  ports: PortMapping[];
  cpus?: number;
  memoryMiB?: number;
  /** The signal the image asks to be stopped with (Config.StopSignal). */
  stopSignal?: string;
}

export interface CreateSpec {
  name: string;
  image: string;
  /** Empty: the image's own command. */
  command: string[];
  env: Record<string, string>;
  labels: Record<string, string>;
  ports: PortMapping[];
  mounts: { source: string; target: string; readOnly: boolean }[];
  cpus?: number;
  memoryMiB?: number;
  user?: string;
  workdir?: string;
  network?: string;
  init: boolean;
  /** CLI flags inserted before the image (the escape hatch); forces the CLI path. */
  extraArgs: string[];
}

export interface ExecSpec {
  argv: string[];
  env: Record<string, string>;
  cwd?: string;
  user?: string;
  tty: boolean;
  stdin?: string | Uint8Array | NodeJS.ReadableStream;
  onStdout: (chunk: Buffer) => void;
  onStderr: (chunk: Buffer) => void;
}

export interface Ctx {
  signal: AbortSignal;
  deadline: number;
}

export interface ImageInfo {
  id: string;
  tags: string[];
  labels: Record<string, string>;
  createdAt?: string;
  sizeBytes?: number;
}

export interface EventFilter {
  /** One container, by name. */
  container?: string;
  /** Containers carrying every one of these labels. */
  labels?: Record<string, string>;
}

export interface EngineEvent {
  /** What happened: create, start, die, pause, unpause, destroy, … (may carry a suffix: "exec_start: sh"). */
  action: string;
  /** The container's name, when the engine says. */
  name?: string;
}

/** Event actions that may change a container's state (exec_*, attach, resize, top… do not). */
export const STATE_EVENT =
  /^(create|die|stop|kill|oom|pause|unpause|destroy|remove|start|restart|cleanup|died|exited|rename)/;

/** Engine filters (API `filters` JSON / CLI `--filter` values) of an EventFilter. */
export function eventFilters(filter: EventFilter): {
  container?: string[];
  label?: string[];
  type: string[];
} {
  const labels = Object.entries(filter.labels ?? {}).map(([k, v]) => `${k}=${v}`);
  return {
    type: ['container'],
    ...(filter.container ? { container: [filter.container] } : {}),
    ...(labels.length ? { label: labels } : {}),
  };
}

/**
 * Reads the engine's event stream (JSON Lines from the API, or from `events --format '{{json .}}'`)
 * chunk by chunk, calling `onEvent` for each event; foreign lines are skipped.
 */
export function eventLines(onEvent: (event: EngineEvent) => void): ReturnType<typeof lineSplitter> {
  return lineSplitter((line) => {
    const event = parseEventLine(line);
    if (event) onEvent(event);
  });
}

/** One line of the engine's event stream, or undefined. */
function parseEventLine(line: string): EngineEvent | undefined {
  try {
    const e = JSON.parse(line) as {
      Action?: string;
      Status?: string;
      status?: string;
      Name?: string;
      Actor?: { Attributes?: { name?: unknown } };
    };
    const name = e.Actor?.Attributes?.name ?? e.Name;
    return {
      action: e.Action ?? e.Status ?? e.status ?? 'unknown',
      ...(typeof name === 'string' ? { name } : {}),
    };
  } catch {
    return undefined; // a partial or foreign line
  }
}

export interface EngineVersion {
  /** The engine's version (the CLI's own when it runs without a server, as local podman does). */
  version: string;
  /** The engine API version it speaks (docker `ApiVersion`, podman `APIVersion`). */
  apiVersion?: string;
  /** The CLI's version, for the CLI transport. */
  clientVersion?: string;
}

export interface PullSpec {
  /** Receives each layer's progress as the engine reports it. */
  onLayer: (event: LayerEvent) => void;
  /** Debug log (where credentials came from; never the secret). */
  debug?: (message: string, data?: Record<string, unknown>) => void;
}

export interface Engine {
  readonly transport: Transport;
  version(ctx: Ctx): Promise<EngineVersion>;
  /** undefined when the engine does not know the container. */
  inspect(name: string, ctx: Ctx): Promise<ContainerInfo | undefined>;
  /** Containers carrying every label in `labels` (all containers when empty). */
  list(labels: Record<string, string>, ctx: Ctx): Promise<ContainerInfo[]>;
  create(spec: CreateSpec, ctx: Ctx): Promise<void>;
  start(name: string, ctx: Ctx): Promise<void>;
  /** Sends a signal to the container's main process. */
  kill(name: string, signal: string, ctx: Ctx): Promise<void>;
  /** Resolves with the exit code once the container is not running (engine-side wait). */
  wait(name: string, ctx: Ctx): Promise<number | undefined>;
  pause(name: string, ctx: Ctx): Promise<void>;
  unpause(name: string, ctx: Ctx): Promise<void>;
  /** Force-removes; false when it did not exist. */
  remove(name: string, ctx: Ctx): Promise<boolean>;
  exec(name: string, spec: ExecSpec, ctx: Ctx): Promise<number>;
  logs(
    name: string,
    opts: { follow: boolean; tail?: number },
    onData: (chunk: Buffer, stream: 'stdout' | 'stderr') => void,
    ctx: Ctx,
  ): Promise<void>;
  commit(name: string, ref: string, labels: Record<string, string>, ctx: Ctx): Promise<void>;
  images(labels: Record<string, string>, ctx: Ctx): Promise<ImageInfo[]>;
  /** Whether the engine has the image locally (by reference or id). */
  imageExists(ref: string, ctx: Ctx): Promise<boolean>;
  /**
   * Pulls an image from its registry (credentials from the user's docker/podman config: the CLI
   * reads its own, the API transport reads the same files). Throws the engine's error as is.
   */
  pull(ref: ImageReference, spec: PullSpec, ctx: Ctx): Promise<void>;
  /** Removes an image; false when it did not exist. */
  removeImage(ref: string, ctx: Ctx): Promise<boolean>;
  /**
   * Streams container lifecycle events (create, start, die, pause, destroy, …) matching `filter`
   * until `signal` aborts; `onEnd` is called once if the stream ends by itself (the engine went
   * away). The stream does not keep the process alive (its socket / child are unref'd).
   */
  events(
    filter: EventFilter,
    onEvent: (event: EngineEvent) => void,
    signal: AbortSignal,
    onEnd?: (error?: Error) => void,
  ): void;
  copyIn(name: string, hostPath: string, guestPath: string, ctx: Ctx): Promise<void>;
  copyOut(name: string, guestPath: string, hostPath: string, ctx: Ctx): Promise<void>;
  close(): void;
}
