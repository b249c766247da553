/**
 * The policy of an MCP server: what an agent may create and touch, and how much. Validated with
 * zod (strict: a misspelt key is an error naming it); every field has a safe default, explained in
 * the README. Refusals are `PolicyRefusedError`s naming the rule that refused.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { InvalidOptionsError, zodIssues } from '@vms/core';
import { z } from 'zod';

/** What an agent calls an instance: short, so `mcp-<session>-<name>` stays a valid instance name. */
export const ALIAS_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,39}$/;
const TEMPLATE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

const positiveInt = z.number().int().positive();

export const templateSchema = z
  .object({
    /** Backend the template creates on, e.g. `qemu`. */
    backend: z.string().min(1),
    /** Shown to the agent by the `backends` tool. */
    description: z.string().optional(),
    /** Instance options for the backend (validated by its schema when the server starts). */
    options: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export type Template = z.output<typeof templateSchema>;

export const warmPoolSchema = z
  .object({
    /** The template whose creates the pool serves. */
    template: z.string().regex(TEMPLATE_NAME, 'must be a template name'),
    /** Instances kept created, started and ready. */
    min: z.number().int().min(0).max(64).default(1),
    /** Most live instances of the pool (default max(min, 1)); they count towards maxInstances. */
    max: z.number().int().min(1).max(64).optional(),
  })
  .strict();
export type WarmPoolPolicy = z.output<typeof warmPoolSchema>;

export const policySchema = z
  .object({
    /** Backends an agent may use (default: every backend the server was given). */
    backends: z.array(z.string().min(1)).optional(),
    /**
     * Images an agent may name in `create`, as patterns (`*` any run of characters, `?` one):
     * `vms-test/*`, `alpine:3.*`. Default none: only templates. A tagless image means `:latest`.
     */
    images: z.array(z.string().min(1)).default([]),
    /** Named instance configurations an agent may create from (the only way to a qemu VM). */
    templates: z
      .record(z.string().regex(TEMPLATE_NAME, 'invalid template name'), templateSchema)
      .default({}),
    /** Host directories the host side of a file copy may be under. Default none. */
    hostPaths: z
      .array(z.string().refine((p) => isAbsolute(p), 'must be an absolute path'))
      .default([]),
    /** Most instances alive at once, across every client of the server (warm ones included). */
    maxInstances: z.number().int().min(1).max(1000).default(4),
    /** Most virtual CPUs of one instance. */
    maxCpus: z.number().positive().max(1024).default(2),
    /** Most memory of one instance, MiB. */
    maxMemoryMiB: positiveInt.default(2048),
    /** CPUs of an instance whose create names none (so no instance is unlimited). */
    defaultCpus: z.number().positive().max(1024).default(1),
    /** Memory of an instance whose create names none, MiB. */
    defaultMemoryMiB: positiveInt.default(512),
    /** Deadline of an exec that names none, ms. */
    defaultExecTimeoutMs: positiveInt.default(60_000),
    /** Longest deadline an exec may ask for, ms. */
    maxExecTimeoutMs: positiveInt.default(600_000),
    /** Bytes of each output stream (exec stdout/stderr, logs) returned; the rest is dropped and said so. */
    maxOutputBytes: positiveInt.max(64 * 1024 * 1024).default(1024 * 1024),
    /** Largest file read or written through the file tools, and largest exec stdin, bytes. */
    maxFileBytes: positiveInt.max(1024 * 1024 * 1024).default(8 * 1024 * 1024),
    /** An instance is deleted this long after its create, ms. */
    instanceLifetimeMs: positiveInt.default(3_600_000),
    /**
     * `none`: instances get no network (containers `network: none`, qemu `restrictNetwork`);
     * backends that cannot do without are refused. `allow`: the backend's default network.
     */
    network: z.enum(['none', 'allow']).default('none'),
    /** Labels added to every instance the server creates (its session label is always added). */
    labels: z
      .record(
        z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_./-]{0,127}$/, 'invalid label key'),
        z.string(),
      )
      .default({}),
    /** Warm pools: creates from these templates are served from ready instances. */
    warm: z.array(warmPoolSchema).default([]),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.defaultCpus > p.maxCpus)
      ctx.addIssue({
        code: 'custom',
        path: ['defaultCpus'],
        message: `must be at most maxCpus (${p.maxCpus})`,
      });
    if (p.defaultMemoryMiB > p.maxMemoryMiB)
      ctx.addIssue({
        code: 'custom',
        path: ['defaultMemoryMiB'],
        message: `must be at most maxMemoryMiB (${p.maxMemoryMiB})`,
      });
    if (p.defaultExecTimeoutMs > p.maxExecTimeoutMs)
      ctx.addIssue({
        code: 'custom',
        path: ['defaultExecTimeoutMs'],
        message: `must be at most maxExecTimeoutMs (${p.maxExecTimeoutMs})`,
      });
    p.warm.forEach((w, i) => {
      if (!Object.hasOwn(p.templates, w.template))
        ctx.addIssue({
          code: 'custom',
          path: ['warm', i, 'template'],
          message: `no template named ${JSON.stringify(w.template)}`,
        });
      if (w.max !== undefined && w.max < w.min)
        ctx.addIssue({
          code: 'custom',
          path: ['warm', i, 'max'],
          message: `must be at least min (${w.min})`,
        });
    });
    for (const [name, t] of Object.entries(p.templates)) {
      const cpus = t.options.cpus;
      if (typeof cpus === 'number' && cpus > p.maxCpus)
        ctx.addIssue({
          code: 'custom',
          path: ['templates', name, 'options', 'cpus'],
          message: `exceeds maxCpus (${p.maxCpus})`,
        });
      const memory = t.options.memoryMiB;
      if (typeof memory === 'number' && memory > p.maxMemoryMiB)
        ctx.addIssue({
          code: 'custom',
          path: ['templates', name, 'options', 'memoryMiB'],
          message: `exceeds maxMemoryMiB (${p.maxMemoryMiB})`,
        });
    }
  });

/** A policy as written (every field optional). */
export type PolicyInput = z.input<typeof policySchema>;
/** A validated policy, defaults filled in. */
export type Policy = z.output<typeof policySchema>;

/** Validates a policy; InvalidOptionsError names the first bad field (`policy.maxCpus`). */
export function parsePolicy(input: unknown, source = 'policy'): Policy {
  const result = policySchema.safeParse(input ?? {});
  if (result.success) return result.data;
  throw new InvalidOptionsError(zodIssues(result.error, source, policySchema));
}

/**
 * Reads a JSON policy file and lays `overrides` (from flags) over it, field by field: a flag
 * replaces the file's value of that field.
 */
export async function loadPolicy(
  file: string | undefined,
  overrides: PolicyInput = {},
): Promise<Policy> {
  let fromFile: unknown = {};
  if (file) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new InvalidOptionsError(
        [{ path: 'config', message: `cannot read ${file}: ${(error as Error).message}` }],
        {
          hint: 'pass the path of a JSON policy file (see the @vms/mcp README)',
        },
      );
    }
    try {
      fromFile = JSON.parse(text);
    } catch (error) {
      throw new InvalidOptionsError([
        { path: 'config', message: `${file} is not JSON: ${(error as Error).message}` },
      ]);
    }
    if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile)) {
      throw new InvalidOptionsError([
        { path: 'config', message: `${file} must hold a JSON object` },
      ]);
    }
  }
  const merged: Record<string, unknown> = Object.assign(Object.create(null), fromFile);
  for (const [key, value] of Object.entries(overrides))
    if (value !== undefined) merged[key] = value;
  return parsePolicy({ ...merged }, file ? file : 'policy');
}

/** `*` matches any run of characters, `?` one; the whole string must match. */
export function globMatch(pattern: string, text: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 's').test(text);
}

/** `busybox` → `busybox:latest`; references with a tag or digest stay as they are. */
export function normalizeImage(image: string): string {
  if (image.includes('@')) return image;
  const last = image.slice(image.lastIndexOf('/') + 1);
  return last.includes(':') ? image : `${image}:latest`;
}
