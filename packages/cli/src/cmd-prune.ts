/** prune: delete every instance @vms created (managed), after confirmation on a terminal. */
import { lazySchema, toVmsError, vmsHome } from '@vms/core';
import * as z from '@vms/core/zod';
import { expectPositionals } from './args.js';
import { backendSelection, selectBackends } from './backend-flags.js';
import { loadMcpSessions } from './cmd-mcp.js';
import type { CliContext, CommandModule } from './context.js';
import { EXIT } from './exit-codes.js';
import { validateFlags } from './flags.js';
import { attachInstance, listBackend } from './instances.js';

const flagsSchema = lazySchema(() =>
  backendSelection().extend({
    mcp: z.boolean().optional(),
    'dry-run': z.boolean().optional(),
    yes: z.boolean().optional(),
  }),
);

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
  // Instances of a live `vms mcp` server belong to it; those of a server that is gone are leftovers.
  const mcp = await loadMcpSessions(ctx);
  const sessions = mcp ? await mcp.listSessions(vmsHome()) : [];
  const liveSessions = new Map(sessions.filter((s) => s.alive).map((s) => [s.id, s]));
  const deadSessions = new Set(sessions.filter((s) => !s.alive).map((s) => s.id));
  const skipped: Array<{ id: string; reason: string }> = [];
  const targets = listed.flatMap((l) =>
    l.instances
      .filter((i) => i.managed)
      .filter((i) => {
        const session = mcp?.sessionOf(i);
        const owner = session === undefined ? undefined : liveSessions.get(session);
        if (!owner) return true;
        skipped.push({
          id: `${l.backend.name}:${i.name}`,
          reason: `in use by MCP session ${owner.id} (vms mcp, pid ${owner.pid})`,
        });
        return false;
      })
      .filter((i) => {
        if (!flags.mcp) return true;
        const session = mcp?.sessionOf(i);
        return session !== undefined && deadSessions.has(session);
      })
      .map((i) => ({
        backend: l.backend,
        name: i.name,
        state: i.state,
        session: mcp?.sessionOf(i),
      })),
  );
  if (!ctx.json) for (const s of skipped) ctx.out.note(`skipping ${s.id}: ${s.reason}`);
  const ids = targets.map((t) => `${t.backend.name}:${t.name}`);
  const dryRun = flags['dry-run'] === true;
  /** Records of MCP sessions whose server is gone and whose instances are all gone now. */
  const forgetDeadSessions = async (failed: ReadonlySet<string | undefined>) => {
    for (const s of sessions) {
      if (s.alive || failed.has(s.id)) continue;
      await mcp?.removeSessionRecord(vmsHome(), s.id);
    }
  };
  if (targets.length === 0 || dryRun) {
    if (!dryRun && errors.length === 0) await forgetDeadSessions(new Set());
    if (ctx.json)
      ctx.out.result('prune', {
        ok: errors.length === 0,
        dryRun,
        instances: ids.map((id) => ({ id, deleted: false })),
        skipped,
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
  const failedSessions = new Set<string | undefined>();
  const results = await Promise.all(
    targets.map(async (t) => {
      const id = `${t.backend.name}:${t.name}`;
      try {
        await (await attachInstance(ctx, t.backend, t.name)).delete({ signal: ctx.signal });
        if (!ctx.json) ctx.out.line(`deleted ${id}`);
        return { id, deleted: true };
      } catch (error) {
        failedSessions.add(t.session);
        const e = toVmsError(error);
        if (!ctx.json) ctx.out.error(`could not delete ${id}: ${e.message}`, e.hint);
        return { id, deleted: false, error: { code: e.code, message: e.message } };
      }
    }),
  );
  if (errors.length === 0) await forgetDeadSessions(failedSessions);
  const failed = results.filter((r) => !r.deleted).length;
  if (ctx.json)
    ctx.out.result('prune', {
      ok: failed === 0 && errors.length === 0,
      dryRun,
      instances: results,
      skipped,
      errors,
    });
  if (ctx.signal.aborted) return EXIT.interrupted;
  return failed ? EXIT.failed : EXIT.ok;
};
