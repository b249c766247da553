/**
 * Instance options of a container (zod), extending core's common options. `command` omitted
 * means a keep-alive command that exits promptly on SIGTERM; `command: []` means the image's own.
 */
import { commonInstanceOptions } from '@vms/core';
import * as z from '@vms/core/zod';

/** Keeps the container alive and exits 0 on SIGTERM/SIGINT, also as PID 1 without an init. */
export const DEFAULT_COMMAND = [
  'sh',
  '-c',
  'trap "exit 0" TERM INT; while :; do sleep 86400 & wait $!; done',
] as const;

export const containerOptionsSchema = commonInstanceOptions.extend({
  /** Image reference (`nginx:alpine`, `registry:5000/team/app@sha256:…`); pulled per `pull`. */
  image: z.string().min(1, 'an image is required'),
  /**
   * When create pulls the image: `missing` (default) when the engine does not have it, `always`
   * before every create, `never` (create fails NOT_FOUND unless the image is local).
   */
  pull: z.enum(['missing', 'always', 'never']).default('missing'),
  /** argv of the container's main process; [] runs the image's own command. */
  command: z.array(z.string()).optional(),
  /** User (name or uid[:gid]) the main process and, by default, exec run as. */
  user: z.string().min(1).optional(),
  /** Working directory of the main process. */
  workdir: z.string().regex(/^\//, 'must be an absolute path in the container').optional(),
  /** Network to attach to (engine default when omitted). */
  network: z.string().min(1).optional(),
  /** Run a tiny init as PID 1 (`--init`) so signals and zombies are handled. */
  init: z.boolean().default(true),
  /** Extra CLI flags for `create`, inserted before the image (escape hatch; uses the CLI path). */
  extraCreateArgs: z.array(z.string()).default([]),
});
export type ContainerOptions = z.output<typeof containerOptionsSchema>;
export type ContainerOptionsInput = z.input<typeof containerOptionsSchema>;
