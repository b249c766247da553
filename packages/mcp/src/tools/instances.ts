/** The lifecycle tools: list, create (and start), start, stop, delete. */
import { type Instance, toVmsError } from '@vms/core';
import { z } from 'zod';
import type { Session, Tracked } from '../session.js';
import { defineTool, withProgress } from '../tool.js';

export const instanceArg = z
  .string()
  .min(1)
  .describe('the name the instance was created with (create_instance returns it)');

/** What the tools say about an instance. */
export function describeTracked(t: Tracked, state?: string): Record<string, unknown> {
  return {
    name: t.alias,
    id: t.instance.id,
    backend: t.backend.name,
    ...t.source,
    state: state ?? t.instance.state.name,
    createdAt: t.createdAt.toISOString(),
    expiresAt: t.expiresAt.toISOString(),
    warm: t.lease !== undefined,
  };
}

async function observedState(instance: Instance, signal: AbortSignal): Promise<string> {
  try {
    return (await instance.refresh({ signal, timeoutMs: 15_000 })).state.name;
  } catch (error) {
    return `unknown (${toVmsError(error).message})`;
  }
}

export const listInstances = defineTool({
  name: 'list_instances',
  title: 'List instances',
  description:
    'Lists the instances this session created, with their real state (running, stopped, …) and when each will be deleted.',
  input: z.object({}).strict(),
  annotations: { readOnlyHint: true },
  async run(_args, session: Session, ctx) {
    const instances = await Promise.all(
      session.instances.map(async (t) =>
        describeTracked(t, await observedState(t.instance, ctx.signal)),
      ),
    );
    return {
      summary: instances.length
        ? instances
            .map((i) => `${String(i.name)} (${String(i.backend)}, ${String(i.state)})`)
            .join(', ')
        : 'no instances in this session',
      data: { instances },
    };
  },
});

export const createInstance = defineTool({
  name: 'create_instance',
  title: 'Create an instance',
  description:
    'Creates a container or VM from an allowed template or image, and starts it (start: false to leave it stopped). Long: reports progress. The instance is deleted when its lifetime ends, when you delete it, or when this session ends.',
  input: z
    .object({
      name: z
        .string()
        .optional()
        .describe('a name for it (default vm-1, vm-2, …); 1-40 letters, digits, "_", "." or "-"'),
      template: z
        .string()
        .min(1)
        .optional()
        .describe('a template of the server (list_backends shows them)'),
      image: z
        .string()
        .min(1)
        .optional()
        .describe('an image allowed by the server, e.g. alpine:3.20'),
      backend: z
        .string()
        .min(1)
        .optional()
        .describe('backend for an image (default: the first allowed one that takes images)'),
      cpus: z
        .number()
        .positive()
        .optional()
        .describe('virtual CPUs (default and most: see list_backends limits)'),
      memoryMiB: z.number().int().positive().optional().describe('memory in MiB'),
      env: z
        .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'invalid variable name'), z.string())
        .optional()
        .describe('environment variables of the instance'),
      start: z.boolean().default(true).describe('start it after creating it (default true)'),
    })
    .strict(),
  async run(args, session: Session, ctx) {
    const started = Date.now();
    const t = await session.create(
      {
        alias: args.name,
        backend: args.backend,
        template: args.template,
        image: args.image,
        cpus: args.cpus,
        memoryMiB: args.memoryMiB,
        env: args.env,
        start: args.start,
      },
      ctx.signal,
      ctx.progress,
    );
    const ms = Date.now() - started;
    return {
      summary: `created ${t.alias} (${t.instance.id}), ${t.instance.state.name}, in ${ms} ms${t.lease ? ' from the warm pool' : ''}`,
      data: { instance: describeTracked(t), durationMs: ms },
    };
  },
});

const byName = z.object({ instance: instanceArg }).strict();

export const startInstance = defineTool({
  name: 'start_instance',
  title: 'Start an instance',
  description: 'Starts a stopped instance of this session and waits until it is ready.',
  input: byName,
  annotations: { idempotentHint: true },
  async run(args, session: Session, ctx) {
    const t = session.get(args.instance);
    await withProgress(t.instance, ctx.progress, () =>
      t.instance.start({ signal: session.signalFor(t, ctx.signal) }),
    );
    return {
      summary: `${t.alias} is ${t.instance.state.name}`,
      data: { instance: describeTracked(t) },
    };
  },
});

export const stopInstance = defineTool({
  name: 'stop_instance',
  title: 'Stop an instance',
  description:
    'Stops an instance of this session: gracefully, then forced after graceSeconds (or at once with force).',
  input: z
    .object({
      instance: instanceArg,
      force: z.boolean().default(false).describe('skip the graceful shutdown'),
      graceSeconds: z
        .number()
        .int()
        .min(0)
        .max(300)
        .default(10)
        .describe('how long a graceful shutdown may take'),
    })
    .strict(),
  annotations: { idempotentHint: true },
  async run(args, session: Session, ctx) {
    const t = session.get(args.instance);
    const r = await t.instance.stop({
      signal: session.signalFor(t, ctx.signal),
      force: args.force,
      graceMs: args.graceSeconds * 1000,
    });
    return {
      summary: `${t.alias} is stopped (${r.how})`,
      data: {
        instance: describeTracked(t),
        how: r.how,
        ...(r.guestExit ? { guestExit: r.guestExit } : {}),
      },
    };
  },
});

export const deleteInstance = defineTool({
  name: 'delete_instance',
  title: 'Delete an instance',
  description:
    'Deletes an instance of this session, whatever its state; commands running in it end.',
  input: byName,
  annotations: { destructiveHint: true, idempotentHint: false },
  async run(args, session: Session) {
    const t = session.get(args.instance);
    await session.delete(args.instance);
    return {
      summary: `deleted ${t.alias} (${t.instance.id})`,
      data: { deleted: t.alias, id: t.instance.id },
    };
  },
});
