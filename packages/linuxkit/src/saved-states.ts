/**
 * Saved states of LinuxKit images, through @vms/qemu's templates: a LinuxKit image booted once
 * and saved; instances created `from: { savedState }` resume it (see @vms/qemu's README, *Start
 * from a saved state*, for what a clone refreshes). Beside each qemu template, `linuxkit.json`
 * records the image it was saved from, so a clone is a LinuxKit instance like any other.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  InvalidOptionsError,
  NotFoundError,
  OperationFailedError,
  parseOptions,
  type SavedStatesV1,
  type StateStore,
} from '@vms/core';
import * as z from '@vms/core/zod';
import type { QemuBackend } from '@vms/qemu';
import { requireUefiFirmware } from './firmware.js';
import { imageFiles, resolveImage } from './image.js';
import { linuxkitOptionsSchema } from './options.js';
import { fileIdentitySchema, identify, type LinuxkitState, resolvedImageSchema } from './state.js';
import { qemuOptionsFor } from './translate.js';

export const savedImageSchema = z.object({
  source: z.string(),
  image: resolvedImageSchema,
  files: z.array(fileIdentitySchema),
  uefiFirmware: z.string().optional(),
});
export type SavedImage = z.infer<typeof savedImageSchema>;

const FILE = 'linuxkit.json';

/** The image a saved state was made from; NotFoundError when there is no such saved state. */
export async function readSavedImage(root: string, name: string): Promise<SavedImage> {
  let text: string;
  try {
    text = await readFile(join(root, name, FILE), 'utf8');
  } catch {
    throw new NotFoundError(`linuxkit saved state ${name} does not exist`, {
      hint: 'save one first: linuxkit.savedStates.save(name, options)',
    });
  }
  return savedImageSchema.parse(JSON.parse(text));
}

export interface SavedStateDeps {
  root: () => string;
  /** A qemu backend over the saved states (its own instances: only the save's own VM). */
  qemu: () => QemuBackend;
  store: () => StateStore<LinuxkitState>;
  uefiFirmware?: string;
}

/** Options of an instance started from saved state `name`, from those it was saved with. */
function cloneOptions(name: string, options: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = { from: { savedState: name } };
  for (const key of ['labels', 'ports', 'env', 'readiness', 'hostKey', 'ssh'] as const) {
    if (Object.hasOwn(options, key)) kept[key] = options[key];
  }
  return kept;
}

export function createSavedStates(deps: SavedStateDeps): SavedStatesV1 {
  return {
    async save(name, options, ctx = {}) {
      const o = parseOptions(linuxkitOptionsSchema, options, 'options');
      if (!o.image || o.mounts.length > 0) {
        throw new InvalidOptionsError(
          [
            {
              path: o.image ? 'mounts' : 'image',
              message: 'a saved state is made from an image, without mounts',
            },
          ],
          { hint: 'build the template first (linuxkit build), then save from its output' },
        );
      }
      const image = await resolveImage(o.image, o.firmware);
      const uefiFirmware =
        image.firmware === 'efi'
          ? requireUefiFirmware(`${image.format} image ${o.image}`, deps.uefiFirmware)
          : undefined;
      const files = await identify(imageFiles(image));
      await deps.qemu().templates.save(name, qemuOptionsFor(image, o, uefiFirmware), ctx);
      const saved: SavedImage = {
        source: o.image,
        image,
        files,
        ...(uefiFirmware ? { uefiFirmware } : {}),
      };
      await writeFile(join(deps.root(), name, FILE), `${JSON.stringify(saved, null, 2)}\n`, {
        mode: 0o600,
      });
      return { name, options: cloneOptions(name, options) };
    },

    async list() {
      return (await deps.qemu().templates.list()).map((t) => t.name);
    },

    async delete(name) {
      const store = deps.store();
      const users: string[] = [];
      for (const instance of await store.list()) {
        const state = await store.read(instance).catch(() => undefined);
        if (state?.savedState === name) users.push(instance);
      }
      if (users.length > 0) {
        throw new OperationFailedError(
          `linuxkit saved state ${name} is in use by ${users.map((u) => `linuxkit:${u}`).join(', ')}`,
          { hint: 'delete those instances first: their disks are overlays over it' },
        );
      }
      await deps.qemu().templates.delete(name);
      await rm(join(deps.root(), name), { recursive: true, force: true });
    },
  };
}
