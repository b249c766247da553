/** qemu-img: overlays over a base image, blank disks, resize, info, offline snapshots. */
import { type OpContext, type ProcessRunner, ProtocolError } from '@vms/core';

export interface ImageInfo {
  format: string;
  virtualSize: number;
  backingFilename?: string;
}

type Ctx = Pick<OpContext, 'signal' | 'deadline'>;

export async function imageInfo(
  runner: ProcessRunner,
  bin: string,
  path: string,
  ctx: Ctx,
): Promise<ImageInfo> {
  const r = await runner.run([bin, 'info', '-U', '--output=json', path], {
    signal: ctx.signal,
    deadline: ctx.deadline,
  });
  try {
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    return {
      format: String(j.format),
      virtualSize: Number(j['virtual-size']),
      ...(typeof j['backing-filename'] === 'string'
        ? { backingFilename: j['backing-filename'] }
        : {}),
    };
  } catch (error) {
    throw new ProtocolError(`qemu-img info ${path} did not print JSON`, { cause: error });
  }
}

/** Creates `overlay` (qcow2) backed by `base`; the base is only ever read. */
export async function createOverlay(
  runner: ProcessRunner,
  bin: string,
  base: string,
  baseFormat: string,
  overlay: string,
  ctx: Ctx,
): Promise<void> {
  await runner.run([bin, 'create', '-q', '-f', 'qcow2', '-b', base, '-F', baseFormat, overlay], {
    signal: ctx.signal,
    deadline: ctx.deadline,
  });
}

export async function createBlank(
  runner: ProcessRunner,
  bin: string,
  path: string,
  bytes: number,
  ctx: Ctx,
) {
  await runner.run([bin, 'create', '-q', '-f', 'qcow2', path, String(bytes)], {
    signal: ctx.signal,
    deadline: ctx.deadline,
  });
}

export async function resize(
  runner: ProcessRunner,
  bin: string,
  path: string,
  bytes: number,
  ctx: Ctx,
) {
  await runner.run([bin, 'resize', '-q', '-f', 'qcow2', path, String(bytes)], {
    signal: ctx.signal,
    deadline: ctx.deadline,
  });
}

/** `qemu-img snapshot -l|-c|-a|-d` on a stopped instance's disk. */
export async function offlineSnapshot(
  runner: ProcessRunner,
  bin: string,
  path: string,
  flag: '-l' | '-c' | '-a' | '-d',
  tag: string | undefined,
  ctx: Ctx,
): Promise<string> {
  const r = await runner.run([bin, 'snapshot', flag, ...(tag === undefined ? [] : [tag]), path], {
    signal: ctx.signal,
    deadline: ctx.deadline,
  });
  return r.stdout;
}
