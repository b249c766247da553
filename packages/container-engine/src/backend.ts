/**
 * `createContainerBackend(dialect, settings)`: a BackendV1 for any docker-compatible engine.
 * Construction does no I/O; the engine is opened on first use and shared by every driver.
 */
import {
  type BackendV1,
  type Capabilities,
  type DetectResult,
  INSTANCE_NAME_PATTERN,
  type InstancesListener,
  type ListContext,
  type ListedInstance,
  parseOptions,
  SPECIFICATION_VERSION,
  toVmsError,
} from '@vms/core';
import { Connection } from './connection.js';
import type { ContainerDialect } from './dialect.js';
import { ContainerDriver, observe } from './driver.js';
import { type Engine, STATE_EVENT } from './engine.js';
import type { EngineSourceInput } from './engine-source.js';
import { mapEngineError } from './errors.js';
import { LABEL_MANAGED } from './labels.js';
import { type ContainerOptions, containerOptionsSchema } from './options.js';
import { type ContainerSettingsInput, containerSettingsSchema } from './settings.js';

export const CONTAINER_CAPABILITIES: Capabilities = {
  suspend: true,
  exec: true,
  logs: true,
  snapshot: true,
  copy: true,
  portForward: true,
  mounts: true,
};

export interface ContainerBackend extends BackendV1<typeof containerOptionsSchema> {
  driver(name: string, options: ContainerOptions): ContainerDriver;
  /** A driver for a container @vms has no (valid) record of: everything but create and restore. */
  attach(name: string): ContainerDriver;
  /** The engine in use (opened on first call): its transport, for diagnostics and tests. */
  engine(ctx?: { signal?: AbortSignal }): Promise<Engine>;
  /** Where the backend talks to, e.g. unix:///var/run/docker.sock. */
  endpoint(): string;
  /** Closes keep-alive connections. */
  close(): Promise<void>;
  /**
   * The same backend (same settings but host/context) on the engine inside a VM instance:
   * `docker.withEngine({ vm })` is `createDocker({ ...settings, engine: { vm } })`.
   */
  withEngine(engine: EngineSourceInput): ContainerBackend;
}

export function createContainerBackend(
  dialect: ContainerDialect,
  settingsInput: ContainerSettingsInput = {},
): ContainerBackend {
  const settings = parseOptions(containerSettingsSchema, settingsInput, 'settings');
  const conn = new Connection(dialect, settings);
  const ctxOf = (signal?: AbortSignal, ms = 30_000) => ({
    signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(ms)]) : AbortSignal.timeout(ms),
    deadline: Date.now() + ms,
  });

  return {
    specificationVersion: SPECIFICATION_VERSION,
    name: dialect.name,
    capabilities: CONTAINER_CAPABILITIES,
    optionsSchema: containerOptionsSchema,
    defaultTimeouts: {
      // Create includes pulling the image when the engine lacks it (pull: 'missing').
      create: 600_000,
      start: 60_000,
      stop: 60_000,
      delete: 60_000,
      inspect: 30_000,
    },

    async detect(ctx = {}): Promise<DetectResult> {
      const toolPath = conn.findBinary();
      try {
        // Detection never boots a VM: a stopped one makes the backend unavailable, with why.
        const v = await conn.use(
          ctxOf(ctx.signal, 15_000),
          (engine) => engine.version(ctxOf(ctx.signal, 15_000)),
          { start: false },
        );
        return { available: true, version: v.version, ...(toolPath ? { toolPath } : {}) };
      } catch (error) {
        const e = mapEngineError(error, { dialect, op: 'detect', endpoint: safeEndpoint(conn) });
        if (!toolPath && !settings.engine && e.code === 'BACKEND_UNAVAILABLE') {
          return {
            available: false,
            reason: `${conn.binary} not found on PATH and no engine answers`,
            hint: dialect.installHint,
          };
        }
        return {
          available: false,
          reason: e.message,
          hint: e.hint ?? dialect.unavailableHint,
          ...(toolPath ? { toolPath } : {}),
        };
      }
    },

    async list(ctx: ListContext): Promise<ListedInstance[]> {
      try {
        const all = await conn.use(
          ctxOf(ctx.signal),
          (engine) => engine.list(ctx.all ? {} : { [LABEL_MANAGED]: 'true' }, ctxOf(ctx.signal)),
          { start: false },
        );
        return all
          .map((info) => {
            const obs = observe(dialect, info);
            return {
              name: info.name,
              state: obs.state,
              ...(obs.reason ? { reason: obs.reason } : {}),
              managed: info.labels[LABEL_MANAGED] === 'true',
              ...(obs.properties ? { properties: obs.properties } : {}),
            };
          })
          .sort((a, b) => a.name.localeCompare(b.name));
      } catch (error) {
        throw mapEngineError(error, { dialect, op: 'list', endpoint: safeEndpoint(conn) });
      }
    },

    driver(name: string, options: ContainerOptions) {
      return new ContainerDriver(conn, name, options);
    },

    attach(name: string) {
      return new ContainerDriver(conn, name, undefined);
    },

    validateName(name: string): string | undefined {
      return INSTANCE_NAME_PATTERN.test(name)
        ? undefined
        : `${JSON.stringify(name)} is not a valid container name (letters, digits, "_", "." and "-", starting with a letter or digit)`;
    },

    /** The engine's event stream of containers @vms manages: a change by any process, at once. */
    watchInstances(listener: InstancesListener): () => void {
      const controller = new AbortController();
      const end = (error?: Error) => {
        if (controller.signal.aborted) return;
        controller.abort();
        listener.onEnd?.(error);
      };
      conn
        // Watching never boots a VM whose engine this is.
        .get({ signal: controller.signal, deadline: Date.now() + 30_000 }, { start: false })
        .then((engine) =>
          engine.events(
            { labels: { [LABEL_MANAGED]: 'true' } },
            (event) => {
              if (event.name && STATE_EVENT.test(event.action) && !controller.signal.aborted)
                listener.onChange(event.name);
            },
            controller.signal,
            end,
          ),
        )
        .catch((error: unknown) => end(toVmsError(error)));
      return () => controller.abort();
    },

    engine(ctx = {}) {
      return conn.get(ctxOf(ctx.signal));
    },

    endpoint() {
      return safeEndpoint(conn);
    },

    close() {
      return conn.close();
    },

    withEngine(engine: EngineSourceInput): ContainerBackend {
      const { host: _host, context: _context, ...rest } = settingsInput;
      return createContainerBackend(dialect, { ...rest, engine });
    },
  };
}

function safeEndpoint(conn: Connection): string {
  try {
    return conn.endpoint().host;
  } catch (error) {
    return `(unresolved: ${toVmsError(error).message})`;
  }
}
