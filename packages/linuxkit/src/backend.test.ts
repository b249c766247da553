// biome-ignore-all lint/suspicious/noTemplateCurlyInString: template text with ${VAR} references is the subject under test
/** The backend without booting: create/inspect/list/delete, errors, templates (fake linuxkit). */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInstance, createRunner } from '@vms/core';
import type { FakeCli } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeLinuxkit } from '../test/fake-linuxkit.js';
import { sweep, useTempHome } from '../test/guest.js';
import * as s from '../test/synthetic.js';
import { createLinuxkit } from './backend.js';
import { findUefiFirmware } from './firmware.js';

const onPath = (tool: string) =>
  (process.env.PATH ?? '').split(':').some((d) => existsSync(join(d, tool)));
const noKeygen = !onPath('ssh-keygen');
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe.skipIf(noKeygen)('linuxkit backend (no boot)', () => {
  const home = useTempHome();
  const files = mkdtempSync(join(tmpdir(), 'vlk-files-'));
  let fake: FakeCli;
  let backend: ReturnType<typeof createLinuxkit>;
  const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests test';

  beforeAll(async () => {
    fake = await createFakeLinuxkit({
      kernel: s.write(files, 'src-kernel', s.bzImage()),
      initrd: s.write(files, 'src-initrd', s.cpioGz()),
      iso: s.write(files, 'src.iso', s.iso([0x00])),
      cmdline: 'console=ttyS0\n',
    });
    backend = createLinuxkit({ linuxkit: fake.binPath });
  });
  afterAll(async () => {
    await fake?.cleanup();
    sweep(home);
    sweep(files);
  });

  const stateDir = (name: string) => join(home, 'state', 'linuxkit', name);

  it('refuses an image it cannot boot at create, leaving nothing behind', async () => {
    const vm = createInstance(backend, 'tarball', {
      image: s.write(files, 'x.img.tar.gz', s.tarGz()),
    });
    await expect(vm.create()).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      field: 'image',
      message: expect.stringContaining('gzip-compressed tar archive'),
    });
    expect(existsSync(stateDir('tarball'))).toBe(false);
    expect(
      (await backend.list({ signal: AbortSignal.timeout(30_000) })).map((l) => l.name),
    ).not.toContain('tarball');
  });

  it.skipIf(findUefiFirmware() !== undefined)(
    'refuses an iso-efi image when no UEFI firmware is installed',
    async () => {
      const vm = createInstance(backend, 'efi', {
        image: s.write(files, 'e-efi.iso', s.iso([0xef])),
      });
      await expect(vm.create()).rejects.toMatchObject({
        code: 'INVALID_OPTIONS',
        field: 'image',
        message: expect.stringMatching(/iso-efi image .* needs UEFI firmware/),
      });
      expect(existsSync(stateDir('efi'))).toBe(false);
    },
  );

  it('creates an iso-efi instance with the firmware from the settings', async () => {
    const fw = s.write(files, 'OVMF.fd', 'firmware');
    const withFw = createLinuxkit({ uefiFirmware: fw });
    const vm = createInstance(withFw, 'efi2', { image: s.write(files, 'e2.iso', s.iso([0xef])) });
    await vm.create();
    const info = await vm.inspect();
    expect(info.state.name).toBe('stopped');
    expect(info.properties.extra?.linuxkit).toMatchObject({
      format: 'iso-efi',
      firmware: 'efi',
      uefiFirmware: fw,
    });
    await vm.delete();
    expect(existsSync(stateDir('efi2'))).toBe(false);
  });

  it('builds a template at create into the instance directory; delete removes the build', async () => {
    const vm = createInstance(backend, 'tpl', {
      template: { name: 'sshd', vars: { SSH_KEY: key, HOSTNAME: 'h-${NOT_EXPANDED}' } },
    });
    await vm.create();
    const yaml = (
      JSON.parse(readFileSync(join(fake.dir, 'state.json'), 'utf8')) as { yamls: string[] }
    ).yamls.at(-1)!;
    expect(yaml).toContain(`contents: "${key}"`);
    expect(yaml).toContain('contents: "h-${NOT_EXPANDED}"');
    const info = await vm.inspect();
    const lk = info.properties.extra?.linuxkit as Record<string, unknown>;
    expect(info.properties.image).toBe('template:sshd');
    expect(lk).toMatchObject({
      format: 'kernel+initrd',
      template: { name: 'sshd', format: 'kernel+initrd' },
    });
    const built = join(stateDir('tpl'), 'image', 'sshd-kernel');
    expect(existsSync(built)).toBe(true);
    const listed = await backend.list({ signal: AbortSignal.timeout(30_000) });
    expect(listed.find((l) => l.name === 'tpl')).toMatchObject({
      state: 'stopped',
      managed: true,
      properties: { image: 'template:sshd' },
    });
    expect(await vm.delete()).toEqual({ existed: true });
    expect(existsSync(stateDir('tpl'))).toBe(false);
  });

  it('reports every missing template variable before building anything', async () => {
    const before = (await fake.calls()).length;
    const vm = createInstance(backend, 'tplmissing', { template: { name: 'docker' } });
    await expect(vm.create()).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      issues: [{ path: 'vars.SSH_KEY' }],
    });
    expect((await fake.calls()).length).toBe(before);
    expect(existsSync(stateDir('tplmissing'))).toBe(false);
  });

  it('a kernel deleted before start: start refuses, inspect tells', async () => {
    const b = join(files, 'gone');
    s.write(files, 'gone-kernel', s.bzImage());
    s.write(files, 'gone-initrd.img', s.cpioGz());
    const vm = createInstance(backend, 'gone', { image: b });
    await vm.create();
    unlinkSync(`${b}-kernel`);
    await expect(vm.start()).rejects.toMatchObject({
      message: expect.stringContaining(`kernel ${b}-kernel was deleted`),
    });
    const info = await vm.inspect();
    expect(info.state.reason ?? '').toContain(`kernel ${b}-kernel was deleted since create`);
    expect(info.properties.extra?.linuxkit).toMatchObject({
      imageProblems: [{ role: 'kernel', problem: 'deleted' }],
    });
    await vm.delete();
  });

  it.skipIf(!onPath('qemu-img'))(
    'a disk image gets a qcow2 overlay: the user’s file is only read',
    async () => {
      const disk = join(files, 'user.qcow2');
      await createRunner().run(['qemu-img', 'create', '-q', '-f', 'qcow2', disk, '16M'], {
        timeoutMs: 60_000,
      });
      const hash = sha256(disk);
      const vm = createInstance(backend, 'disk', { image: disk, diskGiB: 1 });
      await vm.create();
      const info = await vm.inspect();
      expect(info.properties.extra?.linuxkit).toMatchObject({ format: 'qcow2-bios', boot: 'disk' });
      expect(info.properties.diskGiB).toBe(1);
      const overlay = join(String(info.properties.extra?.instanceDir), 'disk.qcow2');
      const overlayInfo = JSON.parse(
        (
          await createRunner().run(['qemu-img', 'info', '--output=json', overlay], {
            timeoutMs: 60_000,
          })
        ).stdout,
      ) as Record<string, unknown>;
      expect(overlayInfo['backing-filename']).toBe(disk);
      expect(sha256(disk)).toBe(hash);
      await vm.delete();
      expect(existsSync(disk)).toBe(true);
      expect(sha256(disk)).toBe(hash);
    },
  );
});
