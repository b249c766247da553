/** Instance options of the qemu backend (core's common options, extended) and backend settings. */
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { commonInstanceOptions } from '@vms/core';
import * as z from '@vms/core/zod';
import { hostKeySchema } from './host-keys.js';

const readableFile = (what: string) =>
  z
    .string()
    .min(1)
    .refine((p) => isAbsolute(p), `${what} must be an absolute path`)
    .refine((p) => {
      try {
        accessSync(p, constants.R_OK);
        return statSync(p).isFile();
      } catch {
        return false;
      }
    }, `${what} must be an existing, readable file`);

export const accelSchema = z.enum(['auto', 'kvm', 'tcg']);
export type Accel = z.infer<typeof accelSchema>;

export const sshOptionsSchema = z
  .object({
    /** Login user in the guest. */
    user: z.string().min(1).default('root'),
    /** Private key to log in with; default: a per-instance ed25519 key generated at create. */
    privateKey: readableFile('ssh.privateKey').optional(),
    /** SSH port inside the guest. */
    guestPort: z.number().int().min(1).max(65535).default(22),
  })
  .strict();

export const qemuOptionsSchema = commonInstanceOptions
  .extend({
    cpus: z.number().int().positive().max(64).default(1),
    memoryMiB: z.number().int().min(64).default(512),
    /** Direct kernel boot: kernel image (bzImage or PVH ELF). */
    kernel: readableFile('kernel').optional(),
    initrd: readableFile('initrd').optional(),
    /** Kernel command line (direct kernel boot only). */
    cmdline: z.string().optional(),
    /** Base disk image (qcow2 or raw); the instance runs on its own qcow2 overlay over it. */
    disk: readableFile('disk').optional(),
    /** A bootable ISO, attached as a CD-ROM. */
    iso: readableFile('iso').optional(),
    ssh: sshOptionsSchema.default({ user: 'root', guestPort: 22 }),
    accel: accelSchema.optional(),
    /** QEMU machine type (default: QEMU's own, `pc`). */
    machine: z.string().min(1).optional(),
    /** `-netdev user,restrict=on`: the guest reaches only the host's forwarded ports. */
    restrictNetwork: z.boolean().default(false),
    /** Attach a NoCloud seed (hostname, SSH keys) built per instance. */
    seed: z.boolean().default(true),
    /** A serial-console line the guest prints once its SSH server listens (speeds readiness). */
    readyMarker: z.string().min(1).optional(),
    /**
     * Where the SSH host key pinned for exec/copy comes from: `console` (the guest prints it on
     * the serial console, as cloud-init does), `scan` (`ssh-keyscan` over the loopback forward
     * once sshd answers: trusts the first key seen on a VM we just booted), or `{ publicKeys }`.
     */
    hostKey: hostKeySchema.default('console'),
    /**
     * When `start()` returns: `ssh` (host key pinned, then `readyMarker` or an SSH login works)
     * or `running` (QMP reports the VM running; the first exec/copy then waits for the host key
     * within its own deadline — use it for images without an SSH server).
     */
    readiness: z.enum(['ssh', 'running']).default('ssh'),
    /**
     * Start from a saved state (see `qemu.templates`): the first start resumes the template's
     * running guest instead of booting it, on the instance's own disk, with its own hostname,
     * machine-id, MAC and SSH host keys. The machine (kernel, disk, cpus, memory, …) is the
     * template's: those options are not given; `ports`, `labels`, `userData.hostname` and
     * `readiness` are the clone's own.
     */
    from: z
      .object({ template: z.string().min(1) })
      .strict()
      .optional(),
    /** Escape hatch: extra QEMU arguments appended as they are. */
    extraArgs: z.array(z.string()).default([]),
  })
  .superRefine((o, ctx) => {
    if (o.from) {
      for (const key of ['kernel', 'initrd', 'cmdline', 'disk', 'iso', 'diskGiB'] as const) {
        if (o[key] !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `comes from the template (from.template ${o.from.template}): leave it out`,
          });
        }
      }
    } else if (!o.kernel && !o.disk && !o.iso) {
      ctx.addIssue({
        code: 'custom',
        path: ['kernel'],
        message: 'one of kernel, disk or iso is required',
      });
    }
    if (!o.kernel && (o.initrd || o.cmdline !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [o.initrd ? 'initrd' : 'cmdline'],
        message: 'needs kernel',
      });
    }
  });

export type QemuOptions = z.output<typeof qemuOptionsSchema>;
export type QemuOptionsInput = z.input<typeof qemuOptionsSchema>;
