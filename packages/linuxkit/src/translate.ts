/** LinuxKit image + instance options → the options of the @vms/qemu instance that runs it. */
import { optValue, type QemuOptions } from '@vms/qemu';
import type { ResolvedImage } from './image.js';
import type { LinuxkitOptions } from './options.js';

/** Used when a kernel+initrd output has no `-cmdline` file. */
export const DEFAULT_CMDLINE = 'console=ttyS0';

/** The 9p mount tag of the i-th mount (guest: `mount -t 9p -o trans=virtio TAG DIR`). */
export const mountTag = (i: number) => `vms${i}`;

/**
 * The serial console is the instance's log (and where readiness is seen): a command line that
 * does not send the console to ttyS0 gets `console=ttyS0` appended (last one = /dev/console).
 */
export function withSerialConsole(cmdline: string): string {
  const consoles = cmdline.match(/(?:^|\s)console=(\S+)/g) ?? [];
  const last = consoles.at(-1)?.trim().slice('console='.length).split(',')[0];
  return last === 'ttyS0' ? cmdline : `${cmdline} console=ttyS0`.trim();
}

export function virtfsArgs(mounts: LinuxkitOptions['mounts']): string[] {
  return mounts.flatMap((m, i) => [
    '-virtfs',
    `local,path=${optValue(m.source)},mount_tag=${mountTag(i)},security_model=none,id=${mountTag(i)}${m.readOnly ? ',readonly=on' : ''}`,
  ]);
}

/**
 * The qemu instance options. `image` is undefined only for verbs that never boot (a driver for
 * watch/stop/delete before the state is read); `uefiFirmware` is required for EFI images.
 */
export function qemuOptionsFor(
  image: ResolvedImage | undefined,
  o: LinuxkitOptions,
  uefiFirmware?: string,
): QemuOptions {
  const boot: Partial<QemuOptions> = {};
  if (image?.boot === 'kernel') {
    boot.kernel = image.kernel;
    boot.initrd = image.initrd;
    boot.cmdline = withSerialConsole(o.cmdline ?? image.cmdline ?? DEFAULT_CMDLINE);
  } else if (image?.boot === 'iso') {
    boot.iso = image.iso;
  } else if (image?.boot === 'disk') {
    boot.disk = image.disk;
  }
  const firmware = image?.firmware === 'efi' && uefiFirmware ? ['-bios', uefiFirmware] : [];
  return {
    cpus: o.cpus,
    memoryMiB: o.memoryMiB,
    ...(o.diskGiB === undefined ? {} : { diskGiB: o.diskGiB }),
    ports: o.ports,
    // Mounts are 9p devices here (qemu's own schema has none); they go in as extra arguments.
    mounts: [],
    env: o.env,
    labels: o.labels,
    ...(o.userData ? { userData: o.userData } : {}),
    ...boot,
    ssh: o.ssh,
    ...(o.accel ? { accel: o.accel } : {}),
    ...(o.machine ? { machine: o.machine } : {}),
    restrictNetwork: o.restrictNetwork,
    seed: o.seed,
    ...(o.readyMarker ? { readyMarker: o.readyMarker } : {}),
    hostKey: o.hostKey,
    readiness: o.readiness,
    extraArgs: [...firmware, ...virtfsArgs(o.mounts), ...o.extraArgs],
  };
}
