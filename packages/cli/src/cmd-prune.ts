/** prune: delete every instance @vms created (managed), after confirmation on a terminal. */
import { toVmsError } from '@vms/core';
import { z } from 'zod';
import { expectPositionals } from './args.js';
import { backendSelection, selectBackends } from './backend-flags.js';
import type { CliContext, CommandModule } from './context.js';
import { EXIT } from './exit-codes.js';
import { validateFlags } from './flags.js';
import { attachInstance, listBackend } from './instances.js';
import { forgetOptions } from './options-memory.js';

const flagsSchema = backendSelection.extend({
  'dry-run': z.boolean().optional(),
  yes: z.boolean().optional(),
});

async function confirm(ctx: CliContext, question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: ctx.stdin, output: ctx.out.stderr as NodeJS.WritableStream });
  try {
    const answer = await rl.question(`${question} [y/N] `, { signal: ctx.signal });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

export const run: CommandModule['run'] = async (ctx, args) => {
  expectPositionals('prune', args.positionals, 0, 0, '');
  const flags = validateFlags('prune', flagsSchema, args.values);
  const { backends, timeoutMs } = await selectBackends(ctx, flags);
  const listed = await Promise.all(backends.map((b) => listBackend(ctx, b, timeoutMs)));
  const errors = listed
    .filter((l) => l.error)
    .map((l) => ({ backend: l.backend.name, code: l.error?.code, message: l.error?.message }));
  for (const e of errors) if (!ctx.json) ctx.out.warn(`${e.backend}: ${e.message}`);
  const targets = listed.flatMap((l) =>
    l.instances
      .filter((i) => i.managed)
      .map((i) => ({ backend: l.backend, name: i.name, state: i.state })),
  );
  const ids = targets.map((t) => `${t.backend.name}:${t.name}`);
  const dryRun = flags['dry-run'] === true;
  if (targets.length === 0 || dryRun) {
    if (ctx.json)
      ctx.out.result('prune', {
        ok: errors.length === 0,
        dryRun,
        instances: ids.map((id) => ({ id, deleted: false })),
        errors,
      });
    else if (targets.length === 0) ctx.out.note('nothing to prune');
    else
      for (const t of targets)
        ctx.out.line(`would delete ${t.backend.name}:${t.name} (${t.state})`);
    return EXIT.ok;
  }
  if (!flags.yes && ctx.stdin.isTTY) {
    ctx.out.note(`This deletes ${targets.length} instance(s): ${ids.join(', ')}`);
    if (!(await confirm(ctx, 'Delete them?'))) {
      ctx.out.note('nothing deleted');
      return EXIT.failed;
    }
  }
  const results = await Promise.all(
    targets.map(async (t) => {
      const id = `${t.backend.name}:${t.name}`;
      try {
        await (await attachInstance(ctx, t.backend, t.name)).delete({ signal: ctx.signal });
        await forgetOptions(t.backend.name, t.name);
        if (!ctx.json) ctx.out.line(`deleted ${id}`);
        return { id, deleted: true };
      } catch (error) {
        const e = toVmsError(error);
        if (!ctx.json) ctx.out.error(`could not delete ${id}: ${e.message}`, e.hint);
        return { id, deleted: false, error: { code: e.code, message: e.message } };
      }
    }),
  );
  const failed = results.filter((r) => !r.deleted).length;
  if (ctx.json)
    ctx.out.result('prune', {
      ok: failed === 0 && errors.length === 0,
      dryRun,
      instances: results,
      errors,
    });
  if (ctx.signal.aborted) return EXIT.interrupted;
  return failed ? EXIT.failed : EXIT.ok;
};
