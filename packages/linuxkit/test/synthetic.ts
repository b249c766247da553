/** Small synthetic files carrying each format's magic bytes (no real image needed). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const SECTOR = 2048;

/**
 * An ISO9660 head: a primary volume descriptor, an El Torito boot record whose catalog lists
 * the given platforms (0 = BIOS, 0xEF = EFI), and the set terminator.
 */
export function iso(platforms: number[]): Buffer {
  const buf = Buffer.alloc(SECTOR * 24);
  const vd = (sector: number, type: number) => {
    const at = sector * SECTOR;
    buf[at] = type;
    buf.write('CD001', at + 1, 'latin1');
    buf[at + 6] = 1;
    return at;
  };
  vd(16, 1);
  if (platforms.length > 0) {
    const br = vd(17, 0);
    buf.write('EL TORITO SPECIFICATION', br + 7, 'latin1');
    buf.writeUInt32LE(20, br + 0x47);
    vd(18, 0xff);
    const cat = 20 * SECTOR;
    buf[cat] = 0x01; // validation entry
    buf[cat + 1] = platforms[0]!;
    buf[cat + 30] = 0x55;
    buf[cat + 31] = 0xaa;
    buf[cat + 32] = 0x88; // default entry, bootable
    let at = cat + 64;
    platforms.slice(1).forEach((p, i, rest) => {
      buf[at] = i === rest.length - 1 ? 0x91 : 0x90; // section header (last: 0x91)
      buf[at + 1] = p;
      buf.writeUInt16LE(1, at + 2);
      buf[at + 32] = 0x88;
      at += 64;
    });
  } else {
    vd(17, 0xff);
  }
  return buf;
}

export function mbrDisk(): Buffer {
  const buf = Buffer.alloc(64 * 1024);
  buf[510] = 0x55;
  buf[511] = 0xaa;
  return buf;
}

export function gptDisk(): Buffer {
  const buf = mbrDisk();
  buf[0x1c2] = 0xee;
  buf.write('EFI PART', 512, 'latin1');
  return buf;
}

export const qcow2 = () =>
  Buffer.concat([Buffer.from('QFI\xfb\0\0\0\x03', 'latin1'), Buffer.alloc(504)]);
export const vmdkSparse = () => Buffer.concat([Buffer.from('KDMV', 'latin1'), Buffer.alloc(508)]);
export const vmdkDescriptor = () =>
  Buffer.from('# Disk DescriptorFile\nversion=1\nCID=fffffffe\ncreateType="monolithicFlat"\n');
export const vhdDynamic = () =>
  Buffer.concat([Buffer.from('conectix', 'latin1'), Buffer.alloc(504)]);
/** A fixed VHD: raw data (with an MBR) and the footer at the end. */
export const vhdFixed = () =>
  Buffer.concat([mbrDisk(), Buffer.from('conectix', 'latin1'), Buffer.alloc(504)]);

export function bzImage(): Buffer {
  const buf = Buffer.alloc(8192);
  buf[510] = 0x55; // bzImages carry a boot-sector signature too
  buf[511] = 0xaa;
  buf.write('HdrS', 0x202, 'latin1');
  return buf;
}

export const elf = () =>
  Buffer.concat([Buffer.from('\x7fELF\x02\x01\x01', 'latin1'), Buffer.alloc(57)]);
export const cpio = () => Buffer.concat([Buffer.from('070701', 'latin1'), Buffer.alloc(500, 0x30)]);
export const cpioGz = () => gzipSync(cpio());
export const xz = () => Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 0, 1, 2, 3]);
export const squashfs = () => Buffer.concat([Buffer.from('hsqs', 'latin1'), Buffer.alloc(508)]);
export function erofs(): Buffer {
  const buf = Buffer.alloc(4096);
  buf.set([0xe2, 0xe1, 0xf5, 0xe0], 1024);
  return buf;
}
export function tar(): Buffer {
  const buf = Buffer.alloc(1024);
  buf.write('manifest.json', 0, 'latin1');
  buf.write('ustar\x0000', 257, 'latin1');
  return buf;
}
export const tarGz = () => gzipSync(tar());

export function write(dir: string, name: string, data: Buffer | string): string {
  const path = join(dir, name);
  writeFileSync(path, data);
  return path;
}
