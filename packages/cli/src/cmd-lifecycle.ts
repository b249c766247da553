/** create, start, stop, suspend, resume, delete. */
import {
  type BackendV1,
  type Instance,
  lazySchema,
  removeInstanceRecord,
  toVmsError,
  VmsError,
  vmsHome,
} from '@vms/core';
import * as z from '@vms/core/zod';
import { expectPositionals } from './args.js';
import type { CliContext, CommandModule } from './context.js';
import { buildCreateOptions, explainOptionsError } from './create-options.js';
import {
  engineVmGone,
  forgetEngineHost,
  onEngineOf,
  recallEngineHost,
  rememberEngineHost,
} from './engine-host.js';
import { EXIT } from './exit-codes.js';
import { durationFlag, validateFlags } from './flags.js';
import {
  attachInstance,
  makeInstance,
  noBackendsError,
  parseRef,
  resolveRef,
  took,
  withProgress,
} from './instances.js';
import { stateStyle } from './output.js';
import { UsageError } from './usage-error.js';

const createFlags = lazySchema(() =>
  z.object({
    backend: z.string().min(1).optional(),
    image: z.string().min(1).optional(),
    cpus: z.string().optional(),
    memory: z.string().optional(),
    disk: z.string().optional(),
    port: z.array(z.string()).optional(),
    mount: z.array(z.string()).optional(),
    env: z.array(z.string()).optional(),
    label: z.array(z.string()).optional(),
    opt: z.array(z.string()).optional(),
    'options-json': z.string().optional(),
    start: z.boolean().optional(),
    on: z.string().min(1).optional(),
    timeout: durationFlag().optional(),
  }),
);

const opFlags = lazySchema(() =>
  z.object({
    timeout: durationFlag().optional(),
    force: z.boolean().optional(),
    grace: durationFlag().optional(),
  }),
);

function report(
  ctx: CliContext,
  instance: Instance,
  verb: string,
  durationMs: number,
  extra: Record<string, unknown> = {},
  note = '',
): number {
  const state = instance.state.name;
  if (ctx.json) {
    ctx.out.result(ctx.command, {
      ok: true,
      instance: instance.id,
      backend: instance.backend.name,
      name: instance.name,
      state,
      durationMs,
      ...extra,
    });
  } else {
    const styled = ctx.out.style(state, stateStyle(state) ?? 'bold');
    ctx.out.line(`${verb} ${instance.id}: ${styled} (${took(durationMs)})${note}`);
  }
  return EXIT.ok;
}

async function pickCreateBackend(
  ctx: CliContext,
  refBackend: string | undefined,
  flag: string | undefined,
): Promise<BackendV1> {
  if (refBackend && flag && refBackend !== flag) {
    throw new UsageError(`the name says backend ${refBackend} but --backend says ${flag}`);
  }
  const name = refBackend ?? flag;
  if (name) return ctx.registry.get(name);
  const available = await ctx.registry.available(10_000, ctx.signal);
  if (available.length === 1) return available[0] as BackendV1;
  if (available.length === 0) throw await noBackendsError(ctx);
  const names = available.map((b) => b.name).sort();
  throw new UsageError(
    `which backend? available: ${names.join(', ')}`,
    `name it: vms create ${names[0]}:NAME, or --backend ${names[0]}`,
  );
}

async function create(ctx: CliContext, positionals: string[], values: unknown): Promise<number> {
  expectPositionals('create', positionals, 1, 1, 'instance name');
  const flags = validateFlags('create', createFlags, values);
  const ref = parseRef(positionals[0] as string);
  const picked = await pickCreateBackend(ctx, ref.backend, flags.backend);
  const backend = flags.on ? await onEngineOf(ctx, picked, flags.on, attachInstance) : picked;
  let instance: Instance;
  let options: Record<string, unknown>;
  try {
    options = buildCreateOptions(backend, flags, ctx.cwd);
    instance = makeInstance(ctx, backend, ref.name, options);
  } catch (error) {
    throw explainOptionsError(error, backend);
  }
  const op = { signal: ctx.signal, ...(flags.timeout ? { timeoutMs: flags.timeout } : {}) };
  const started = Date.now();
  await withProgress(ctx, instance, 'creating', () => instance.create(op));
  if (flags.on) await rememberEngineHost(backend.name, ref.name, flags.on);
  if (flags.start) {
    try {
      await withProgress(ctx, instance, 'starting', () => instance.start(op));
    } catch (error) {
      throw createdButNotStarted(instance, error);
    }
  }
  return report(
    ctx,
    instance,
    flags.start ? 'created and started' : 'created',
    Date.now() - started,
    {
      started: flags.start === true,
      ...(flags.on ? { on: flags.on } : {}),
    },
  );
}

/** A start after `create --start` failed: the instance exists (stopped), and the error says so. */
function createdButNotStarted(instance: Instance, error: unknown): VmsError {
  const e = toVmsError(error);
  return new VmsError(e.code, `${instance.id} was created but did not start: ${e.message}`, {
    cause: e,
    instance: instance.id,
    retryable: e.retryable,
    hint: `${e.hint ? `${e.hint}; ` : ''}it is ${instance.state.name}: vms start ${instance.id}, or vms delete ${instance.id}`,
  });
}

async function operate(ctx: CliContext, positionals: string[], values: unknown): Promise<number> {
  const command = ctx.command;
  expectPositionals(command, positionals, 1, 1, 'instance name');
  const flags = validateFlags(command, opFlags, values);
  const { backend, name } = await resolveRef(ctx, positionals[0] as string);
  const instance = await attachInstance(ctx, backend, name);
  const op = { signal: ctx.signal, ...(flags.timeout ? { timeoutMs: flags.timeout } : {}) };
  const started = Date.now();
  switch (command) {
    case 'start':
      await withProgress(ctx, instance, 'starting', () => instance.start(op));
      return report(ctx, instance, 'started', Date.now() - started);
    case 'stop': {
      const result = await withProgress(ctx, instance, 'stopping', () =>
        instance.stop({
          ...op,
          ...(flags.force ? { force: true } : {}),
          ...(flags.grace ? { graceMs: flags.grace } : {}),
        }),
      );
      const exit = result.guestExit;
      return report(
        ctx,
        instance,
        'stopped',
        Date.now() - started,
        {
          how: result.how,
          ...(exit ? { guestExit: exit } : {}),
          ...(result.gracefulError ? { gracefulError: result.gracefulError.message } : {}),
        },
        result.how === 'graceful' ? '' : ` — ${result.how}`,
      );
    }
    case 'suspend':
      await withProgress(ctx, instance, 'suspending', () => instance.suspend(op));
      return report(ctx, instance, 'suspended', Date.now() - started);
    case 'resume':
      await withProgress(ctx, instance, 'resuming', () => instance.resume(op));
      return report(ctx, instance, 'resumed', Date.now() - started);
    case 'delete': {
      const result = await withProgress(ctx, instance, 'deleting', () => instance.delete(op)).catch(
        async (error: unknown) => {
          // A container whose VM was deleted went with the VM's engine: forget it.
          const on = await recallEngineHost(backend.name, name);
          if (!on || !engineVmGone(error)) throw error;
          if (!ctx.json) ctx.out.note(`${instance.id} went with its engine's VM ${on}`);
          await removeInstanceRecord(vmsHome(), backend.name, name);
          return { existed: false };
        },
      );
      await forgetEngineHost(backend.name, name);
      if (!result.existed && !ctx.json) {
        ctx.out.line(`${instance.id} did not exist: nothing to delete`);
        return EXIT.ok;
      }
      return report(ctx, instance, 'deleted', Date.now() - started, { existed: result.existed });
    }
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

export const run: CommandModule['run'] = (ctx, args) =>
  ctx.command === 'create'
    ? create(ctx, args.positionals, args.values)
    : operate(ctx, args.positionals, args.values);
