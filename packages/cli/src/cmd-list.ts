/** list: every instance of every available backend, listed in parallel with a per-backend deadline. */
import { lazySchema } from '@vms/core';
import * as z from '@vms/core/zod';
import { expectPositionals } from './args.js';
import { backendSelection, selectBackends } from './backend-flags.js';
import type { CommandModule } from './context.js';
import { EXIT } from './exit-codes.js';
import { validateFlags } from './flags.js';
import { type ListError, listBackend, noBackendsError, unreachableBackends } from './instances.js';
import { stateStyle } from './output.js';

const flagsSchema = lazySchema(() => backendSelection().extend({ all: z.boolean().optional() }));

export const run: CommandModule['run'] = async (ctx, args) => {
  expectPositionals('list', args.positionals, 0, 0, '');
  const flags = validateFlags('list', flagsSchema, args.values);
  const named = flags.backend !== undefined;
  const { backends, timeoutMs } = await selectBackends(ctx, flags, { allowNone: true });
  // Backends that should have answered but are down count as errors: an empty list must mean
  // "no instances", never "the engine did not answer".
  const unreachable = named ? [] : await unreachableBackends(ctx, backends, timeoutMs);
  if (backends.length === 0 && unreachable.length === 0) throw await noBackendsError(ctx);
  const listed = await Promise.all(
    backends.map((b) => listBackend(ctx, b, timeoutMs, flags.all === true)),
  );
  const instances = listed.flatMap((l) =>
    l.instances
      .map((i) => ({
        id: `${l.backend.name}:${i.name}`,
        backend: l.backend.name,
        name: i.name,
        state: i.state,
        managed: i.managed,
        ...(i.reason ? { reason: i.reason } : {}),
        ...(i.properties ? { properties: i.properties } : {}),
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  );
  const errors: ListError[] = [
    ...listed.flatMap((l) =>
      l.error
        ? [
            {
              backend: l.backend.name,
              code: l.error.code,
              message: l.error.message,
              ...(l.error.hint ? { hint: l.error.hint } : {}),
            },
          ]
        : [],
    ),
    ...unreachable,
  ];
  if (ctx.json) {
    ctx.out.result('list', { ok: errors.length === 0, instances, errors });
  } else {
    for (const e of errors) ctx.out.error(`${e.backend}: ${e.message}`, e.hint);
    if (instances.length === 0) {
      const down = errors.length
        ? `; not answering: ${errors.map((e) => e.backend).join(', ')}`
        : '';
      ctx.out.note(`no instances (backends: ${backends.map((b) => b.name).join(', ')}${down})`);
    } else {
      ctx.out.table(
        ['INSTANCE', 'STATE', 'IP', 'IMAGE', 'MANAGED'],
        instances.map((i) => [
          i.id,
          ctx.out.style(i.state, stateStyle(i.state) ?? 'bold') +
            (i.reason ? ` (${i.reason})` : ''),
          i.properties?.ip,
          i.properties?.image,
          i.managed ? 'yes' : 'no',
        ]),
      );
    }
  }
  // Partial results are still printed, but the exit code says the list is incomplete.
  return errors.length ? EXIT.unavailable : EXIT.ok;
};
