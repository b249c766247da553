/** snapshot_create / snapshot_restore / snapshot_list, where the backend has snapshots. */
import { CapabilityUnsupportedError } from '@vms/core';
import { z } from 'zod';
import type { Session, Tracked } from '../session.js';
import { defineTool, withProgress } from '../tool.js';
import { instanceArg } from './instances.js';

const snapshotName = z
  .string()
  .regex(
    /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/,
    'letters, digits, "_", "." and "-", starting with a letter or digit',
  )
  .describe('name of the snapshot');

function requireSnapshots(t: Tracked): void {
  if (!t.backend.capabilities.snapshot) {
    throw new CapabilityUnsupportedError('snapshot', t.backend.name, {
      instance: t.instance.id,
      hint: 'list_backends shows which backends have snapshots',
    });
  }
}

export const snapshotCreate = defineTool({
  name: 'snapshot_create',
  title: 'Snapshot an instance',
  description:
    'Saves the state of an instance under a name, to restore later (backends with the snapshot capability).',
  input: z.object({ instance: instanceArg, snapshot: snapshotName }).strict(),
  async run(args, session: Session, ctx) {
    const t = session.get(args.instance);
    requireSnapshots(t);
    await withProgress(t.instance, ctx.progress, () =>
      t.instance.snapshots.create(args.snapshot, {
        signal: session.signalFor(t, ctx.signal),
      }),
    );
    t.snapshots.add(args.snapshot);
    return {
      summary: `snapshot ${args.snapshot} of ${t.alias} taken`,
      data: { instance: t.alias, snapshot: args.snapshot },
    };
  },
});

export const snapshotRestore = defineTool({
  name: 'snapshot_restore',
  title: 'Restore a snapshot',
  description: 'Brings an instance back to a snapshot taken earlier (what happened since is lost).',
  input: z.object({ instance: instanceArg, snapshot: snapshotName }).strict(),
  annotations: { destructiveHint: true },
  async run(args, session: Session, ctx) {
    const t = session.get(args.instance);
    requireSnapshots(t);
    await withProgress(t.instance, ctx.progress, () =>
      t.instance.snapshots.restore(args.snapshot, {
        signal: session.signalFor(t, ctx.signal),
      }),
    );
    return {
      summary: `${t.alias} restored to snapshot ${args.snapshot} (${t.instance.state.name})`,
      data: { instance: t.alias, snapshot: args.snapshot, state: t.instance.state.name },
    };
  },
});

export const snapshotList = defineTool({
  name: 'snapshot_list',
  title: 'List snapshots',
  description: 'Lists the snapshots of an instance.',
  input: z.object({ instance: instanceArg }).strict(),
  annotations: { readOnlyHint: true },
  async run(args, session: Session, ctx) {
    const t = session.get(args.instance);
    requireSnapshots(t);
    const snapshots = await t.instance.snapshots.list({ signal: session.signalFor(t, ctx.signal) });
    return {
      summary: snapshots.length
        ? `snapshots of ${t.alias}: ${snapshots.map((s) => s.name).join(', ')}`
        : `${t.alias} has no snapshots`,
      data: { instance: t.alias, snapshots: snapshots.map((s) => ({ ...s })) },
    };
  },
});
