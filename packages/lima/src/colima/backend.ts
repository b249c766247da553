/**
 * `createColima(settings)`: Colima profiles as @vms instances (Linux VMs with a container
 * runtime, on macOS and Linux; colima drives Lima). A flavour of the lima backend: the same
 * logrus-speaking tool handling and state mapping, colima's own argv and output.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import {
  BackendUnavailableError,
  type BackendV1,
  type DetectResult,
  defaultRunner,
  detectTool,
  type ListContext,
  type ListedInstance,
  parseOptions,
  SPECIFICATION_VERSION,
} from '@vms/core';
import { observedState, readMarker } from '../driver.js';
import { ColimaCli } from './cli.js';
import { ColimaDriver, colimaProperties } from './driver.js';
import {
  type ColimaOptions,
  type ColimaSettings,
  colimaOptionsSchema,
  colimaSettingsSchema,
} from './options.js';
import { colimaHomeDir, profileDir } from './paths.js';

export interface ColimaBackend extends BackendV1<typeof colimaOptionsSchema> {
  readonly name: 'colima';
  driver(name: string, options: ColimaOptions): ColimaDriver;
}

const INSTALL_HINT =
  process.platform === 'darwin'
    ? 'brew install colima'
    : 'install colima and lima: https://colima.run/docs/installation/';

export function createColima(settings: ColimaSettings = {}): ColimaBackend {
  const parsed = parseOptions(colimaSettingsSchema, settings, 'settings');
  const runner = parsed.runner ?? defaultRunner;
  const cli = new ColimaCli(runner, parsed.colimaPath, parsed.env, parsed.colimaHome);
  const base = () => cli.home ?? colimaHomeDir({ ...process.env, ...cli.env });

  return {
    specificationVersion: SPECIFICATION_VERSION,
    name: 'colima',
    capabilities: {
      suspend: false,
      exec: true,
      logs: false,
      snapshot: false,
      copy: false,
      portForward: false,
      mounts: true,
    },
    optionsSchema: colimaOptionsSchema,
    // Create is a first boot (image download, runtime provisioning) plus a stop.
    defaultTimeouts: { create: 1_200_000, start: 900_000, stop: 300_000, delete: 300_000 },

    detect(ctx = {}): Promise<DetectResult> {
      return detectTool({
        toolPath: parsed.colimaPath,
        probe: async () => {
          const version = await cli.version({
            timeoutMs: 15_000,
            ...(ctx.signal ? { signal: ctx.signal } : {}),
          });
          // colima checks for Lima before every VM command ("dependency check failed for VM").
          if (!onPath('lima', { ...process.env, ...cli.env })) {
            throw new BackendUnavailableError(
              'colima',
              'colima needs Lima, and lima is not on PATH',
              {
                hint:
                  process.platform === 'darwin'
                    ? 'brew install lima'
                    : 'install lima: https://lima-vm.io/docs/installation/',
              },
            );
          }
          return version;
        },
        installHint: INSTALL_HINT,
      });
    },

    /** Every colima profile; `managed` marks the ones @vms created. */
    async list(ctx: ListContext): Promise<ListedInstance[]> {
      const instances = await cli.list({ signal: ctx.signal });
      return instances.map((instance) => {
        const dir = profileDir(base(), instance.name);
        return {
          name: instance.name,
          ...observedState(instance),
          managed: readMarker(dir) !== undefined,
          properties: colimaProperties(instance, dir),
        };
      });
    },

    driver(name: string, options: ColimaOptions): ColimaDriver {
      return new ColimaDriver(cli, name, options);
    },

    validateName(name: string): string | undefined {
      // colima maps "colima" to its default profile and strips a "colima-" prefix.
      if (name === 'colima' || name.startsWith('colima-'))
        return 'colima renames profiles called "colima" or starting with "colima-"; pick another name';
      return undefined;
    },
  };
}

function onPath(bin: string, env: Record<string, string | undefined>): boolean {
  return (env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => {
      try {
        accessSync(join(dir, bin), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

/** The colima backend with default settings (`colima` on PATH, colima's own home). */
export const colima: ColimaBackend = createColima();
