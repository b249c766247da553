/**
 * `qemu.templates`: saving a booted VM as a template, listing and deleting templates. A save
 * boots its own short-lived instance (in the template's directory, invisible to `list()`), runs
 * the caller's `prepare`, saves the running state and removes that instance.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createInstance,
  deadlineSignal,
  type Instance,
  OperationFailedError,
  type StateStore,
  toVmsError,
} from '@vms/core';
import type { QemuDriver } from './driver.js';
import type { QemuOptions, QemuOptionsInput } from './options.js';
import {
  claimTemplateDir,
  listTemplates,
  readTemplate,
  removeTemplateDir,
  type TemplateManifest,
  templatePaths,
  validateTemplateName,
} from './saved-state.js';
import type { QemuState } from './state.js';

/** A saved state new instances start from (`from: { template: name }`). */
export interface TemplateInfo {
  name: string;
  createdAt: string;
  /** Where its files are. */
  dir: string;
  cpus: number;
  memoryMiB: number;
  accel: 'kvm' | 'tcg';
  /** Size of the saved memory and device state, bytes. */
  stateBytes: number;
}

export interface SaveTemplateOptions {
  /** Runs in the booted VM before its state is saved (install, warm caches, start services). */
  prepare?: (instance: Instance) => Promise<void>;
  signal?: AbortSignal;
  /** Deadline of the whole save: boot, prepare and save (default 15 min). */
  timeoutMs?: number;
  onProgress?: (step: string) => void;
}

export interface QemuTemplates {
  /**
   * Boots a VM with `options` (as for an instance), waits until it is ready, runs `prepare`,
   * and saves its running state as template `name`.
   */
  save(
    name: string,
    options: QemuOptionsInput,
    settings?: SaveTemplateOptions,
  ): Promise<TemplateInfo>;
  get(name: string): Promise<TemplateInfo | undefined>;
  list(): Promise<TemplateInfo[]>;
  /**
   * Deletes a template. Refused while instances started from it exist: their disks are overlays
   * over the template's.
   */
  delete(name: string): Promise<{ existed: boolean }>;
}

export interface TemplateDeps {
  root: () => string;
  store: () => StateStore<QemuState>;
  /** A qemu backend whose instances live under `stateRoot` (the save's own VM). */
  builder: (stateRoot: string) => {
    backend: Parameters<typeof createInstance>[0];
    driver(name: string, options: QemuOptions): QemuDriver;
  };
}

function info(root: string, t: TemplateManifest): TemplateInfo {
  return {
    name: t.name,
    createdAt: t.createdAt,
    dir: templatePaths(root, t.name).dir,
    cpus: t.machine.cpus,
    memoryMiB: t.machine.memoryMiB,
    accel: t.machine.accel,
    stateBytes: t.stateBytes,
  };
}

const DEFAULT_SAVE_TIMEOUT_MS = 15 * 60_000;

export function createTemplates(deps: TemplateDeps): QemuTemplates {
  return {
    async save(name, options, settings = {}) {
      validateTemplateName(name);
      if ((options as { from?: unknown }).from !== undefined) {
        throw new OperationFailedError(
          'a template is saved from a booted VM, not from a template',
          {
            hint: 'give the options of a VM (kernel, disk or iso), without from',
          },
        );
      }
      const root = deps.root();
      const paths = templatePaths(root, name);
      await claimTemplateDir(paths, name);
      const build = join(paths.dir, 'build');
      const builder = deps.builder(join(build, 'state'));
      const deadline = deadlineSignal({
        timeoutMs: settings.timeoutMs ?? DEFAULT_SAVE_TIMEOUT_MS,
        ...(settings.signal ? { signal: settings.signal } : {}),
      });
      const op = { signal: deadline.signal };
      const vm = createInstance(builder.backend, 'template', options, {
        home: build,
        watch: false,
      });
      const progress = (step: string) => settings.onProgress?.(step);
      try {
        progress('booting the VM to save');
        await vm.create(op);
        await vm.start(op);
        if (settings.prepare) {
          progress('preparing it');
          await settings.prepare(vm);
        }
        progress('saving its state');
        const manifest = await builder
          .driver('template', vm.options as QemuOptions)
          .saveAsTemplate(name, {
            signal: deadline.signal,
            deadline: deadline.deadline,
            progress,
            debug: () => {},
          });
        await vm.delete({ signal: AbortSignal.timeout(120_000) });
        await rm(build, { recursive: true, force: true });
        return info(root, manifest);
      } catch (error) {
        await vm.delete({ signal: AbortSignal.timeout(120_000) }).catch(() => {});
        await removeTemplateDir(paths);
        throw toVmsError(error, `saving qemu template ${name} failed`);
      } finally {
        deadline.dispose();
      }
    },

    async get(name) {
      const root = deps.root();
      const t = await readTemplate(root, validateTemplateName(name));
      return t ? info(root, t) : undefined;
    },

    async list() {
      const root = deps.root();
      return (await listTemplates(root)).map((t) => info(root, t));
    },

    async delete(name) {
      const root = deps.root();
      const paths = templatePaths(root, validateTemplateName(name));
      const users: string[] = [];
      const store = deps.store();
      for (const instance of await store.list()) {
        const state = await store.read(instance).catch(() => undefined);
        if (state?.clone?.template === name) users.push(instance);
      }
      if (users.length > 0) {
        throw new OperationFailedError(
          `qemu template ${name} is in use by ${users.map((u) => `qemu:${u}`).join(', ')}`,
          { hint: 'delete those instances first: their disks are overlays over the template' },
        );
      }
      const existed = (await readTemplate(root, name).catch(() => undefined)) !== undefined;
      await removeTemplateDir(paths);
      return { existed };
    },
  };
}
