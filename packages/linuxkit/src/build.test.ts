import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeCli } from '@vms/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeLinuxkit } from '../test/fake-linuxkit.js';
import * as s from '../test/synthetic.js';
import { buildImage, buildOutputs, linuxkitBuildArgv } from './build.js';
import { resolveImage } from './image.js';

const dir = mkdtempSync(join(tmpdir(), 'vlk-build-'));
let fake: FakeCli;
beforeAll(async () => {
  fake = await createFakeLinuxkit({
    kernel: s.write(dir, 'src-kernel', s.bzImage()),
    initrd: s.write(dir, 'src-initrd', s.cpioGz()),
    iso: s.write(dir, 'src.iso', s.iso([0x00])),
    cmdline: 'console=ttyS0\n',
  });
});
afterAll(async () => {
  await fake?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('linuxkit build', () => {
  it('argv: current two-dash flags, the YAML file last', () => {
    expect(
      linuxkitBuildArgv({
        binary: 'linuxkit',
        format: 'iso-bios',
        dir: '/o',
        name: 'n',
        file: '/o/n.yml',
      }),
    ).toEqual([
      'linuxkit',
      'build',
      '--format',
      'iso-bios',
      '--dir',
      '/o',
      '--name',
      'n',
      '/o/n.yml',
    ]);
  });

  it('knows where each format lands', () => {
    expect(buildOutputs('kernel+initrd', '/o', 'n')).toEqual({
      image: '/o/n',
      files: ['/o/n-kernel', '/o/n-initrd.img', '/o/n-cmdline'],
    });
    expect(buildOutputs('iso-efi', '/o', 'n').image).toBe('/o/n-efi.iso');
    expect(buildOutputs('raw-bios', '/o', 'n').image).toBe('/o/n-bios.img');
    expect(buildOutputs('qcow2-bios', '/o', 'n').image).toBe('/o/n.qcow2');
  });

  it('builds kernel+initrd: runs the tool, checks the outputs, returns a runnable prefix', async () => {
    const out = join(dir, 'k');
    const r = await buildImage({
      yaml: 'kernel: {}\n',
      dir: out,
      name: 'box',
      binary: fake.binPath,
    });
    expect(r).toEqual({
      image: join(out, 'box'),
      files: buildOutputs('kernel+initrd', out, 'box').files,
      yamlFile: join(out, 'box.yml'),
    });
    expect((await fake.calls()).at(-1)).toEqual([
      'build',
      '--format',
      'kernel+initrd',
      '--dir',
      out,
      '--name',
      'box',
      join(out, 'box.yml'),
    ]);
    expect(await readFile(r.yamlFile, 'utf8')).toBe('kernel: {}\n');
    expect(await resolveImage(r.image)).toMatchObject({
      format: 'kernel+initrd',
      cmdline: 'console=ttyS0',
    });
  });

  it('builds iso-bios', async () => {
    const r = await buildImage({
      yaml: 'x: 1\n',
      format: 'iso-bios',
      dir: join(dir, 'i'),
      name: 'box',
      binary: fake.binPath,
    });
    expect(r.image).toBe(join(dir, 'i', 'box.iso'));
    expect(await resolveImage(r.image)).toMatchObject({ format: 'iso-bios' });
  });

  it('a failed build is a CommandFailedError carrying linuxkit’s message', async () => {
    await expect(
      buildImage({ yaml: 'FAIL-BUILD\n', dir: join(dir, 'f'), name: 'box', binary: fake.binPath }),
    ).rejects.toMatchObject({
      code: 'COMMAND_FAILED',
      message: expect.stringContaining('invalid config: FAIL-BUILD'),
    });
  });

  it('a build that writes nothing is a ProtocolError naming the missing files', async () => {
    await expect(
      buildImage({ yaml: 'NO-OUTPUT\n', dir: join(dir, 'n'), name: 'box', binary: fake.binPath }),
    ).rejects.toMatchObject({
      code: 'PROTOCOL_ERROR',
      message: expect.stringContaining(join(dir, 'n', 'box-kernel')),
    });
  });

  it('a missing linuxkit is a typed error, and requests are validated', async () => {
    await expect(
      buildImage({
        yaml: 'x\n',
        dir: join(dir, 'm'),
        name: 'box',
        binary: join(dir, 'no-linuxkit'),
      }),
    ).rejects.toMatchObject({
      code: expect.stringMatching(/NOT_FOUND|COMMAND_FAILED|BACKEND_UNAVAILABLE/),
    });
    await expect(buildImage({ yaml: 'x', dir: 'relative', name: 'box' })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      field: 'build.dir',
    });
  });
});
