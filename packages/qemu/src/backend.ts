/** `createQemu(settings)`: the qemu backend (`backend:name` = `qemu:<name>`). */
import { join } from 'node:path';
import {
  type BackendV1,
  type Capabilities,
  createRunner,
  type DetectResult,
  type ListedInstance,
  parseOptions,
  processRunnerSchema,
  type SavedStatesV1,
  SPECIFICATION_VERSION,
  vmsHome,
} from '@vms/core';
import * as z from '@vms/core/zod';
import { mapRunState, QemuDriver } from './driver.js';
import { exitedReason, liveness, unrecordedReason } from './liveness.js';
import {
  accelSchema,
  type QemuOptions,
  type QemuOptionsInput,
  qemuOptionsSchema,
} from './options.js';
import { pickFreePort } from './ports.js';
import { processesByArgument } from './process.js';
import { QmpClient } from './qmp.js';
import { createStore, instancePaths } from './state.js';
import { createTemplates, type QemuTemplates } from './templates.js';
import { findTool } from './tools.js';

export const qemuSettingsSchema = z
  .object({
    /** QEMU system emulator (default `qemu-system-x86_64` on PATH). */
    binary: z.string().min(1).default('qemu-system-x86_64'),
    qemuImg: z.string().min(1).default('qemu-img'),
    /** Default accelerator of instances that do not set one. */
    accel: accelSchema.default('auto'),
    /** Directory of the instances' state (default `<vmsHome>/state/qemu`). */
    stateRoot: z.string().min(1).optional(),
    /** Directory of the saved states (default `<vmsHome>/state/qemu-templates`). */
    templateRoot: z.string().min(1).optional(),
    runner: processRunnerSchema.optional(),
    /** Picks a free host port for a forward (default: bind 127.0.0.1:0). For tests. */
    pickPort: z
      .custom<(hostIp: string) => Promise<number>>((v) => typeof v === 'function')
      .optional(),
  })
  .strict();
export type QemuSettings = z.input<typeof qemuSettingsSchema>;

const CAPABILITIES: Capabilities = {
  suspend: true,
  exec: true,
  logs: true,
  snapshot: true,
  copy: true,
  portForward: true,
  mounts: false,
};

const INSTALL_HINT = 'apt-get install qemu-system-x86 qemu-utils openssh-client genisoimage';

export interface QemuBackend extends BackendV1<typeof qemuOptionsSchema> {
  /** The driver type, for callers that want paths (console log, instance dir). */
  driver(name: string, options: QemuOptions): QemuDriver;
  /** A driver for an instance whose record is gone or invalid: inspect, stop, snapshot, delete. */
  attach(name: string): QemuDriver;
  /** Saved states to start instances from (`from: { template }`): save, list, delete. */
  readonly templates: QemuTemplates;
  readonly savedStates: SavedStatesV1;
}

export function createQemu(settings: QemuSettings = {}): QemuBackend {
  const s = parseOptions(qemuSettingsSchema, settings, 'settings');
  const runner = s.runner ?? createRunner();
  let store: ReturnType<typeof createStore> | undefined;
  // The store reads VMS_HOME lazily, at first use (construction does no I/O).
  const getStore = () => {
    store ??= createStore(s.stateRoot);
    return store;
  };
  const templateRoot = () => s.templateRoot ?? join(vmsHome(), 'state', 'qemu-templates');
  const templates = createTemplates({
    root: templateRoot,
    store: getStore,
    builder: (stateRoot) => {
      const backend = createQemu({ ...settings, stateRoot, templateRoot: templateRoot() });
      return { backend, driver: (name, options) => backend.driver(name, options) };
    },
  });

  async function version(tool: string, signal?: AbortSignal): Promise<string | undefined> {
    const r = await runner.run([tool, '--version'], {
      timeoutMs: 15_000,
      ...(signal ? { signal } : {}),
    });
    return /version (\d+\.\d+(?:\.\d+)?)/.exec(r.stdout)?.[1];
  }

  return {
    specificationVersion: SPECIFICATION_VERSION,
    name: 'qemu',
    capabilities: CAPABILITIES,
    optionsSchema: qemuOptionsSchema,
    defaultTimeouts: { start: 180_000, stop: 60_000, snapshot: 300_000 },

    async detect(ctx): Promise<DetectResult> {
      const toolPath = findTool(s.binary);
      if (!toolPath)
        return { available: false, reason: `${s.binary} not found on PATH`, hint: INSTALL_HINT };
      if (!findTool(s.qemuImg))
        return { available: false, reason: `${s.qemuImg} not found on PATH`, hint: INSTALL_HINT };
      if (!findTool('ssh'))
        return { available: false, reason: 'ssh not found on PATH', hint: INSTALL_HINT };
      try {
        const [qemu, img] = await Promise.all([
          version(s.binary, ctx?.signal),
          version(s.qemuImg, ctx?.signal),
        ]);
        return {
          available: true,
          toolPath,
          ...(qemu ? { version: img && img !== qemu ? `${qemu} (qemu-img ${img})` : qemu } : {}),
        };
      } catch (error) {
        return { available: false, toolPath, reason: (error as Error).message, hint: INSTALL_HINT };
      }
    },

    async list(ctx): Promise<ListedInstance[]> {
      const st = getStore();
      const names = await st.list();
      const states = new Map(
        await Promise.all(
          names.map(async (name) => [name, await st.read(name).catch(() => undefined)] as const),
        ),
      );
      const pidFile = (name: string) => instancePaths(st.instanceDir(name)).pidFile;
      // One /proc scan for every instance: QEMUs by their -pidfile argument.
      const running = processesByArgument(names.map(pidFile));
      const listed = await Promise.all(
        names.map(async (name): Promise<ListedInstance> => {
          const state = states.get(name);
          if (!state)
            return { name, state: 'broken', reason: 'unreadable state file', managed: true };
          const live = liveness(state, pidFile(name), running.get(pidFile(name)) ?? []);
          if (live.kind === 'unrecorded')
            return { name, state: 'broken', reason: unrecordedReason(live.pids), managed: true };
          if (live.kind === 'none') {
            const reason = live.exited
              ? exitedReason(live.exited)
              : state.lastExit?.unexpected
                ? state.lastExit.reason
                : undefined;
            return { name, state: 'stopped', ...(reason ? { reason } : {}), managed: true };
          }
          const launch = live.launch;
          // Running or paused: QMP says which (briefly; a busy monitor leaves it "running").
          try {
            const q = await QmpClient.connect(launch.qmpSocket, {
              signal: ctx.signal,
              timeoutMs: 3_000,
            });
            try {
              const { status } = await q.execute<{ status: string }>('query-status', undefined, {
                signal: ctx.signal,
                timeoutMs: 3_000,
              });
              const { observed, reason } = mapRunState(status);
              return { name, state: observed, ...(reason ? { reason } : {}), managed: true };
            } finally {
              q.close();
            }
          } catch {
            return { name, state: 'running', managed: true };
          }
        }),
      );
      // A directory without a state file (a create killed midway, a file removed behind our
      // back) still holds files and maybe a QEMU: listed as broken, so it can be deleted.
      const leftovers = (await st.leftovers()).map(
        (name): ListedInstance => ({
          name,
          state: 'broken',
          reason: 'no state file (its create was interrupted, or the file was removed)',
          managed: true,
        }),
      );
      return [...listed, ...leftovers].sort((a, b) => a.name.localeCompare(b.name));
    },

    driver(name: string, options: QemuOptions): QemuDriver {
      return new QemuDriver(name, options, deps());
    },

    attach(name: string): QemuDriver {
      return new QemuDriver(name, undefined, deps());
    },

    templates,

    savedStates: {
      async save(name, options, ctx = {}) {
        await templates.save(name, options as QemuOptionsInput, ctx);
        return { name, options: cloneOptions(name, options) };
      },
      async list() {
        return (await templates.list()).map((t) => t.name);
      },
      async delete(name) {
        await templates.delete(name);
      },
    },
  };

  function deps(): ConstructorParameters<typeof QemuDriver>[2] {
    return {
      runner,
      get store() {
        return getStore();
      },
      binary: s.binary,
      qemuImg: s.qemuImg,
      accel: s.accel,
      pickPort: s.pickPort ?? pickFreePort,
      get templateRoot() {
        return templateRoot();
      },
    };
  }
}

/** What an instance started from template `name` keeps of the options the template was saved with. */
function cloneOptions(name: string, options: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = { from: { template: name } };
  for (const key of ['labels', 'ports', 'env', 'readiness', 'hostKey'] as const) {
    if (Object.hasOwn(options, key)) kept[key] = options[key];
  }
  return kept;
}

/** The default backend: `qemu-system-x86_64` from PATH, accelerator probed. */
export const qemu: QemuBackend = createQemu();
