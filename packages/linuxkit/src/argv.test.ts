/**
 * The QEMU command line each kind of image ends up with, end to end through @vms/qemu, seen by a
 * fake `qemu-system-x86_64` that records its argv and refuses to boot (no VM is started).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInstance, createRunner } from '@vms/core';
import { createFakeCli, type FakeCli } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweep, useTempHome } from '../test/guest.js';
import * as s from '../test/synthetic.js';
import { createLinuxkit } from './backend.js';

const onPath = (tool: string) =>
  (process.env.PATH ?? '').split(':').some((d) => existsSync(join(d, tool)));

// Create generates the instance's SSH key with ssh-keygen (the only real tool used here).
describe.skipIf(!onPath('ssh-keygen'))('QEMU argv per image kind (fake qemu)', () => {
  const home = useTempHome();
  const files = mkdtempSync(join(tmpdir(), 'vlk-argv-'));
  let qemu: FakeCli;
  let n = 0;

  beforeAll(async () => {
    qemu = await createFakeCli({
      name: 'qemu-system-x86_64',
      responses: [{ match: [], exitCode: 1, stderr: 'fake qemu: not booting\n' }],
    });
  });
  afterAll(async () => {
    await qemu?.cleanup();
    sweep(home);
    sweep(files);
  });

  /** Creates and starts an instance; returns the argv the (failing) QEMU launch got. */
  async function launchArgv(
    options: Record<string, unknown>,
    settings: Record<string, unknown> = {},
  ) {
    const backend = createLinuxkit({ qemu: qemu.binPath, ...settings });
    const vm = createInstance(backend, `argv-${++n}`, {
      accel: 'tcg',
      memoryMiB: 256,
      ...options,
    });
    await vm.create();
    await expect(vm.start()).rejects.toMatchObject({
      message: expect.stringContaining('fake qemu: not booting'),
    });
    await vm.delete();
    const calls = await qemu.calls();
    return calls[calls.length - 1]!;
  }
  const after = (argv: string[], flag: string) => argv[argv.indexOf(flag) + 1];

  it('kernel+initrd: -kernel/-initrd/-append from the output files, 127.0.0.1 forwards', async () => {
    const b = join(files, 'k');
    s.write(files, 'k-kernel', s.bzImage());
    s.write(files, 'k-initrd.img', s.cpioGz());
    s.write(files, 'k-cmdline', 'console=tty0 console=ttyS0 quiet\n');
    const argv = await launchArgv({ image: b, ports: [{ guest: 80, host: 18080 }], cpus: 2 });
    expect(after(argv, '-kernel')).toBe(`${b}-kernel`);
    expect(after(argv, '-initrd')).toBe(`${b}-initrd.img`);
    expect(after(argv, '-append')).toBe('console=tty0 console=ttyS0 quiet');
    expect(after(argv, '-m')).toBe('256');
    expect(after(argv, '-smp')).toBe('2');
    expect(after(argv, '-netdev')).toContain('hostfwd=tcp:127.0.0.1:18080-:80');
    expect(argv).not.toContain('-bios');
    expect(argv.some((a) => a.includes('media=cdrom'))).toBe(false);
  });

  it('iso-efi: CD-ROM boot with the UEFI firmware', async () => {
    const fw = s.write(files, 'OVMF.fd', 'fw');
    const iso = s.write(files, 'e-efi.iso', s.iso([0xef]));
    const argv = await launchArgv({ image: iso }, { uefiFirmware: fw });
    expect(after(argv, '-bios')).toBe(fw);
    expect(argv.find((a) => a.includes('media=cdrom'))).toContain(`file=${iso}`);
    expect(after(argv, '-boot')).toBe('order=d');
    expect(argv).not.toContain('-kernel');
  });

  it('mounts: one -virtfs per mount, in order', async () => {
    const iso = s.write(files, 'b.iso', s.iso([0x00]));
    const a = mkdtempSync(join(files, 'share-a-'));
    const b = mkdtempSync(join(files, 'share-b-'));
    const argv = await launchArgv({
      image: iso,
      mounts: [
        { source: a, target: '/a' },
        { source: b, target: '/b', readOnly: true },
      ],
    });
    const virtfs = argv.flatMap((x, i) => (argv[i - 1] === '-virtfs' ? [x] : []));
    expect(virtfs).toEqual([
      `local,path=${a},mount_tag=vms0,security_model=none,id=vms0`,
      `local,path=${b},mount_tag=vms1,security_model=none,id=vms1,readonly=on`,
    ]);
    expect(argv).not.toContain('-bios');
  });

  it.skipIf(!onPath('qemu-img'))(
    'disk: boots a qcow2 overlay of the image, never the image',
    async () => {
      const disk = s.write(files, 'd.vmdk', '');
      await createRunner().run(['qemu-img', 'create', '-q', '-f', 'vmdk', disk, '8M'], {
        timeoutMs: 60_000,
      });
      const argv = await launchArgv({ image: disk });
      const drive = argv.find((a) => a.includes('id=disk0'))!;
      expect(drive).toMatch(/file=.*\/qemu\/argv-\d+\/disk\.qcow2,if=virtio,format=qcow2/);
      expect(argv.join(' ')).not.toContain(`file=${disk}`);
    },
  );
});
