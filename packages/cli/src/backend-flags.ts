/** Shared by list, prune, events and demo: which backends, and how long each may take. */
import type { BackendV1 } from '@vms/core';
import { lazySchema } from '@vms/core';
import * as z from '@vms/core/zod';
import type { CliContext } from './context.js';
import { durationFlag } from './flags.js';
import { DEFAULT_BACKEND_TIMEOUT_MS, noBackendsError } from './instances.js';

export const backendSelection = lazySchema(() =>
  z.object({
    backend: z.union([z.array(z.string().min(1)), z.string().min(1)]).optional(),
    'backend-timeout': durationFlag().optional(),
  }),
);

/** The available backends the user selected (all when none is named); exit 4 when there are none. */
export async function selectBackends(
  ctx: CliContext,
  selection: z.output<ReturnType<typeof backendSelection>>,
  { allowNone = false }: { allowNone?: boolean } = {},
): Promise<{ backends: BackendV1[]; timeoutMs: number }> {
  const timeoutMs = selection['backend-timeout'] ?? DEFAULT_BACKEND_TIMEOUT_MS;
  const wanted = selection.backend === undefined ? [] : [selection.backend].flat();
  if (wanted.length) {
    const backends = await Promise.all(wanted.map((name) => ctx.registry.get(name)));
    return { backends, timeoutMs };
  }
  const backends = await ctx.registry.available(timeoutMs, ctx.signal);
  if (backends.length === 0 && !allowNone) throw await noBackendsError(ctx);
  return { backends, timeoutMs };
}
