/** `createLinuxkit(settings)`: the linuxkit backend (`backend:name` = `linuxkit:<name>`). */
import { isAbsolute, join } from 'node:path';
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
import { createQemu } from '@vms/qemu';
import { LinuxkitDriver } from './driver.js';
import { type LinuxkitOptions, linuxkitOptionsSchema } from './options.js';
import { createSavedStates } from './saved-states.js';
import { createStore, describeProblems, imageProblems } from './state.js';
import { createTemplateCatalog, type TemplateCatalog } from './templates.js';

const absolute = z.string().min(1).refine(isAbsolute, 'must be an absolute path');

export const linuxkitSettingsSchema = z
  .object({
    /** QEMU system emulator (default `qemu-system-x86_64` on PATH). */
    qemu: z.string().min(1).default('qemu-system-x86_64'),
    qemuImg: z.string().min(1).default('qemu-img'),
    /** Default accelerator of instances that do not set one. */
    accel: z.enum(['auto', 'kvm', 'tcg']).default('auto'),
    /** The `linuxkit` executable used to build templates (default `linuxkit` on PATH). */
    linuxkit: z.string().min(1).default('linuxkit'),
    /** Directory of the instances' state (default `<vmsHome>/state/linuxkit`). */
    stateRoot: absolute.optional(),
    /** Directory of the user's templates (default `~/.config/vms/linuxkit/templates`). */
    templatesDir: absolute.optional(),
    /** OVMF firmware for EFI images (default: found at the usual paths). */
    uefiFirmware: absolute.optional(),
    runner: processRunnerSchema.optional(),
  })
  .strict();
export type LinuxkitSettings = z.input<typeof linuxkitSettingsSchema>;

const CAPABILITIES: Capabilities = {
  suspend: true,
  exec: true,
  logs: true,
  // On a disk image (qcow2 overlay), or with diskGiB; kernel+initrd and ISO boots have no disk.
  snapshot: true,
  copy: true,
  portForward: true,
  mounts: true,
};

export interface LinuxkitBackend extends BackendV1<typeof linuxkitOptionsSchema> {
  /** Saved states of LinuxKit images: instances start from them with `from: { savedState }`. */
  readonly savedStates: SavedStatesV1;
  driver(name: string, options: LinuxkitOptions): LinuxkitDriver;
  /** A driver for an instance whose record is gone or invalid: inspect, stop, snapshot, delete. */
  attach(name: string): LinuxkitDriver;
  /** The templates this backend builds from (built-in and the user's). */
  readonly templates: TemplateCatalog;
}

export function createLinuxkit(settings: LinuxkitSettings = {}): LinuxkitBackend {
  const s = parseOptions(linuxkitSettingsSchema, settings, 'settings');
  const runner = s.runner ?? createRunner();
  const templates = createTemplateCatalog(s.templatesDir ? { userDir: s.templatesDir } : {});
  const savedStateRoot = () => join(vmsHome(), 'state', 'linuxkit-saved');
  const qemuAt = (stateRoot: string) =>
    createQemu({
      binary: s.qemu,
      qemuImg: s.qemuImg,
      accel: s.accel,
      stateRoot,
      templateRoot: savedStateRoot(),
      runner,
    });
  let store: ReturnType<typeof createStore> | undefined;
  // VMS_HOME is read at first use: constructing the backend does no I/O.
  const getStore = () => {
    store ??= createStore(s.stateRoot);
    return store;
  };

  return {
    specificationVersion: SPECIFICATION_VERSION,
    name: 'linuxkit',
    capabilities: CAPABILITIES,
    optionsSchema: linuxkitOptionsSchema,
    defaultTimeouts: { create: 30 * 60_000, start: 180_000, stop: 60_000, snapshot: 300_000 },
    templates,
    savedStates: createSavedStates({
      root: savedStateRoot,
      qemu: () => qemuAt(join(savedStateRoot(), '.instances')),
      store: getStore,
      ...(s.uefiFirmware ? { uefiFirmware: s.uefiFirmware } : {}),
    }),

    async detect(ctx): Promise<DetectResult> {
      // Running needs QEMU (same checks as @vms/qemu); linuxkit itself is only for templates.
      return createQemu({ binary: s.qemu, qemuImg: s.qemuImg, runner }).detect(ctx);
    },

    async list(ctx): Promise<ListedInstance[]> {
      const st = getStore();
      const out: ListedInstance[] = [];
      for (const name of await st.list()) {
        const state = await st.read(name).catch(() => undefined);
        if (!state) {
          out.push({ name, state: 'broken', reason: 'unreadable state file', managed: true });
          continue;
        }
        const [vm] = (await qemuAt(join(st.instanceDir(name), 'qemu')).list(ctx)).filter(
          (l) => l.name === name,
        );
        const problems = await imageProblems(state.files);
        const reasons = [
          ...(vm ? (vm.reason ? [vm.reason] : []) : ['its QEMU state is missing']),
          ...(problems.length ? [describeProblems(problems)] : []),
        ];
        out.push({
          name,
          state: vm ? vm.state : 'broken',
          ...(reasons.length ? { reason: reasons.join('; ') } : {}),
          managed: true,
          properties: { image: state.source },
        });
      }
      return out;
    },

    driver(name: string, options: LinuxkitOptions): LinuxkitDriver {
      return new LinuxkitDriver(name, options, deps());
    },

    attach(name: string): LinuxkitDriver {
      return new LinuxkitDriver(name, undefined, deps());
    },
  };

  function deps(): ConstructorParameters<typeof LinuxkitDriver>[2] {
    return {
      get store() {
        return getStore();
      },
      qemuAt,
      savedStateRoot,
      templates,
      linuxkit: s.linuxkit,
      ...(s.uefiFirmware ? { uefiFirmware: s.uefiFirmware } : {}),
      runner,
    };
  }
}

/** The default backend: QEMU from PATH, accelerator probed, `linuxkit` from PATH for builds. */
export const linuxkit: LinuxkitBackend = createLinuxkit();
