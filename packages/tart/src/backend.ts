/**
 * `createTart(settings)`: the tart backend (macOS and Linux VMs on Apple silicon).
 */
import {
  type BackendV1,
  type DetectResult,
  defaultRunner,
  detectTool,
  type ListContext,
  type ListedInstance,
  parseOptions,
  SPECIFICATION_VERSION,
} from '@vms/core';
import { TartCli } from './cli.js';
import { TartDriver } from './driver.js';
import {
  type TartOptions,
  type TartSettings,
  tartOptionsSchema,
  tartSettingsSchema,
} from './options.js';
import { createTartStore } from './records.js';

export interface TartBackend extends BackendV1<typeof tartOptionsSchema> {
  readonly name: 'tart';
  driver(name: string, options: TartOptions): TartDriver;
  /** A driver for a VM @vms did not create: runs with tart's defaults, cannot create. */
  attach(name: string): TartDriver;
}

export function createTart(settings: TartSettings = {}): TartBackend {
  const parsed = parseOptions(tartSettingsSchema, settings, 'settings');
  const runner = parsed.runner ?? defaultRunner;
  const env = { ...parsed.env, ...(parsed.tartHome ? { TART_HOME: parsed.tartHome } : {}) };
  const cli = new TartCli(runner, parsed.tartPath, env);
  // Made on first use, so that VMS_HOME set after construction still counts.
  let store: ReturnType<typeof createTartStore> | undefined;
  const getStore = () => {
    store ??= createTartStore(parsed.stateDir);
    return store;
  };

  return {
    specificationVersion: SPECIFICATION_VERSION,
    name: 'tart',
    capabilities: {
      // macOS guests started suspendable only: the driver turns it off for the others.
      suspend: true,
      exec: true,
      logs: true,
      snapshot: false,
      copy: false,
      portForward: false,
      mounts: false,
    },
    optionsSchema: tartOptionsSchema,
    defaultTimeouts: {
      create: 3_600_000,
      start: 600_000,
      stop: 120_000,
      suspend: 120_000,
      resume: 300_000,
    },

    detect(ctx = {}): Promise<DetectResult> {
      return detectTool({
        toolPath: parsed.tartPath,
        probe: () =>
          cli.version({ timeoutMs: 15_000, ...(ctx.signal ? { signal: ctx.signal } : {}) }),
        installHint:
          process.platform === 'darwin'
            ? 'brew install cirruslabs/cli/tart (needs macOS 13+ on Apple silicon)'
            : 'tart runs only on macOS on Apple silicon',
      });
    },

    /** Every local tart VM (tart has no labels); `managed` marks the ones @vms created. */
    async list(ctx: ListContext): Promise<ListedInstance[]> {
      const entries = await cli.list({ signal: ctx.signal });
      const managed = new Set<string>();
      for (const name of await getStore().list()) {
        if (
          (
            await getStore()
              .read(name)
              .catch(() => undefined)
          )?.instance
        )
          managed.add(name);
      }
      return entries
        .filter((entry) => entry.source === 'local')
        .map((entry) => ({
          name: entry.name,
          state: entry.state,
          managed: managed.has(entry.name),
          properties: { ...(entry.diskGB === undefined ? {} : { diskGiB: entry.diskGB }) },
        }));
    },

    driver(name: string, options: TartOptions): TartDriver {
      return new TartDriver({ cli, runner, store: getStore() }, name, options);
    },

    attach(name: string): TartDriver {
      return new TartDriver({ cli, runner, store: getStore() }, name, undefined);
    },

    validateName(name: string): string | undefined {
      return name.includes('/') ? 'a tart VM name cannot contain "/"' : undefined;
    },
  };
}

/** The tart backend with default settings (`tart` on PATH). */
export const tart: TartBackend = createTart();
