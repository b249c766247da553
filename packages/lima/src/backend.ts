/**
 * `createLima(settings)`: the Lima backend (Linux VMs on macOS and Linux hosts, via limactl).
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
import { LimaCli } from './cli.js';
import { LimaDriver, observedState, properties, readMarker } from './driver.js';
import {
  type LimaOptions,
  type LimaSettings,
  limaOptionsSchema,
  limaSettingsSchema,
} from './options.js';

export interface LimaBackend extends BackendV1<typeof limaOptionsSchema> {
  readonly name: 'lima';
  driver(name: string, options: LimaOptions): LimaDriver;
}

export function createLima(settings: LimaSettings = {}): LimaBackend {
  const parsed = parseOptions(limaSettingsSchema, settings, 'settings');
  const runner = parsed.runner ?? defaultRunner;
  const env = { ...parsed.env, ...(parsed.limaHome ? { LIMA_HOME: parsed.limaHome } : {}) };
  const cli = new LimaCli(runner, parsed.limactlPath, env);

  return {
    specificationVersion: SPECIFICATION_VERSION,
    name: 'lima',
    capabilities: {
      suspend: false,
      exec: true,
      logs: false,
      // qemu instances only: the driver turns it off for other vmTypes.
      snapshot: true,
      copy: true,
      portForward: true,
      mounts: true,
    },
    optionsSchema: limaOptionsSchema,
    // The first start downloads a cloud image: lima's own default start timeout is 10 minutes.
    defaultTimeouts: { create: 600_000, start: 900_000, stop: 300_000, delete: 300_000 },

    detect(ctx = {}): Promise<DetectResult> {
      return detectTool({
        toolPath: parsed.limactlPath,
        probe: () =>
          cli.version({ timeoutMs: 15_000, ...(ctx.signal ? { signal: ctx.signal } : {}) }),
        installHint:
          process.platform === 'darwin'
            ? 'brew install lima'
            : 'install lima from https://lima-vm.io/docs/installation/ (needs qemu-system on Linux)',
      });
    },

    /** Every Lima instance; `managed` marks the ones @vms created. */
    async list(ctx: ListContext): Promise<ListedInstance[]> {
      const instances = await cli.list({ signal: ctx.signal });
      return instances.map((instance) => ({
        name: instance.name,
        ...observedState(instance),
        managed: instance.dir !== undefined && readMarker(instance.dir) !== undefined,
        properties: properties(instance),
      }));
    },

    driver(name: string, options: LimaOptions): LimaDriver {
      return new LimaDriver(cli, name, options);
    },

    validateName(name: string): string | undefined {
      if (/\.ya?ml$/.test(name)) return 'a lima instance name cannot end in .yml or .yaml';
      if (name.startsWith('_') || name.startsWith('.'))
        return 'lima reserves names starting with "_" or "."';
      return undefined;
    },
  };
}

/** The lima backend with default settings (`limactl` on PATH, lima's own LIMA_HOME). */
export const lima: LimaBackend = createLima();
