/** Instance options of the linuxkit backend: core's common options, extended. */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { commonInstanceOptions } from '@vms/core';
import * as z from '@vms/core/zod';
import { hostKeySchema, qemuOptionsSchema } from '@vms/qemu';
import { BUILD_FORMATS } from './build.js';
import { templateNameSchema } from './templates.js';

const q = qemuOptionsSchema.shape;

export const templateRequestSchema = z
  .object({
    /** A built-in or user template (see `templates.list()`). */
    name: templateNameSchema,
    /** Values of its `${VAR}` variables. */
    vars: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'invalid variable name'), z.string())
      .default({}),
    /** What `linuxkit build` makes of it. */
    format: z.enum(BUILD_FORMATS).default('kernel+initrd'),
  })
  .strict();
export type TemplateRequest = z.infer<typeof templateRequestSchema>;

export const linuxkitOptionsSchema = commonInstanceOptions
  .extend({
    /**
     * A LinuxKit output, by path (relative paths resolve against the current directory): an
     * ISO, a raw/qcow2/vmdk/vhd disk, a `NAME-kernel`/`NAME-initrd.img` file or the `NAME`
     * prefix of a kernel+initrd output. Detected by content. Never written to.
     */
    image: z
      .string()
      .min(1)
      .transform((p) => resolve(p))
      .optional(),
    /** Build this template with `linuxkit build` at create (into the instance's directory). */
    template: templateRequestSchema.optional(),
    cpus: z.number().int().positive().max(64).default(1),
    /** Guest memory (LinuxKit's default: 1024). */
    memoryMiB: z.number().int().min(64).default(1024),
    /** Replaces the kernel command line of a kernel+initrd image (`NAME-cmdline`). */
    cmdline: z.string().optional(),
    /** Which firmware boots the image: `auto` follows the image (EFI needs OVMF installed). */
    firmware: z.enum(['auto', 'bios', 'efi']).default('auto'),
    ssh: q.ssh,
    /** Attach a NoCloud seed (only for images that read one; LinuxKit's own do not). */
    seed: z.boolean().default(false),
    accel: q.accel,
    machine: q.machine,
    restrictNetwork: q.restrictNetwork,
    readyMarker: q.readyMarker,
    /**
     * Where the pinned SSH host key comes from (@vms/qemu's `hostKey`). Default `scan`: stock
     * `linuxkit/sshd` images do not print their keys on the console, so the key is learned with
     * ssh-keyscan over the VM's own loopback forward at every boot (trust on first use of a VM
     * we just booted). `console` for images that print cloud-init's host key block;
     * `{ publicKeys }` for keys you baked in.
     */
    hostKey: hostKeySchema.default('scan'),
    /**
     * When `start()` returns: `ssh` (exec works) or `running` (QMP says the VM runs: for images
     * without sshd; a later exec/copy waits for SSH within its own deadline).
     */
    readiness: q.readiness,
    extraArgs: q.extraArgs,
    /**
     * Start from a saved state (`linuxkit.savedStates.save(name, options)`): the first start
     * resumes the saved VM on the instance's own disk, with its own identity. The image, cpus
     * and memory are the saved state's.
     */
    from: z
      .object({ savedState: z.string().min(1) })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.from) {
      for (const key of ['image', 'template', 'cmdline'] as const) {
        if (o[key] !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `comes from the saved state (from.savedState ${o.from.savedState}): leave it out`,
          });
        }
      }
    } else if (!o.image === !o.template) {
      ctx.addIssue({
        code: 'custom',
        path: ['image'],
        message: o.image ? 'give image or template, not both' : 'image (or template) is required',
      });
    }
    o.mounts.forEach((m, i) => {
      if (!isAbsolute(m.source) || !existsSync(m.source) || !statSync(m.source).isDirectory()) {
        ctx.addIssue({
          code: 'custom',
          path: ['mounts', i, 'source'],
          message: 'must be an existing directory, by absolute path',
        });
      }
    });
  });

export type LinuxkitOptions = z.output<typeof linuxkitOptionsSchema>;
export type LinuxkitOptionsInput = z.input<typeof linuxkitOptionsSchema>;
