/** list: every instance of every available backend, listed in parallel with a per-backend deadline. */
import { z } from 'zod';
import { expectPositionals } from './args.js';
import { backendSelection, selectBackends } from './backend-flags.js';
import type { CommandModule } from './context.js';
import { EXIT } from './exit-codes.js';
import { validateFlags } from './flags.js';
import { listBackend } from './instances.js';
import { stateStyle } from './output.js';

const flagsSchema = backendSelection.extend({ all: z.boolean().optional() });

export const run: CommandModule['run'] = async (ctx, args) => {
  expectPositionals('list', args.positionals, 0, 0, '');
  const flags = validateFlags('list', flagsSchema, args.values);
  const { backends, timeoutMs } = await selectBackends(ctx, flags);
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
  const errors = listed
    .filter((l) => l.error)
    .map((l) => ({ backend: l.backend.name, code: l.error?.code, message: l.error?.message }));
  if (ctx.json) {
    ctx.out.result('list', { ok: errors.length === 0, instances, errors });
  } else {
    for (const e of errors) ctx.out.warn(`${e.backend}: ${e.message}`);
    if (instances.length === 0)
      ctx.out.note(`no instances (backends: ${backends.map((b) => b.name).join(', ')})`);
    else {
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
  // Partial results are still results; a backend that failed is reported, not fatal.
  return EXIT.ok;
};
