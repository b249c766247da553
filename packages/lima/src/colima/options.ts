/**
 * Options of a Colima profile (an instance) and settings of the colima backend, as zod schemas.
 */
import { commonInstanceOptions, processRunnerSchema, refuseUserData } from '@vms/core';
import * as z from '@vms/core/zod';

export const colimaOptionsSchema = commonInstanceOptions
  .extend({
    /** The container runtime colima provisions in the VM (`incus` and `none` need colima ≥ 0.7). */
    runtime: z.enum(['docker', 'containerd', 'incus', 'none']).default('docker'),
    /** `qemu`, `vz` or `krunkit`; colima has the flag on macOS only. */
    vmType: z.enum(['qemu', 'vz', 'krunkit']).optional(),
    arch: z.enum(['x86_64', 'aarch64']).optional(),
    cpus: z.number().int().positive().max(1024).optional(),
    /** Colima takes whole GiB. */
    diskGiB: z.number().int().positive().optional(),
    mountType: z.enum(['sshfs', '9p', 'virtiofs']).optional(),
    /** Start k3s with the runtime (docker or containerd). */
    kubernetes: z.boolean().default(false),
    /** DNS resolvers for the VM (`--dns`). */
    dns: z.array(z.union([z.ipv4(), z.ipv6()])).default([]),
    /** Extra `colima start` flags, appended as given. */
    startArgs: z.array(z.string()).default([]),
  })
  .superRefine(
    refuseUserData('colima provisions its own VM: use its `provision` config or startArgs instead'),
  );

export type ColimaOptions = z.output<typeof colimaOptionsSchema>;
export type ColimaOptionsInput = z.input<typeof colimaOptionsSchema>;

export const colimaSettingsSchema = z
  .object({
    /** The colima executable (default `colima`, found on PATH; it needs Lima's `limactl`). */
    colimaPath: z.string().min(1).default('colima'),
    /**
     * `COLIMA_HOME` for every colima command (created when missing, as colima ignores one that
     * does not exist). Default: colima's own (~/.colima, else $XDG_CONFIG_HOME/colima).
     */
    colimaHome: z.string().min(1).optional(),
    /** Extra environment for every colima command. */
    env: z.record(z.string(), z.string()).default({}),
    /** Process runner (default: core's); tests inject their own. */
    runner: processRunnerSchema.optional(),
  })
  .strict();

export type ColimaSettings = z.input<typeof colimaSettingsSchema>;
