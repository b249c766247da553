/** exec (exit code passed through, stdin forwarded when not a terminal) and shell (interactive). */
import { lazySchema } from '@vms/core';
import * as z from '@vms/core/zod';
import { expectPositionals } from './args.js';
import type { CliContext, CommandModule } from './context.js';
import { durationFlag, validateFlags } from './flags.js';
import { attachInstance, notFoundIfAbsent, resolveRef } from './instances.js';
import { UsageError } from './usage-error.js';

const execFlags = lazySchema(() =>
  z.object({
    env: z
      .array(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*=/, 'expected K=V with a valid variable name'),
      )
      .optional(),
    workdir: z.string().min(1).optional(),
    user: z.string().min(1).optional(),
    tty: z.boolean().optional(),
    'no-stdin': z.boolean().optional(),
    shell: z.string().min(1).optional(),
    timeout: durationFlag().optional(),
  }),
);

async function execute(
  ctx: CliContext,
  ref: string,
  argv: string[],
  flags: z.output<ReturnType<typeof execFlags>>,
  interactive: boolean,
): Promise<number> {
  const { backend, name } = await resolveRef(ctx, ref);
  const instance = await attachInstance(ctx, backend, name);
  const stdin = ctx.stdin;
  const forwardStdin = interactive || (!stdin.isTTY && !flags['no-stdin']);
  const tty = interactive || flags.tty === true;
  const rawMode = interactive && stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  if (rawMode) stdin.setRawMode?.(true);
  try {
    const result = await instance.exec(argv, {
      signal: ctx.signal,
      ...(flags.timeout ? { timeoutMs: flags.timeout } : {}),
      ...(forwardStdin ? { stdin } : {}),
      ...(tty ? { tty: true } : {}),
      ...(flags.env?.length
        ? {
            env: Object.fromEntries(
              flags.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
            ),
          }
        : {}),
      ...(flags.workdir ? { cwd: flags.workdir } : {}),
      ...(flags.user ? { user: flags.user } : {}),
      // With --json the output is collected into the result instead of streamed.
      ...(ctx.json
        ? { onStdout: () => {}, onStderr: () => {} }
        : {
            onStdout: (c: Buffer) => ctx.out.stdout.write(c),
            onStderr: (c: Buffer) => ctx.out.stderr.write(c),
          }),
    });
    if (ctx.json) {
      ctx.out.result(ctx.command, {
        ok: true,
        instance: instance.id,
        argv,
        exitCode: result.exitCode,
        stdout: result.stdout,
        stderr: result.stderr,
        truncated: result.truncated,
        durationMs: result.durationMs,
      });
    }
    return result.exitCode;
  } catch (error) {
    throw notFoundIfAbsent(error, instance);
  } finally {
    if (rawMode) stdin.setRawMode?.(false);
  }
}

export const run: CommandModule['run'] = async (ctx, args) => {
  const flags = validateFlags(ctx.command, execFlags, args.values);
  if (ctx.command === 'shell') {
    expectPositionals('shell', args.positionals, 1, 1, 'instance name');
    if (!ctx.stdin.isTTY) {
      throw new UsageError(
        'vms shell needs a terminal on stdin',
        `run a command instead: vms exec ${args.positionals[0]} -- CMD`,
      );
    }
    return execute(ctx, args.positionals[0] as string, [flags.shell ?? '/bin/sh'], flags, true);
  }
  expectPositionals('exec', args.positionals, 1, 1, 'instance name');
  if (args.rest.length === 0) {
    throw new UsageError(
      'missing the command to run',
      `e.g. vms exec ${args.positionals[0]} -- uname -a`,
    );
  }
  return execute(ctx, args.positionals[0] as string, args.rest, flags, false);
};
