/**
 * What the linuxkit backend keeps per instance, in core's StateStore (backend `linuxkit`):
 * `<vmsHome>/state/linuxkit/<name>/state.json`, with the QEMU instance it runs on nested in
 * `<name>/qemu/` and a template's build output in `<name>/image/`. The user's image is only
 * referenced (by path, with the identity it had at create), never copied, written or deleted.
 */
import { stat } from 'node:fs/promises';
import { StateStore } from '@vms/core';
import * as z from '@vms/core/zod';
import { BUILD_FORMATS } from './build.js';
import type { ResolvedImage } from './image.js';

const base = {
  format: z.enum([
    'kernel+initrd',
    'iso-bios',
    'iso-efi',
    'raw-bios',
    'raw-efi',
    'qcow2-bios',
    'qcow2-efi',
    'vmdk',
    'vhd',
  ]),
  firmware: z.enum(['bios', 'efi']),
  detected: z.string(),
};
export const resolvedImageSchema: z.ZodType<ResolvedImage> = z.discriminatedUnion('boot', [
  z.object({
    ...base,
    boot: z.literal('kernel'),
    kernel: z.string(),
    initrd: z.string(),
    cmdlineFile: z.string().optional(),
    cmdline: z.string().optional(),
  }),
  z.object({ ...base, boot: z.literal('iso'), iso: z.string() }),
  z.object({ ...base, boot: z.literal('disk'), disk: z.string() }),
]);

export const fileIdentitySchema = z.object({
  role: z.string(),
  path: z.string(),
  size: z.number(),
  mtimeMs: z.number(),
  ino: z.number(),
  dev: z.number(),
});
export type FileIdentity = z.infer<typeof fileIdentitySchema>;

export const linuxkitStateSchema = z.object({
  createdAt: z.string(),
  /** What the user asked to run: the image path, or `template:<name>`. */
  source: z.string(),
  image: resolvedImageSchema,
  /** The image's files as they were at create (to tell a deleted/replaced image). */
  files: z.array(fileIdentitySchema),
  /** OVMF used for an EFI image. */
  uefiFirmware: z.string().optional(),
  /** The saved state it was started from (`from: { savedState }`). */
  savedState: z.string().optional(),
  template: z
    .object({
      name: z.string(),
      format: z.enum(BUILD_FORMATS),
      dir: z.string(),
      yamlFile: z.string(),
    })
    .optional(),
});
export type LinuxkitState = z.infer<typeof linuxkitStateSchema>;

export function createStore(root?: string): StateStore<LinuxkitState> {
  return new StateStore<LinuxkitState>({
    backend: 'linuxkit',
    schemaVersion: 1,
    schema: linuxkitStateSchema,
    ...(root ? { root } : {}),
  });
}

export async function identify(files: { role: string; path: string }[]): Promise<FileIdentity[]> {
  return Promise.all(
    files.map(async (f) => {
      const s = await stat(f.path);
      return { ...f, size: s.size, mtimeMs: s.mtimeMs, ino: s.ino, dev: s.dev };
    }),
  );
}

export interface ImageProblem {
  role: string;
  path: string;
  problem: 'deleted' | 'replaced';
}

/** Which of the image's files are gone or are no longer the file seen at create. */
export async function imageProblems(files: FileIdentity[]): Promise<ImageProblem[]> {
  const problems: ImageProblem[] = [];
  for (const f of files) {
    const s = await stat(f.path).catch(() => undefined);
    if (!s) problems.push({ role: f.role, path: f.path, problem: 'deleted' });
    else if (s.ino !== f.ino || s.dev !== f.dev || s.size !== f.size || s.mtimeMs !== f.mtimeMs)
      problems.push({ role: f.role, path: f.path, problem: 'replaced' });
  }
  return problems;
}

export function describeProblems(problems: ImageProblem[]): string {
  return problems.map((p) => `${p.role} ${p.path} was ${p.problem}`).join('; ');
}
