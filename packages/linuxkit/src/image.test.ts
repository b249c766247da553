import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as s from '../test/synthetic.js';
import { imageFiles, resolveImage } from './image.js';

const root = mkdtempSync(join(tmpdir(), 'vlk-image-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const d = join(root, String(++n));
  mkdirSync(d);
  return d;
};

function triple(
  dir: string,
  name = 'lk',
  parts: { cmdline?: string | false; initrd?: Buffer | false } = {},
) {
  const b = join(dir, name);
  writeFileSync(`${b}-kernel`, s.bzImage());
  if (parts.initrd !== false) writeFileSync(`${b}-initrd.img`, parts.initrd ?? s.cpioGz());
  if (parts.cmdline !== false)
    writeFileSync(`${b}-cmdline`, `${parts.cmdline ?? 'console=tty0 console=ttyS0'}\n`);
  return b;
}

async function imageError(path: string, firmware?: 'auto' | 'bios' | 'efi') {
  const error = await resolveImage(path, firmware).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected ${path} to be refused`).toMatchObject({
    code: 'INVALID_OPTIONS',
    field: 'image',
  });
  return (error as Error).message;
}

describe('resolveImage: kernel+initrd outputs', () => {
  it('takes the output prefix, as linuxkit run does', async () => {
    const b = triple(fresh());
    const image = await resolveImage(b);
    expect(image).toMatchObject({
      format: 'kernel+initrd',
      boot: 'kernel',
      kernel: `${b}-kernel`,
      initrd: `${b}-initrd.img`,
      cmdlineFile: `${b}-cmdline`,
      cmdline: 'console=tty0 console=ttyS0',
    });
    expect(image.detected).toContain('bzImage');
    expect(imageFiles(image).map((f) => f.role)).toEqual(['kernel', 'initrd', 'cmdline']);
  });

  it('takes any member of the triple', async () => {
    const b = triple(fresh());
    for (const member of ['-kernel', '-initrd.img', '-cmdline']) {
      expect(await resolveImage(`${b}${member}`)).toMatchObject({
        boot: 'kernel',
        kernel: `${b}-kernel`,
      });
    }
  });

  it('accepts an ELF kernel and a missing cmdline file', async () => {
    const d = fresh();
    const b = triple(d, 'x', { cmdline: false });
    writeFileSync(`${b}-kernel`, s.elf());
    const image = await resolveImage(b);
    expect(image).toMatchObject({ boot: 'kernel' });
    expect(image.boot === 'kernel' && image.cmdline).toBe(undefined);
  });

  it('refuses a kernel without initrd, and says when it is a squashfs output', async () => {
    const d = fresh();
    const b = triple(d, 'k', { initrd: false });
    expect(await imageError(b)).toMatch(/has no initrd/);
    writeFileSync(`${b}-squashfs.img`, s.squashfs());
    expect(await imageError(b)).toMatch(/kernel\+squashfs output .* not supported/);
  });

  it('checks each member by content (a "kernel" that is not one is refused)', async () => {
    const d = fresh();
    const b = triple(d);
    writeFileSync(`${b}-kernel`, s.qcow2());
    expect(await imageError(b)).toMatch(/lk-kernel is qcow2 disk image, not a Linux kernel/);
    const c = triple(d, 'c', { initrd: s.squashfs() });
    expect(await imageError(c)).toMatch(/squashfs filesystem, not an initrd/);
  });

  it('refuses a bare kernel or initrd not named as a LinuxKit output', async () => {
    const d = fresh();
    expect(await imageError(s.write(d, 'vmlinuz', s.bzImage()))).toMatch(
      /bare kernel needs its initrd/,
    );
    expect(await imageError(s.write(d, 'initrd.gz', s.cpioGz()))).toMatch(
      /initrd alone cannot boot/,
    );
  });
});

describe('resolveImage: ISOs and disks, by content whatever the name says', () => {
  it('iso-bios, iso-efi, and a hybrid ISO booted as BIOS unless EFI is asked for', async () => {
    const d = fresh();
    expect(await resolveImage(s.write(d, 'a.iso', s.iso([0x00])))).toMatchObject({
      format: 'iso-bios',
      boot: 'iso',
      firmware: 'bios',
    });
    expect(await resolveImage(s.write(d, 'b.iso', s.iso([0xef])))).toMatchObject({
      format: 'iso-efi',
      firmware: 'efi',
    });
    const hybrid = s.write(d, 'c.iso', s.iso([0x00, 0xef]));
    expect(await resolveImage(hybrid)).toMatchObject({ format: 'iso-bios' });
    expect(await resolveImage(hybrid, 'efi')).toMatchObject({ format: 'iso-efi' });
    expect(await imageError(s.write(d, 'e.iso', s.iso([0xef])), 'bios')).toMatch(
      /boots on EFI.*"bios" was requested/,
    );
    expect(await imageError(s.write(d, 'data.iso', s.iso([])))).toMatch(/no El Torito boot entry/);
  });

  it('disks: raw MBR → raw-bios, GPT → raw-efi, qcow2, vmdk, vhd', async () => {
    const d = fresh();
    expect(await resolveImage(s.write(d, 'x-bios.img', s.mbrDisk()))).toMatchObject({
      format: 'raw-bios',
      boot: 'disk',
    });
    expect(await resolveImage(s.write(d, 'x-efi.img', s.gptDisk()))).toMatchObject({
      format: 'raw-efi',
      firmware: 'efi',
    });
    expect(await resolveImage(s.write(d, 'x.qcow2', s.qcow2()))).toMatchObject({
      format: 'qcow2-bios',
    });
    expect(await resolveImage(s.write(d, 'x-efi.qcow2', s.qcow2()))).toMatchObject({
      format: 'qcow2-efi',
      firmware: 'efi',
    });
    expect(await resolveImage(s.write(d, 'x.vmdk', s.vmdkSparse()))).toMatchObject({
      format: 'vmdk',
      firmware: 'bios',
    });
    expect(await resolveImage(s.write(d, 'x.vhd', s.vhdFixed()))).toMatchObject({ format: 'vhd' });
  });

  it('extension lies: content decides', async () => {
    const d = fresh();
    // A qcow2 named .iso is a disk; an ISO named .qcow2 is a CD; a GPT disk named .iso is raw-efi.
    expect(await resolveImage(s.write(d, 'lie.iso', s.qcow2()))).toMatchObject({
      format: 'qcow2-bios',
      boot: 'disk',
    });
    expect(await resolveImage(s.write(d, 'lie.qcow2', s.iso([0x00])))).toMatchObject({
      format: 'iso-bios',
      boot: 'iso',
    });
    expect(await resolveImage(s.write(d, 'lie2.iso', s.gptDisk()))).toMatchObject({
      format: 'raw-efi',
    });
    expect(await resolveImage(s.write(d, 'lie.vmdk', s.mbrDisk()))).toMatchObject({
      format: 'raw-bios',
    });
  });

  it('refuses what it cannot boot, naming what it found', async () => {
    const d = fresh();
    expect(await imageError(s.write(d, 'x.img.tar.gz', s.tarGz()))).toMatch(
      /gzip-compressed tar archive .*gcp/,
    );
    expect(await imageError(s.write(d, 'x.tar', s.tar()))).toMatch(
      /tar archive \(LinuxKit's tar or docker output\)/,
    );
    expect(await imageError(s.write(d, 'x.docker', s.tar()))).toMatch(/not a bootable image/);
    expect(await imageError(s.write(d, 'x.squashfs', s.squashfs()))).toMatch(
      /squashfs filesystem: a root filesystem without a kernel/,
    );
    expect(await imageError(s.write(d, 'x.qcow2', 'hello\n'))).toMatch(/unknown format/);
    expect(await imageError(s.write(d, 'empty.iso', ''))).toMatch(/an empty file/);
    expect(await imageError(join(d, 'missing'))).toMatch(/does not exist/);
    expect(await imageError(d)).toMatch(/is a directory/);
  });
});
