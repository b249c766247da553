import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as s from '../test/synthetic.js';
import { identifyFile } from './magic.js';

const dir = mkdtempSync(join(tmpdir(), 'vlk-magic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('identifyFile: by content', () => {
  const cases: [string, Buffer, Record<string, unknown>][] = [
    ['iso-bios', s.iso([0x00]), { kind: 'iso', boot: ['bios'] }],
    ['iso-efi', s.iso([0xef]), { kind: 'iso', boot: ['efi'] }],
    ['iso-hybrid', s.iso([0x00, 0xef]), { kind: 'iso', boot: ['bios', 'efi'] }],
    ['iso-data', s.iso([]), { kind: 'iso', boot: [] }],
    ['qcow2', s.qcow2(), { kind: 'qcow2' }],
    ['vmdk-sparse', s.vmdkSparse(), { kind: 'vmdk' }],
    ['vmdk-descriptor', s.vmdkDescriptor(), { kind: 'vmdk' }],
    ['vhd-dynamic', s.vhdDynamic(), { kind: 'vhd' }],
    ['vhd-fixed', s.vhdFixed(), { kind: 'vhd' }],
    ['raw-mbr', s.mbrDisk(), { kind: 'raw-mbr' }],
    ['raw-gpt', s.gptDisk(), { kind: 'raw-gpt' }],
    ['bzimage', s.bzImage(), { kind: 'bzimage' }],
    ['elf', s.elf(), { kind: 'elf' }],
    ['cpio', s.cpio(), { kind: 'cpio' }],
    ['cpio-gz', s.cpioGz(), { kind: 'cpio', compression: 'gzip' }],
    ['xz', s.xz(), { kind: 'compressed', compression: 'xz' }],
    ['squashfs', s.squashfs(), { kind: 'squashfs' }],
    ['erofs', s.erofs(), { kind: 'erofs' }],
    ['tar', s.tar(), { kind: 'tar' }],
    ['tar-gz', s.tarGz(), { kind: 'tar', compression: 'gzip' }],
    ['empty', Buffer.alloc(0), { kind: 'empty' }],
    ['text', Buffer.from('console=ttyS0\n'), { kind: 'unknown' }],
  ];
  for (const [name, data, expected] of cases) {
    it(`${name}`, async () => {
      // Every file gets a misleading extension: only the content may decide.
      const info = await identifyFile(s.write(dir, `${name}.iso.qcow2`, data));
      expect(info).toMatchObject(expected);
      expect(info.description.length).toBeGreaterThan(0);
    });
  }

  it('does not take a bzImage (0x55AA at 510 too) for a raw MBR disk', async () => {
    expect((await identifyFile(s.write(dir, 'k.img', s.bzImage()))).kind).toBe('bzimage');
  });

  it('does not take a hybrid ISO (MBR too) for a raw disk', async () => {
    const hybrid = s.iso([0x00]);
    hybrid[510] = 0x55;
    hybrid[511] = 0xaa;
    expect((await identifyFile(s.write(dir, 'hybrid.img', hybrid))).kind).toBe('iso');
  });

  it('throws the fs error for a missing file', async () => {
    await expect(identifyFile(join(dir, 'nope'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
