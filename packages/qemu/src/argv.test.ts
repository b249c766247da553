import { describe, expect, it } from 'vitest';
import { qemuArgv } from './argv.js';

const base = {
  binary: 'qemu-system-x86_64',
  accel: 'tcg' as const,
  cpus: 1,
  memoryMiB: 256,
  pidFile: '/s/vm/qemu.pid',
  qmpSocket: '/s/vm/qmp.sock',
  consoleLog: '/s/vm/console.log',
  forwards: [{ protocol: 'tcp' as const, hostIp: '127.0.0.1', hostPort: 40022, guestPort: 22 }],
  restrictNetwork: true,
  extraArgs: [],
};

describe('the QEMU command line', () => {
  it('daemonises with no defaults, a kept serial log, QMP, and loopback-only forwards', () => {
    const argv = qemuArgv({
      ...base,
      kernel: '/k',
      initrd: '/i',
      cmdline: 'console=ttyS0',
      disk: '/s/vm/disk.qcow2',
    });
    expect(argv.slice(0, 8)).toEqual([
      'qemu-system-x86_64',
      '-nodefaults',
      '-no-user-config',
      '-display',
      'none',
      '-daemonize',
      '-pidfile',
      '/s/vm/qemu.pid',
    ]);
    const joined = argv.join(' ');
    expect(joined).toContain(
      '-chardev file,id=serial0,path=/s/vm/console.log,append=on -serial chardev:serial0',
    );
    expect(joined).toContain(
      '-chardev socket,id=qmp,path=/s/vm/qmp.sock,server=on,wait=off -mon chardev=qmp,mode=control',
    );
    expect(joined).toContain('-kernel /k -initrd /i -append console=ttyS0');
    expect(joined).toContain('-drive file=/s/vm/disk.qcow2,if=virtio,format=qcow2,id=disk0');
    expect(joined).toContain('-netdev user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:40022-:22');
    expect(argv).not.toContain('-cpu');
  });

  it('boots an ISO from the CD-ROM, escapes commas, and appends the escape hatch last', () => {
    const argv = qemuArgv({
      ...base,
      iso: '/a,b/boot.iso',
      seedIso: '/s/seed.iso',
      restrictNetwork: false,
      extraArgs: ['-S'],
    });
    const joined = argv.join(' ');
    expect(joined).toContain(
      '-drive file=/a,,b/boot.iso,media=cdrom,if=ide,readonly=on,id=cd0 -boot order=d',
    );
    expect(joined).toContain('-drive file=/s/seed.iso,if=virtio,format=raw,readonly=on,id=seed0');
    expect(joined).toContain('-netdev user,id=net0,hostfwd=');
    expect(argv.at(-1)).toBe('-S');
  });

  it('uses the host CPU under KVM', () => {
    expect(qemuArgv({ ...base, accel: 'kvm', kernel: '/k' }).join(' ')).toContain(
      '-accel kvm -cpu host',
    );
  });

  it('passes paths with "," "=" ":" spaces and non-ASCII as single option values', () => {
    const dir = '/h/a,b=c:d é ü/vm';
    const argv = qemuArgv({
      ...base,
      pidFile: `${dir}/qemu.pid`,
      qmpSocket: `${dir}/qmp.sock`,
      consoleLog: `${dir}/console.log`,
      disk: `${dir}/disk.qcow2`,
      kernel: `${dir}/k`,
    });
    const esc = '/h/a,,b=c:d é ü/vm';
    expect(argv).toContain(`${dir}/qemu.pid`);
    expect(argv).toContain(`${dir}/k`);
    expect(argv).toContain(`socket,id=qmp,path=${esc}/qmp.sock,server=on,wait=off`);
    expect(argv).toContain(`file,id=serial0,path=${esc}/console.log,append=on`);
    expect(argv).toContain(`file=${esc}/disk.qcow2,if=virtio,format=qcow2,id=disk0`);
    expect(argv.some((a) => a.startsWith('unix:'))).toBe(false);
  });

  it('a clone: its own MAC on the NIC, and -incoming to load a saved state', () => {
    const argv = qemuArgv({
      ...base,
      kernel: '/k',
      mac: '52:54:00:12:ab:cd',
      incoming: "exec:cat '/t/state.bin'",
    });
    expect(argv).toContain('virtio-net-pci,netdev=net0,romfile=,mac=52:54:00:12:ab:cd');
    const i = argv.indexOf('-incoming');
    expect(argv[i + 1]).toBe("exec:cat '/t/state.bin'");
    // Without them: QEMU's default MAC, a boot.
    const plain = qemuArgv({ ...base, kernel: '/k' });
    expect(plain).toContain('virtio-net-pci,netdev=net0,romfile=');
    expect(plain).not.toContain('-incoming');
  });
});
