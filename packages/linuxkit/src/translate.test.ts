import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseOptions } from '@vms/core';
import { qemuOptionsSchema } from '@vms/qemu';
import { afterAll, describe, expect, it } from 'vitest';
import * as s from '../test/synthetic.js';
import { resolveImage } from './image.js';
import { linuxkitOptionsSchema } from './options.js';
import { qemuOptionsFor, virtfsArgs, withSerialConsole } from './translate.js';

const dir = mkdtempSync(join(tmpdir(), 'vlk-translate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const opts = (o: Record<string, unknown>) =>
  parseOptions(linuxkitOptionsSchema, { image: '/x', ...o });

describe('linuxkit options', () => {
  it('needs exactly one of image and template', () => {
    expect(() => parseOptions(linuxkitOptionsSchema, {})).toThrow(
      /image: image \(or template\) is required/,
    );
    expect(() =>
      parseOptions(linuxkitOptionsSchema, { image: '/x', template: { name: 'sshd' } }),
    ).toThrow(/give image or template, not both/);
  });

  it('resolves a relative image path and applies LinuxKit-like defaults', () => {
    const o = parseOptions(linuxkitOptionsSchema, { image: 'out/lk' });
    expect(o.image).toBe(join(process.cwd(), 'out/lk'));
    expect(o).toMatchObject({
      cpus: 1,
      memoryMiB: 1024,
      firmware: 'auto',
      seed: false,
      ssh: { user: 'root', guestPort: 22 },
      hostKey: 'scan',
      readiness: 'ssh',
    });
  });

  it('passes the host key source and readiness on to @vms/qemu', () => {
    const keys = { publicKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOk= me'] };
    expect(qemuOptionsFor(undefined, opts({}))).toMatchObject({
      hostKey: 'scan',
      readiness: 'ssh',
    });
    expect(qemuOptionsFor(undefined, opts({ hostKey: keys, readiness: 'running' }))).toMatchObject({
      hostKey: keys,
      readiness: 'running',
    });
    expect(() => opts({ hostKey: 'guess' })).toThrow(/hostKey/);
  });

  it('validates mounts (existing directory) and templates', () => {
    expect(() => opts({ mounts: [{ source: '/nonexistent-dir', target: '/data' }] })).toThrow(
      /mounts\.0\.source/,
    );
    expect(() =>
      opts({ template: undefined, mounts: [{ source: dir, target: 'relative' }] }),
    ).toThrow(/mounts\.0\.target/);
    expect(() =>
      parseOptions(linuxkitOptionsSchema, { template: { name: 'sshd', format: 'tar' } }),
    ).toThrow(/template\.format/);
    expect(() => opts({ unknown: 1 })).toThrow(/unknown/i);
  });
});

describe('qemuOptionsFor', () => {
  it('kernel+initrd: kernel boot with the output cmdline (console on ttyS0 ensured)', async () => {
    const b = join(dir, 'lk');
    s.write(dir, 'lk-kernel', s.bzImage());
    s.write(dir, 'lk-initrd.img', s.cpioGz());
    s.write(dir, 'lk-cmdline', 'console=ttyS0 console=tty0 root=x\n');
    const image = await resolveImage(b);
    const q = qemuOptionsFor(image, opts({ memoryMiB: 256, ports: [{ guest: 80 }] }));
    expect(q).toMatchObject({
      kernel: `${b}-kernel`,
      initrd: `${b}-initrd.img`,
      cmdline: 'console=ttyS0 console=tty0 root=x console=ttyS0',
      memoryMiB: 256,
      cpus: 1,
      seed: false,
      mounts: [],
      ports: [{ guest: 80, hostIp: '127.0.0.1', protocol: 'tcp' }],
      extraArgs: [],
    });
    expect(q.disk).toBeUndefined();
    expect(q.iso).toBeUndefined();
    // The result is a valid @vms/qemu instance (its own schema agrees).
    expect(parseOptions(qemuOptionsSchema, q)).toMatchObject({ kernel: `${b}-kernel` });
    // The user's cmdline option replaces the output's.
    expect(qemuOptionsFor(image, opts({ cmdline: 'console=ttyS0 quiet' })).cmdline).toBe(
      'console=ttyS0 quiet',
    );
  });

  it('ISO → iso; disk → disk (qemu puts a qcow2 overlay over it); EFI adds -bios', async () => {
    const isoImage = await resolveImage(s.write(dir, 'a.iso', s.iso([0xef])));
    const q = qemuOptionsFor(isoImage, opts({}), '/fw/OVMF.fd');
    expect(q).toMatchObject({ iso: join(dir, 'a.iso'), extraArgs: ['-bios', '/fw/OVMF.fd'] });
    expect(q.kernel).toBeUndefined();
    const diskImage = await resolveImage(s.write(dir, 'd.vmdk', s.vmdkSparse()));
    expect(qemuOptionsFor(diskImage, opts({ diskGiB: 4, extraArgs: ['-x'] }))).toMatchObject({
      disk: join(dir, 'd.vmdk'),
      diskGiB: 4,
      extraArgs: ['-x'],
    });
  });

  it('mounts become 9p devices with unique tags', () => {
    expect(
      virtfsArgs([
        { source: '/a', target: '/data', readOnly: false },
        { source: '/b', target: '/data2', readOnly: true },
      ]),
    ).toEqual([
      '-virtfs',
      'local,path=/a,mount_tag=vms0,security_model=none,id=vms0',
      '-virtfs',
      'local,path=/b,mount_tag=vms1,security_model=none,id=vms1,readonly=on',
    ]);
    expect(
      qemuOptionsFor(undefined, opts({ mounts: [{ source: dir, target: '/m' }] })).extraArgs,
    ).toEqual(['-virtfs', `local,path=${dir},mount_tag=vms0,security_model=none,id=vms0`]);
  });

  it('a mount source with "," is escaped for QEMU (doubled), not refused', () => {
    const odd = mkdtempSync(join(dir, 'a,b-'));
    const o = opts({ mounts: [{ source: odd, target: '/m' }] });
    expect(o.mounts[0]?.source).toBe(odd);
    expect(virtfsArgs(o.mounts)[1]).toBe(
      `local,path=${odd.replace(/,/g, ',,')},mount_tag=vms0,security_model=none,id=vms0`,
    );
  });

  it('withSerialConsole keeps a cmdline whose last console is ttyS0', () => {
    expect(withSerialConsole('console=tty0 console=ttyS0,115200')).toBe(
      'console=tty0 console=ttyS0,115200',
    );
    expect(withSerialConsole('quiet')).toBe('quiet console=ttyS0');
    expect(withSerialConsole('')).toBe('console=ttyS0');
  });
});
