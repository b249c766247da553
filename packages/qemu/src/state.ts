/** What the qemu backend keeps per instance (core's StateStore: 0700 dir, atomic state.json). */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateStore } from '@vms/core';
import * as z from '@vms/core/zod';

const portMappingSchema = z.object({
  hostIp: z.string(),
  hostPort: z.number().int(),
  guestPort: z.number().int(),
  protocol: z.enum(['tcp', 'udp']),
});

export const launchSchema = z.object({
  pid: z.number().int().positive(),
  /** /proc/PID/stat start time at launch: with the QMP path, proves the PID is still ours. */
  startTime: z.number().int().nonnegative().optional(),
  qmpSocket: z.string(),
  accel: z.enum(['kvm', 'tcg']),
  accelReason: z.string(),
  sshPort: z.number().int(),
  ports: z.array(portMappingSchema),
  /** Console log size when this boot started: markers are looked for after it. */
  consoleOffset: z.number().int().nonnegative(),
  startedAt: z.string(),
});
export type Launch = z.infer<typeof launchSchema>;

/** The machine a clone restores: its template's, recorded at create (see saved-state.ts). */
export const machineSchema = z.object({
  cpus: z.number().int().positive(),
  memoryMiB: z.number().int().positive(),
  machine: z.string().optional(),
  kernel: z.string().optional(),
  initrd: z.string().optional(),
  cmdline: z.string().optional(),
  iso: z.string().optional(),
  extraArgs: z.array(z.string()),
  restrictNetwork: z.boolean(),
  accel: z.enum(['kvm', 'tcg']),
  sshUser: z.string(),
  sshGuestPort: z.number().int(),
});
export type Machine = z.infer<typeof machineSchema>;

/** What makes an instance a clone of a saved state. */
export const cloneSchema = z.object({
  template: z.string(),
  machine: machineSchema,
  /** Its own MAC, machine-id and hostname (the template's are refreshed on restore). */
  mac: z.string(),
  machineId: z.string(),
  /** The next start restores the template's saved state (only the first: later starts boot). */
  restore: z.boolean(),
});
export type CloneInfo = z.infer<typeof cloneSchema>;

export const qemuStateSchema = z.object({
  createdAt: z.string(),
  /** The instance's writable qcow2 disk, when it has one. */
  disk: z.string().optional(),
  diskBytes: z.number().optional(),
  seedIso: z.string().optional(),
  privateKey: z.string(),
  hostname: z.string(),
  launch: launchSchema.optional(),
  /** Set for an instance started from a saved state (`from: { template }`). */
  clone: cloneSchema.optional(),
  /** Why the last run ended (a stop, or QEMU dying behind our back). */
  lastExit: z
    .object({ reason: z.string(), at: z.string(), unexpected: z.boolean().optional() })
    .optional(),
});
export type QemuState = z.infer<typeof qemuStateSchema>;

export function createStore(root?: string): StateStore<QemuState> {
  return new StateStore<QemuState>({
    backend: 'qemu',
    schemaVersion: 1,
    schema: qemuStateSchema,
    ...(root ? { root } : {}),
  });
}

export interface InstancePaths {
  dir: string;
  overlay: string;
  seedIso: string;
  privateKey: string;
  knownHosts: string;
  /** A clone's copy of its template's pinned host key (authenticates the identity refresh). */
  templateHosts: string;
  console: string;
  pidFile: string;
  qmpSocket: string;
  /**
   * ssh's connection-sharing socket: a clone's identity refresh leaves its connection open for a
   * few seconds, and the first exec/copy run over it instead of a new SSH handshake.
   */
  sshMux: string;
}

/** Unix socket paths are limited to 107 bytes; a long instance dir gets a short socket in tmp. */
const MAX_SOCKET_PATH = 100;

export function instancePaths(dir: string): InstancePaths {
  let qmpSocket = join(dir, 'qmp.sock');
  if (Buffer.byteLength(qmpSocket) > MAX_SOCKET_PATH) {
    const id = createHash('sha256').update(dir).digest('hex').slice(0, 20);
    qmpSocket = join(tmpdir(), `vms-qemu-${id}.qmp`);
  }
  // ssh makes its socket as PATH.<16 random characters> first: room for them within 107 bytes.
  let sshMux = join(dir, 'ssh.mux');
  if (Buffer.byteLength(sshMux) > MAX_SOCKET_PATH - 20) {
    const id = createHash('sha256').update(dir).digest('hex').slice(0, 20);
    sshMux = join(tmpdir(), `vms-qemu-${id}.ssh`);
  }
  return {
    dir,
    overlay: join(dir, 'disk.qcow2'),
    seedIso: join(dir, 'seed.iso'),
    privateKey: join(dir, 'id_ed25519'),
    knownHosts: join(dir, 'known_hosts'),
    templateHosts: join(dir, 'template_known_hosts'),
    console: join(dir, 'console.log'),
    pidFile: join(dir, 'qemu.pid'),
    qmpSocket,
    sshMux,
  };
}
