/** inspect: the real state and properties of one instance. */
import { lazySchema } from '@vms/core';
import * as z from '@vms/core/zod';
import { expectPositionals } from './args.js';
import type { CommandModule } from './context.js';
import { EXIT } from './exit-codes.js';
import { durationFlag, validateFlags } from './flags.js';
import { attachInstance, resolveRef, withProgress } from './instances.js';
import { stateStyle } from './output.js';

const flagsSchema = lazySchema(() => z.object({ timeout: durationFlag().optional() }));

export const run: CommandModule['run'] = async (ctx, args) => {
  expectPositionals('inspect', args.positionals, 1, 1, 'instance name');
  const flags = validateFlags('inspect', flagsSchema, args.values);
  const { backend, name } = await resolveRef(ctx, args.positionals[0] as string);
  const instance = await attachInstance(ctx, backend, name);
  const { state, properties } = await withProgress(ctx, instance, 'inspecting', () =>
    instance.inspect({
      signal: ctx.signal,
      ...(flags.timeout ? { timeoutMs: flags.timeout } : {}),
    }),
  );
  const exists = state.name !== 'initial' && state.name !== 'deleted';
  if (!exists) {
    const { NotFoundError } = await import('@vms/core');
    throw new NotFoundError(`${instance.id} does not exist`, {
      instance: instance.id,
      hint: `create it: vms create ${instance.id}`,
    });
  }
  if (ctx.json) {
    ctx.out.result('inspect', {
      ok: true,
      instance: instance.id,
      backend: backend.name,
      name,
      state: state.name,
      ...(state.reason ? { reason: state.reason } : {}),
      capabilities: instance.capabilities,
      properties,
    });
    return EXIT.ok;
  }
  const rows: Array<[string, string]> = [
    ['instance', instance.id],
    [
      'state',
      ctx.out.style(state.name, stateStyle(state.name) ?? 'bold') +
        (state.reason ? ` (${state.reason})` : ''),
    ],
  ];
  const p = properties;
  if (p.image) rows.push(['image', p.image]);
  if (p.os) rows.push(['os', p.os]);
  if (p.ip || p.ips?.length)
    rows.push([
      'ip',
      [p.ip, ...(p.ips ?? []).filter((i) => i !== p.ip)].filter(Boolean).join(', '),
    ]);
  if (p.cpus !== undefined) rows.push(['cpus', String(p.cpus)]);
  if (p.memoryMiB !== undefined) rows.push(['memory', `${p.memoryMiB} MiB`]);
  if (p.diskGiB !== undefined) rows.push(['disk', `${p.diskGiB} GiB`]);
  if (p.ports?.length) {
    rows.push([
      'ports',
      p.ports.map((m) => `${m.hostIp}:${m.hostPort}->${m.guestPort}/${m.protocol}`).join(', '),
    ]);
  }
  if (p.ssh) rows.push(['ssh', `${p.ssh.user}@${p.ssh.host}:${p.ssh.port}`]);
  if (p.createdAt) rows.push(['created', p.createdAt]);
  const labels = Object.entries(p.labels ?? {});
  if (labels.length) rows.push(['labels', labels.map(([k, v]) => `${k}=${v}`).join(', ')]);
  const caps = Object.entries(instance.capabilities)
    .filter(([, on]) => on)
    .map(([c]) => c);
  rows.push(['capabilities', caps.join(', ')]);
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) ctx.out.line(`${ctx.out.style(k.padEnd(width), 'dim')}  ${v}`);
  return EXIT.ok;
};
