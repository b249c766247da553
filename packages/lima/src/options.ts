/**
 * Options of a Lima instance and settings of the lima backend, as zod schemas.
 */
import { commonInstanceOptions, processRunnerSchema, refuseUserData } from '@vms/core';
import * as z from '@vms/core/zod';

export const limaOptionsSchema = commonInstanceOptions
  .extend({
    /**
     * What to create from: a template name (`default`, `ubuntu-24.04`, `docker`), a locator
     * (`template://NAME`, `template:NAME`), a YAML file path, or an http(s) URL.
     */
    template: z.string().min(1).default('default'),
    /** `qemu` (snapshots), `vz` (macOS default since lima 1.0), `krunkit`, `wsl2`. */
    vmType: z.enum(['qemu', 'vz', 'krunkit', 'wsl2']).optional(),
    /** Guest architecture, e.g. `x86_64`, `aarch64`. */
    arch: z
      .string()
      .regex(/^[a-z0-9_]+$/, 'must be an architecture name like x86_64 or aarch64')
      .optional(),
    cpus: z.number().int().positive().max(1024).optional(),
    /** Extra yq expressions for `limactl create --set`, e.g. `.containerd.system = true`. */
    set: z.array(z.string().min(1)).default([]),
    /** Extra `limactl create` flags, appended as given. */
    createArgs: z.array(z.string()).default([]),
    /** Extra `limactl start` flags, appended as given. */
    startArgs: z.array(z.string()).default([]),
  })
  .superRefine(
    refuseUserData(
      'lima provisions guests from its template: use `set` (e.g. `.provision += [...]`) instead',
    ),
  );

export type LimaOptions = z.output<typeof limaOptionsSchema>;
export type LimaOptionsInput = z.input<typeof limaOptionsSchema>;

export const limaSettingsSchema = z
  .object({
    /** The limactl executable (default `limactl`, found on PATH). */
    limactlPath: z.string().min(1).default('limactl'),
    /** `LIMA_HOME` for every limactl command (default: lima's own, `~/.lima`). */
    limaHome: z.string().min(1).optional(),
    /** Extra environment for every limactl command. */
    env: z.record(z.string(), z.string()).default({}),
    /** Process runner (default: core's); tests inject their own. */
    runner: processRunnerSchema.optional(),
  })
  .strict();

export type LimaSettings = z.input<typeof limaSettingsSchema>;
