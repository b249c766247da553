/** Backend settings shared by @vms/docker and @vms/podman, validated with zod. */
import { processRunnerSchema } from '@vms/core';
import * as z from '@vms/core/zod';
import { engineSourceSchema } from './engine-source.js';

export const containerSettingsSchema = z
  .object({
    /** Engine URL: unix:///path, tcp://host:port, ssh://user@host (ssh goes through the CLI). */
    host: z
      .string()
      .regex(
        /^(unix|tcp|ssh|npipe):\/\/.+/,
        'must be a URL like unix:///var/run/docker.sock or tcp://host:2375',
      )
      .optional(),
    /**
     * The engine inside a VM instance: `{ vm: instance }` (lima, colima, qemu). The VM is started
     * when needed and its engine socket found or forwarded before each engine call.
     */
    engine: engineSourceSchema.optional(),
    /** docker context name (docker only). */
    context: z.string().min(1).optional(),
    /** `api`: HTTP API over the socket; `cli`: the binary; `auto`: api when a socket answers. */
    transport: z.enum(['auto', 'api', 'cli']).default('auto'),
    /** Process runner for CLI calls (tests inject recorded ones). Default: core's createRunner(). */
    runner: processRunnerSchema.optional(),
    /** CLI binary name or path. */
    binary: z.string().min(1).optional(),
    /** Extra environment for CLI calls (also read for DOCKER_CONFIG / DOCKER_HOST). */
    env: z.record(z.string(), z.string()).optional(),
  })
  .strict()
  .refine((s) => !(s.host && s.context), {
    message: 'cannot specify both host and context',
    path: ['context'],
  })
  .refine((s) => !(s.engine && (s.host || s.context)), {
    message: 'an engine inside a VM cannot be combined with host or context',
    path: ['engine'],
  });

export type ContainerSettings = z.output<typeof containerSettingsSchema>;
export type ContainerSettingsInput = z.input<typeof containerSettingsSchema>;
