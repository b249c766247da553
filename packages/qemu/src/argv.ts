/** The QEMU command line, as a pure function of a launch plan (tests snapshot it). */

export interface HostForward {
  protocol: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
  guestPort: number;
}

export interface LaunchPlan {
  binary: string;
  accel: 'kvm' | 'tcg';
  machine?: string;
  cpus: number;
  memoryMiB: number;
  pidFile: string;
  qmpSocket: string;
  consoleLog: string;
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  /** The instance's writable qcow2 disk (an overlay or a blank disk). */
  disk?: string;
  /** A bootable ISO (CD-ROM); booted from when there is no kernel. */
  iso?: string;
  seedIso?: string;
  forwards: HostForward[];
  restrictNetwork: boolean;
  /** The NIC's MAC address (default: QEMU's own, the same for every VM). */
  mac?: string;
  /** Start paused, loading a saved state from this migration URI (`-incoming`). */
  incoming?: string;
  extraArgs: string[];
}

/** Escapes a value inside a QEMU `key=value,...` option (a comma is doubled). */
export function optValue(value: string): string {
  return value.replace(/,/g, ',,');
}

export function hostfwd(f: HostForward): string {
  return `hostfwd=${f.protocol}:${f.hostIp}:${f.hostPort}-:${f.guestPort}`;
}

export function qemuArgv(plan: LaunchPlan): string[] {
  const argv = [
    plan.binary,
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-daemonize',
    '-pidfile',
    plan.pidFile,
    '-accel',
    plan.accel,
    ...(plan.machine ? ['-machine', plan.machine] : []),
    ...(plan.accel === 'kvm' ? ['-cpu', 'host'] : []),
    '-smp',
    String(plan.cpus),
    '-m',
    String(plan.memoryMiB),
    '-chardev',
    `file,id=serial0,path=${optValue(plan.consoleLog)},append=on`,
    '-serial',
    'chardev:serial0',
    // The chardev form: `-qmp unix:PATH,…` is parsed by a legacy parser that mistakes a path
    // holding "=" for options; here the path is one value (commas doubled).
    '-chardev',
    `socket,id=qmp,path=${optValue(plan.qmpSocket)},server=on,wait=off`,
    '-mon',
    'chardev=qmp,mode=control',
  ];
  if (plan.kernel) {
    argv.push('-kernel', plan.kernel);
    if (plan.initrd) argv.push('-initrd', plan.initrd);
    if (plan.cmdline !== undefined) argv.push('-append', plan.cmdline);
  }
  if (plan.disk) argv.push('-drive', `file=${optValue(plan.disk)},if=virtio,format=qcow2,id=disk0`);
  if (plan.iso) {
    argv.push('-drive', `file=${optValue(plan.iso)},media=cdrom,if=ide,readonly=on,id=cd0`);
    if (!plan.kernel) argv.push('-boot', 'order=d');
  }
  if (plan.seedIso)
    argv.push('-drive', `file=${optValue(plan.seedIso)},if=virtio,format=raw,readonly=on,id=seed0`);
  const netdev = [
    'user',
    'id=net0',
    ...(plan.restrictNetwork ? ['restrict=on'] : []),
    ...plan.forwards.map(hostfwd),
  ];
  argv.push(
    '-netdev',
    netdev.join(','),
    '-device',
    `virtio-net-pci,netdev=net0,romfile=${plan.mac ? `,mac=${plan.mac}` : ''}`,
  );
  argv.push('-device', 'virtio-rng-pci');
  if (plan.incoming) argv.push('-incoming', plan.incoming);
  argv.push(...plan.extraArgs);
  return argv;
}
