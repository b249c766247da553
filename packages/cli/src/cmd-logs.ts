/** logs [-f]: the instance's output; with --json, one NDJSON record per chunk. */
import { lazySchema } from '@vms/core';
import * as z from '@vms/core/zod';
import { expectPositionals } from './args.js';
import type { CommandModule } from './context.js';
import { EXIT } from './exit-codes.js';
import { countFlag, validateFlags } from './flags.js';
import { attachInstance, notFoundIfAbsent, resolveRef } from './instances.js';

const flagsSchema = lazySchema(() =>
  z.object({ follow: z.boolean().optional(), tail: countFlag().optional() }),
);

export const run: CommandModule['run'] = async (ctx, args) => {
  expectPositionals('logs', args.positionals, 1, 1, 'instance name');
  const flags = validateFlags('logs', flagsSchema, args.values);
  const { backend, name } = await resolveRef(ctx, args.positionals[0] as string);
  const instance = await attachInstance(ctx, backend, name);
  // A missing instance is "not found", not an empty log.
  const { state } = await instance.inspect({ signal: ctx.signal });
  if (state.name === 'initial' || state.name === 'deleted') {
    const { InvalidTransitionError } = await import('@vms/core');
    throw notFoundIfAbsent(new InvalidTransitionError('logs', state.name), instance);
  }
  await instance.logs({
    signal: ctx.signal,
    follow: flags.follow === true,
    ...(flags.tail !== undefined ? { tail: flags.tail } : {}),
    onData: (chunk, stream) => {
      if (ctx.json)
        ctx.out.record({
          type: 'log',
          instance: instance.id,
          stream,
          text: chunk.toString('utf8'),
        });
      else (stream === 'stderr' ? ctx.out.stderr : ctx.out.stdout).write(chunk);
    },
  });
  return EXIT.ok;
};
