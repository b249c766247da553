/**
 * Options of a tart instance and settings of the tart backend, as zod schemas.
 */
import { commonInstanceOptions, processRunnerSchema, refuseUserData } from '@vms/core';
import * as z from '@vms/core/zod';

export const tartReadinessSchema = z
  .object({
    /** Wait until `tart ip NAME` reports an address (default true). */
    ip: z.boolean().default(true),
    /** How `tart ip` finds the address (tart's default: dhcp). `agent` needs the guest agent. */
    ipResolver: z.enum(['dhcp', 'arp', 'agent']).optional(),
    /**
     * Wait until `tart exec NAME echo <nonce>` echoes the nonce (default true). Needs the Tart Guest
     * Agent in the image (the cirruslabs images have it); turn off for images without it.
     */
    exec: z.boolean().default(true),
    /** Cap of the delay between two readiness probes, in ms (default 1000). */
    maxPollIntervalMs: z.number().int().min(10).max(60_000).default(1000),
  })
  .strict();

export const tartOptionsSchema = commonInstanceOptions
  .extend({
    /** What to clone: an OCI reference (`ghcr.io/cirruslabs/macos-sequoia-base:latest`) or a local VM name. */
    source: z.string().min(1, 'must name an OCI image or a local VM to clone from'),
    cpus: z.number().int().positive().max(1024).optional(),
    memoryMiB: z.number().int().positive().optional(),
    /** Disk size in GB; tart can only grow a disk, never shrink it. */
    diskGiB: z.number().int().positive().max(65_535).optional(),
    /** Extra `tart run` flags, appended as given (e.g. `["--dir", "src:~/src:ro", "--net-softnet"]`). */
    runArgs: z.array(z.string()).default([]),
    /** Run with `--suspendable` so the VM can be suspended. Only honoured for macOS guests. */
    suspendable: z.boolean().default(false),
    /** Keep the VM's audio device (default: `--no-audio`). */
    audio: z.boolean().default(false),
    readiness: tartReadinessSchema.default({ ip: true, exec: true, maxPollIntervalMs: 1000 }),
  })
  // ports and mounts need capabilities tart lacks: core refuses them (CAPABILITY_UNSUPPORTED).
  .superRefine(refuseUserData('tart images are not configured through cloud-init user data'));

export type TartOptions = z.output<typeof tartOptionsSchema>;
export type TartOptionsInput = z.input<typeof tartOptionsSchema>;

export const tartSettingsSchema = z
  .object({
    /** The tart executable (default `tart`, found on PATH). */
    tartPath: z.string().min(1).default('tart'),
    /** `TART_HOME` for every tart command (default: tart's own, `~/.tart`). */
    tartHome: z.string().min(1).optional(),
    /** Where @vms keeps its per-instance records and `tart run` logs (default `<vmsHome>/state/tart`). */
    stateDir: z.string().min(1).optional(),
    /** Extra environment for every tart command. */
    env: z.record(z.string(), z.string()).default({}),
    /** Process runner (default: core's); tests inject their own. */
    runner: processRunnerSchema.optional(),
  })
  .strict();

export type TartSettings = z.input<typeof tartSettingsSchema>;
