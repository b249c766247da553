/**
 * What the dashboard needs from core that core does not publish yet, in one place to delete
 * when it does: the JSON Schema of a backend's options (input side, for the create form), and
 * attaching to an instance that exists. Until then, the schema is generated here from the
 * backend's zod schema, and attaching uses `openInstance` with the options core remembers.
 */
import {
  type BackendV1,
  type Instance,
  type InstanceSettings,
  InvalidOptionsError,
  openInstance,
} from '@vms/core';
import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

/** The JSON Schema of the options a user may give (defaults optional), or undefined when zod cannot express it. */
export function optionsJsonSchema(backend: BackendV1): JsonSchema | undefined {
  try {
    return z.toJSONSchema(backend.optionsSchema, {
      io: 'input',
      unrepresentable: 'any',
    }) as JsonSchema;
  } catch {
    return undefined;
  }
}

/** A handle on an existing instance, with the options it was created with. */
export async function attach(
  backend: BackendV1,
  name: string,
  settings: InstanceSettings & { signal?: AbortSignal },
): Promise<Instance> {
  try {
    return await openInstance(backend, name, undefined, settings);
  } catch (error) {
    if (error instanceof InvalidOptionsError) {
      throw new InvalidOptionsError(error.issues, {
        cause: error,
        hint: `${backend.name}:${name} was not created by @vms on this machine, so its options are unknown: act on it with its own tool`,
      });
    }
    throw error;
  }
}
