/**
 * Containers on the engine inside a VM (`vms create docker:web --on lima:dev`): the container
 * backend is retargeted at the VM's engine (`backend.withEngine({ vm })`), and the VM is
 * remembered per container (`<VMS_HOME>/cli/engine-hosts/<backend>/<name>.json`) so that later
 * commands on `docker:web` reach the same engine without --on. Forgotten at delete.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  type BackendV1,
  VmsError,
  validateInstanceName,
  vmsHome,
  writeFileAtomic,
} from '@vms/core';
import type { CliContext } from './context.js';
import { UsageError } from './usage-error.js';

/** A container backend that can target the engine inside a VM (@vms/docker, @vms/podman). */
interface Retargetable {
  withEngine(engine: { vm: unknown }): BackendV1;
}

function retargetable(backend: BackendV1): backend is BackendV1 & Retargetable {
  return typeof (backend as Partial<Retargetable>).withEngine === 'function';
}

function file(backend: string, name: string): string {
  validateInstanceName(name);
  if (!/^[a-z0-9][a-z0-9_-]*$/i.test(backend)) throw new UsageError(`invalid backend ${backend}`);
  return join(vmsHome(), 'cli', 'engine-hosts', backend, `${name}.json`);
}

export async function rememberEngineHost(backend: string, name: string, on: string): Promise<void> {
  const path = file(backend, name);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, `${JSON.stringify({ on })}\n`);
}

export async function recallEngineHost(backend: string, name: string): Promise<string | undefined> {
  try {
    const value = JSON.parse(await readFile(file(backend, name), 'utf8')) as { on?: unknown };
    return typeof value.on === 'string' ? value.on : undefined;
  } catch {
    return undefined;
  }
}

export async function forgetEngineHost(backend: string, name: string): Promise<void> {
  await rm(file(backend, name), { force: true });
}

/**
 * `backend` on the engine of the VM `on` (`BACKEND:NAME`, attached with its remembered options).
 * The VM is started on demand by the first engine call.
 */
export async function onEngineOf(
  ctx: CliContext,
  backend: BackendV1,
  on: string,
  attach: (ctx: CliContext, backend: BackendV1, name: string) => Promise<unknown>,
): Promise<BackendV1> {
  if (!retargetable(backend)) {
    throw new UsageError(
      `--on needs a container backend (docker, podman); ${backend.name} runs its own instances`,
    );
  }
  const colon = on.indexOf(':');
  if (colon <= 0 || colon === on.length - 1) {
    throw new UsageError(
      `--on ${JSON.stringify(on)} is not a VM instance`,
      'write --on BACKEND:NAME, e.g. --on lima:dev',
    );
  }
  const vmBackend = await ctx.registry.get(on.slice(0, colon));
  const vm = await attach(ctx, vmBackend, on.slice(colon + 1));
  return backend.withEngine({ vm });
}

/** The container backend could not reach its engine because the engine's VM does not exist. */
export function engineVmGone(error: unknown): boolean {
  return (
    VmsError.hasCode(error, 'BACKEND_UNAVAILABLE') &&
    VmsError.hasCode((error as Error).cause, 'NOT_FOUND')
  );
}
