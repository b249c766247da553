/** The per-instance NoCloud seed: `meta-data` + `user-data` on an ISO labelled `cidata`. */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ProcessRunner, ToolNotFoundError } from '@vms/core';
import { findTool } from './tools.js';

export interface SeedContent {
  instanceId: string;
  hostname: string;
  sshAuthorizedKeys: string[];
  /** Extra cloud-config YAML appended to user-data. */
  cloudConfig?: string;
}

export function metaData(seed: SeedContent): string {
  return `instance-id: ${JSON.stringify(seed.instanceId)}\nlocal-hostname: ${JSON.stringify(seed.hostname)}\n`;
}

export function userData(seed: SeedContent): string {
  const lines = ['#cloud-config', `hostname: ${JSON.stringify(seed.hostname)}`];
  if (seed.sshAuthorizedKeys.length > 0) {
    lines.push(
      'ssh_authorized_keys:',
      ...seed.sshAuthorizedKeys.map((k) => `  - ${JSON.stringify(k.trim())}`),
    );
  }
  const extra = seed.cloudConfig?.replace(/^#cloud-config[^\n]*\n?/, '').trim();
  if (extra) lines.push(extra);
  return `${lines.join('\n')}\n`;
}

const ISO_TOOLS = ['genisoimage', 'xorriso', 'mkisofs'] as const;

/** Writes the seed ISO at `isoPath` (its files are staged next to it, then removed). */
export async function writeSeedIso(
  runner: ProcessRunner,
  isoPath: string,
  seed: SeedContent,
  ctx: { signal: AbortSignal; deadline: number },
): Promise<void> {
  const tool = ISO_TOOLS.map((t) => ({ t, path: findTool(t) })).find((x) => x.path);
  if (!tool?.path) {
    throw new ToolNotFoundError('genisoimage', {
      hint: 'apt-get install genisoimage (or xorriso)',
    });
  }
  const stage = `${isoPath}.d`;
  await rm(stage, { recursive: true, force: true });
  await mkdir(stage, { recursive: true, mode: 0o700 });
  try {
    await writeFile(join(stage, 'meta-data'), metaData(seed), { mode: 0o600 });
    await writeFile(join(stage, 'user-data'), userData(seed), { mode: 0o600 });
    const flags = ['-quiet', '-output', isoPath, '-volid', 'cidata', '-joliet', '-rock'];
    const argv =
      tool.t === 'xorriso' ? [tool.path, '-as', 'mkisofs', ...flags] : [tool.path, ...flags];
    await runner.run([...argv, join(stage, 'user-data'), join(stage, 'meta-data')], {
      signal: ctx.signal,
      deadline: ctx.deadline,
    });
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}
