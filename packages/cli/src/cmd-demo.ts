/**
 * demo: the README's main job on the best available backend — create → start → exec → suspend →
 * resume → stop → delete — printing each transition and its time. The instance is deleted even
 * when a step fails or the run is interrupted.
 */
import { type BackendV1, type Instance, lazySchema, toVmsError } from '@vms/core';
import * as z from '@vms/core/zod';
import { expectPositionals } from './args.js';
import { backendSelection, selectBackends } from './backend-flags.js';
import type { CliContext, CommandModule } from './context.js';
import { buildCreateOptions, explainOptionsError } from './create-options.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { durationFlag, validateFlags } from './flags.js';
import { makeInstance, took, withProgress } from './instances.js';
import { UsageError } from './usage-error.js';

const flagsSchema = lazySchema(() =>
  backendSelection().extend({
    backend: z.string().min(1).optional(),
    image: z.string().min(1).optional(),
    opt: z.array(z.string()).optional(),
    'options-json': z.string().optional(),
    timeout: durationFlag().optional(),
  }),
);

/** Preference order when no --backend is given. */
export const DEMO_PREFERENCE = ['docker', 'podman', 'qemu'];

/**
 * The image the demo uses per backend unless --image says otherwise: a small real image that
 * pulls (podman needs the registry named: Debian's podman resolves no short names). The
 * project's own quickstart passes its local test image instead (no public registry in CI).
 */
export const DEMO_IMAGES: Readonly<Record<string, string>> = {
  docker: 'alpine',
  podman: 'docker.io/library/alpine',
};

interface StepRecord {
  step: string;
  ok: boolean;
  skipped?: string;
  durationMs: number;
  state: string;
  output?: string;
  error?: { code: string; message: string };
}

async function pickBackend(
  ctx: CliContext,
  flags: z.output<ReturnType<typeof flagsSchema>>,
): Promise<BackendV1> {
  const { backends } = await selectBackends(ctx, flags);
  if (flags.backend) return backends[0] as BackendV1;
  for (const name of DEMO_PREFERENCE) {
    const found = backends.find((b) => b.name === name);
    if (found) return found;
  }
  return backends[0] as BackendV1;
}

export const run: CommandModule['run'] = async (ctx, args) => {
  expectPositionals('demo', args.positionals, 0, 0, '');
  const flags = validateFlags('demo', flagsSchema, args.values);
  const backend = await pickBackend(ctx, flags);
  const name = `vms-demo-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  let instance: Instance;
  let image: string | undefined;
  try {
    image = flags.image ?? DEMO_IMAGES[backend.name];
    instance = makeInstance(
      ctx,
      backend,
      name,
      buildCreateOptions(
        backend,
        {
          image,
          opt: flags.opt,
          'options-json': flags['options-json'],
        },
        ctx.cwd,
      ),
    );
  } catch (error) {
    throw explainOptionsError(error, backend);
  }
  const op = { signal: ctx.signal, ...(flags.timeout ? { timeoutMs: flags.timeout } : {}) };
  const steps: StepRecord[] = [];
  if (!ctx.json)
    ctx.out.line(
      `demo on ${ctx.out.style(backend.name, 'bold')}: ${instance.id}${image ? ` (image ${image})` : ''}`,
    );
  const print = (r: StepRecord) => {
    if (ctx.json) return;
    const mark = r.skipped
      ? ctx.out.style('-', 'dim')
      : r.ok
        ? ctx.out.style('✓', 'green')
        : ctx.out.style('✗', 'red');
    const detail = r.skipped
      ? ` (skipped: ${r.skipped})`
      : r.error
        ? ` — ${r.error.message}`
        : r.output
          ? ` — ${r.output}`
          : '';
    ctx.out.line(
      `${mark} ${r.step.padEnd(8)} → ${r.state.padEnd(9)} ${took(r.durationMs).padStart(8)}${detail}`,
    );
  };
  const step = async (
    label: string,
    work: () => Promise<string | undefined>,
    skipped?: string,
  ): Promise<void> => {
    if (skipped) {
      const r = { step: label, ok: true, skipped, durationMs: 0, state: instance.state.name };
      steps.push(r);
      print(r);
      return;
    }
    const started = Date.now();
    try {
      const output = await withProgress(ctx, instance, label, work);
      const r = {
        step: label,
        ok: true,
        durationMs: Date.now() - started,
        state: instance.state.name,
        ...(output ? { output } : {}),
      };
      steps.push(r);
      print(r);
    } catch (error) {
      const e = toVmsError(error);
      const r = {
        step: label,
        ok: false,
        durationMs: Date.now() - started,
        state: instance.state.name,
        error: { code: e.code, message: e.message },
      };
      steps.push(r);
      print(r);
      throw e;
    }
  };
  const total = Date.now();
  let failure: unknown;
  try {
    await step('create', async () => void (await instance.create(op)));
    await step('start', async () => void (await instance.start(op)));
    await step(
      'exec',
      async () => {
        const r = await instance.exec(['echo', 'hello from vms'], op);
        if (r.exitCode !== 0) throw new Error(`echo exited with ${r.exitCode}: ${r.stderr.trim()}`);
        return r.stdout.trim();
      },
      backend.capabilities.exec ? undefined : 'no exec capability',
    );
    const noSuspend = backend.capabilities.suspend ? undefined : 'no suspend capability';
    await step('suspend', async () => void (await instance.suspend(op)), noSuspend);
    await step('resume', async () => void (await instance.resume(op)), noSuspend);
    await step('stop', async () => (await instance.stop(op)).how);
  } catch (error) {
    failure = error;
  }
  // Always clean up, with a fresh deadline: the run's own signal may be the reason we are here.
  try {
    await step('delete', async () => {
      const r = await instance.delete({ timeoutMs: flags.timeout ?? 120_000 });
      return r.existed ? undefined : 'nothing to delete';
    });
  } catch (error) {
    failure ??= error;
  }
  const durationMs = Date.now() - total;
  if (ctx.json) {
    const e = failure ? toVmsError(failure) : undefined;
    ctx.out.result('demo', {
      ok: !failure,
      backend: backend.name,
      instance: instance.id,
      ...(image ? { image } : {}),
      steps,
      durationMs,
      ...(e
        ? { error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } }
        : {}),
    });
  } else if (!failure) {
    ctx.out.line(`done in ${took(durationMs)}`);
  }
  if (!failure) return EXIT.ok;
  if (ctx.json) return exitCodeFor(toVmsError(failure).code);
  if (failure instanceof UsageError) throw failure;
  throw toVmsError(failure);
};
