/**
 * The engine inside a VM instance as a container backend's endpoint (the devx two-layer model):
 * `createDocker({ engine: { vm } })`. Before each engine call the VM is asked where its engine
 * is (`Instance.engineEndpoint`: starts a stopped VM unless `start: false`, forwards the socket
 * when the VM's tool does not publish it); the backend itself is unchanged.
 */
import {
  BackendUnavailableError,
  type EngineEndpoint,
  type EngineEndpointOptions,
  type EngineKind,
  type EngineRequest,
  VmsError,
} from '@vms/core';
import * as z from '@vms/core/zod';
import type { ContainerDialect } from './dialect.js';

/** What the container backend needs of the VM: an @vms `Instance` fits. */
export interface EngineHost {
  /** `backend:name`, for messages. */
  readonly id: string;
  engineEndpoint(request: EngineRequest, options?: EngineEndpointOptions): Promise<EngineEndpoint>;
}

function isEngineHost(value: unknown): value is EngineHost {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>).id === 'string' &&
    typeof (value as Record<string, unknown>).engineEndpoint === 'function'
  );
}

export const engineSourceSchema = z
  .object({
    /** The VM instance whose engine to use (e.g. `createInstance(lima, 'dev', …)`). */
    vm: z.custom<EngineHost>(isEngineHost, {
      message: 'must be an @vms Instance of a VM backend (lima, colima, qemu)',
    }),
    /** Which engine inside the VM (default: the backend's own, docker or podman). */
    kind: z.enum(['docker', 'podman']).optional(),
    /**
     * Where the engine listens inside the guest, for VMs whose engine @vms forwards itself
     * (qemu): a socket path, or `tcp://HOST:PORT` as the guest sees it.
     */
    guestAddress: z
      .string()
      .regex(
        /^(\/.+|tcp:\/\/[^/]+:\d+)$/,
        'must be an absolute socket path or tcp://HOST:PORT (as the guest sees it)',
      )
      .optional(),
    /** Start the VM when it is stopped (default true); false: the engine is unavailable until it runs. */
    start: z.boolean().default(true),
  })
  .strict();

export type EngineSource = z.output<typeof engineSourceSchema>;
export type EngineSourceInput = z.input<typeof engineSourceSchema>;

/** Asks the VM where its engine is; its failures become BACKEND_UNAVAILABLE naming the VM. */
export async function resolveEngineSource(
  source: EngineSource,
  dialect: ContainerDialect,
  ctx: { signal: AbortSignal },
  start: boolean,
): Promise<EngineEndpoint> {
  const kind: EngineKind = source.kind ?? (dialect.name === 'podman' ? 'podman' : 'docker');
  try {
    return await source.vm.engineEndpoint(
      { kind, ...(source.guestAddress ? { guestAddress: source.guestAddress } : {}) },
      { signal: ctx.signal, start },
    );
  } catch (error) {
    if (VmsError.hasCode(error, 'TIMEOUT') || VmsError.hasCode(error, 'ABORTED')) throw error;
    const why = error instanceof Error ? error.message : String(error);
    throw new BackendUnavailableError(
      dialect.name,
      `its engine's VM ${source.vm.id} is not usable: ${why}`,
      {
        cause: error,
        hint:
          (VmsError.isInstance(error) ? error.hint : undefined) ??
          `check the VM: vms inspect ${source.vm.id}`,
      },
    );
  }
}
