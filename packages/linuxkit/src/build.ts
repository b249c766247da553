/**
 * `linuxkit build` (current, two-dash pflag syntax): turns a LinuxKit YAML into an image on disk
 * and says where it is. The image belongs to whoever owns `dir`: nothing here deletes it.
 */
import { access, mkdir, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import {
  createRunner,
  type ProcessRunner,
  type ProgressReporter,
  ProtocolError,
  parseOptions,
  ToolNotFoundError,
  VmsError,
} from '@vms/core';
import * as z from '@vms/core/zod';
import type { ImageFormat } from './image.js';
import { templateNameSchema } from './templates.js';

/** Formats this backend can build and then boot. */
export const BUILD_FORMATS = [
  'kernel+initrd',
  'iso-bios',
  'iso-efi',
  'raw-bios',
  'raw-efi',
  'qcow2-bios',
  'qcow2-efi',
  'vmdk',
  'vhd',
] as const satisfies readonly ImageFormat[];
export type BuildFormat = (typeof BUILD_FORMATS)[number];

/**
 * Where `linuxkit build --format F --dir DIR --name NAME` writes its output (`B` = `DIR/NAME`),
 * and the path to hand to `resolveImage` (the prefix for kernel+initrd).
 */
export function buildOutputs(format: BuildFormat, dir: string, name: string) {
  const b = join(dir, name);
  switch (format) {
    case 'kernel+initrd':
      return { image: b, files: [`${b}-kernel`, `${b}-initrd.img`, `${b}-cmdline`] };
    case 'iso-bios':
      return { image: `${b}.iso`, files: [`${b}.iso`] };
    case 'iso-efi':
      return { image: `${b}-efi.iso`, files: [`${b}-efi.iso`] };
    case 'raw-bios':
      return { image: `${b}-bios.img`, files: [`${b}-bios.img`] };
    case 'raw-efi':
      return { image: `${b}-efi.img`, files: [`${b}-efi.img`] };
    case 'qcow2-bios':
      return { image: `${b}.qcow2`, files: [`${b}.qcow2`] };
    case 'qcow2-efi':
      return { image: `${b}-efi.qcow2`, files: [`${b}-efi.qcow2`] };
    case 'vmdk':
      return { image: `${b}.vmdk`, files: [`${b}.vmdk`] };
    case 'vhd':
      return { image: `${b}.vhd`, files: [`${b}.vhd`] };
  }
}

export function linuxkitBuildArgv(p: {
  binary: string;
  format: BuildFormat;
  dir: string;
  name: string;
  file: string;
}): string[] {
  return [p.binary, 'build', '--format', p.format, '--dir', p.dir, '--name', p.name, p.file];
}

export const buildRequestSchema = z
  .object({
    /** The LinuxKit YAML text (already rendered). */
    yaml: z.string().min(1),
    format: z.enum(BUILD_FORMATS).default('kernel+initrd'),
    /** Output directory (created when missing); the YAML is written there as NAME.yml. */
    dir: z.string().refine(isAbsolute, 'must be an absolute path'),
    /** Output base name. */
    name: templateNameSchema,
    /** The linuxkit executable (default `linuxkit` on PATH). */
    binary: z.string().min(1).default('linuxkit'),
    signal: z.instanceof(AbortSignal).optional(),
    deadline: z.number().optional(),
    /** Bound of the build when no deadline is given (default 30 min: builds pull images). */
    timeoutMs: z
      .number()
      .int()
      .positive()
      .default(30 * 60_000),
    runner: z
      .custom<ProcessRunner>((v) => typeof v === 'object' && v !== null && 'run' in v)
      .optional(),
    progress: z.custom<ProgressReporter>((v) => typeof v === 'function').optional(),
  })
  .strict();
export type BuildRequest = z.input<typeof buildRequestSchema>;

export interface BuildResult {
  /** Path to run (`createInstance(linuxkit, name, { image })`). */
  image: string;
  /** Every file the build wrote that the image is made of. */
  files: string[];
  /** The YAML file that was built. */
  yamlFile: string;
}

/** Runs `linuxkit build` and checks that it wrote what the format promises. */
export async function buildImage(request: BuildRequest): Promise<BuildResult> {
  const r = parseOptions(buildRequestSchema, request, 'build');
  const runner = r.runner ?? createRunner();
  await mkdir(r.dir, { recursive: true, mode: 0o700 });
  const yamlFile = join(r.dir, `${r.name}.yml`);
  await writeFile(yamlFile, r.yaml, { mode: 0o600 });
  const argv = linuxkitBuildArgv({
    binary: r.binary,
    format: r.format,
    dir: r.dir,
    name: r.name,
    file: yamlFile,
  });
  r.progress?.(`linuxkit build --format ${r.format}`);
  const result = await runner
    .run(argv, {
      ...(r.signal ? { signal: r.signal } : {}),
      ...(r.deadline ? { deadline: r.deadline } : { timeoutMs: r.timeoutMs }),
    })
    .catch((error: unknown) => {
      if (VmsError.hasCode(error, 'BACKEND_UNAVAILABLE')) {
        throw new ToolNotFoundError(r.binary, {
          cause: error,
          hint: 'building a template needs linuxkit: install it from https://github.com/linuxkit/linuxkit/releases, or set the backend setting `linuxkit` to its path',
        });
      }
      throw error;
    });
  const out = buildOutputs(r.format, r.dir, r.name);
  const missing: string[] = [];
  for (const file of out.files) {
    await access(file).catch(() => missing.push(file));
  }
  if (missing.length > 0) {
    throw new ProtocolError(
      `linuxkit build succeeded but did not write ${missing.join(', ')}; it printed: ${(result.stderr || result.stdout).trim().slice(-2000)}`,
      { hint: 'check the linuxkit version (`linuxkit version`) and its --format support' },
    );
  }
  return { image: out.image, files: out.files, yamlFile };
}
