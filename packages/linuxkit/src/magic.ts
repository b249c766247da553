/**
 * What a file is, by its content (magic bytes), never by its name: the first bytes of a file are
 * matched against the formats LinuxKit outputs (and the ones it cannot boot, to say so clearly).
 */
import { open } from 'node:fs/promises';
import { gunzipSync, constants as zlib } from 'node:zlib';

export type FileKind =
  /** ISO9660 image; `boot` says which El Torito platforms it boots on. */
  | 'iso'
  | 'qcow2'
  | 'vmdk'
  /** Microsoft VHD (fixed: footer at the end; dynamic: footer copy at the start). */
  | 'vhd'
  /** A disk with a GPT (protective MBR + `EFI PART`). */
  | 'raw-gpt'
  /** A disk with an MBR boot signature and no GPT. */
  | 'raw-mbr'
  /** x86 Linux kernel, bzImage (`HdrS` boot protocol header). */
  | 'bzimage'
  /** ELF executable (an uncompressed kernel, `vmlinux`). */
  | 'elf'
  /** cpio archive, plain or compressed (an initrd/initramfs). */
  | 'cpio'
  | 'squashfs'
  | 'erofs'
  /** tar archive (LinuxKit `tar`/`docker` outputs, or a `gcp` .img.tar.gz). */
  | 'tar'
  /** Compressed data whose content could not be identified. */
  | 'compressed'
  | 'empty'
  | 'unknown';

export interface FileInfo {
  kind: FileKind;
  /** For `iso`: which firmware can boot it (El Torito platform IDs), empty when not bootable. */
  boot?: ('bios' | 'efi')[];
  /** For compressed content: the compression (`gzip`, `xz`, `zstd`, ...). */
  compression?: string;
  /** Human description, used in error messages ("gzip-compressed tar archive"). */
  description: string;
}

/** How many bytes of the head are read (enough for the ISO volume descriptors at 0x8000+). */
const HEAD_BYTES = 0x8800 + 0x800;

const COMPRESSIONS: { name: string; magic: number[] }[] = [
  { name: 'gzip', magic: [0x1f, 0x8b] },
  { name: 'xz', magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { name: 'zstd', magic: [0x28, 0xb5, 0x2f, 0xfd] },
  { name: 'lz4', magic: [0x02, 0x21, 0x4c, 0x18] },
  { name: 'bzip2', magic: [0x42, 0x5a, 0x68] },
  { name: 'lzma', magic: [0x5d, 0x00, 0x00] },
];

const ascii = (buf: Buffer, at: number, text: string) =>
  buf.length >= at + text.length && buf.toString('latin1', at, at + text.length) === text;

const bytes = (buf: Buffer, at: number, magic: number[]) =>
  buf.length >= at + magic.length && magic.every((b, i) => buf[at + i] === b);

async function readAt(fd: Awaited<ReturnType<typeof open>>, position: number, length: number) {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fd.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

/** Classifies an uncompressed head (no compression handling). */
function classifyPlain(head: Buffer): FileInfo | undefined {
  if (ascii(head, 0, 'QFI\xfb')) return { kind: 'qcow2', description: 'qcow2 disk image' };
  if (ascii(head, 0, 'KDMV') || ascii(head, 0, '# Disk DescriptorFile'))
    return { kind: 'vmdk', description: 'VMDK disk image' };
  if (ascii(head, 0, 'conectix')) return { kind: 'vhd', description: 'VHD disk image' };
  if (ascii(head, 0, 'hsqs') || ascii(head, 0, 'sqsh'))
    return { kind: 'squashfs', description: 'squashfs filesystem' };
  if (bytes(head, 1024, [0xe2, 0xe1, 0xf5, 0xe0]))
    return { kind: 'erofs', description: 'EROFS filesystem' };
  if (ascii(head, 0, '\x7fELF')) return { kind: 'elf', description: 'ELF executable (vmlinux)' };
  if (ascii(head, 0x202, 'HdrS')) return { kind: 'bzimage', description: 'Linux kernel (bzImage)' };
  if (ascii(head, 0, '070701') || ascii(head, 0, '070702') || ascii(head, 0, '070707'))
    return { kind: 'cpio', description: 'cpio archive (initrd)' };
  if (ascii(head, 257, 'ustar')) return { kind: 'tar', description: 'tar archive' };
  return undefined;
}

/** Decompresses the start of a gzip stream (truncated input is fine) to look inside. */
function gunzipHead(head: Buffer): Buffer | undefined {
  try {
    return gunzipSync(head, { finishFlush: zlib.Z_SYNC_FLUSH });
  } catch {
    return undefined;
  }
}

/** Parses the El Torito boot catalog: which platforms (BIOS x86 = 0, EFI = 0xEF) it boots. */
async function isoBootPlatforms(
  fd: Awaited<ReturnType<typeof open>>,
  head: Buffer,
): Promise<('bios' | 'efi')[]> {
  const platforms = new Set<'bios' | 'efi'>();
  // Volume descriptors start at sector 16; the boot record (type 0) names El Torito.
  for (let sector = 16; sector < 32; sector++) {
    const vd =
      sector * 2048 < head.length
        ? head.subarray(sector * 2048)
        : await readAt(fd, sector * 2048, 2048);
    if (vd.length < 2048 || !ascii(vd, 1, 'CD001')) break;
    const type = vd[0];
    if (type === 0xff) break;
    if (type !== 0 || !ascii(vd, 7, 'EL TORITO SPECIFICATION')) continue;
    const catalogLba = vd.readUInt32LE(0x47);
    const catalog = await readAt(fd, catalogLba * 2048, 2048);
    if (catalog.length < 64 || catalog[0] !== 0x01) break;
    const add = (id: number | undefined) => {
      if (id === 0x00) platforms.add('bios');
      else if (id === 0xef) platforms.add('efi');
    };
    // Validation entry's platform is the default entry's; section headers (0x90/0x91) add more.
    if (catalog[32] === 0x88) add(catalog[1]);
    for (let at = 64; at + 32 <= catalog.length; at += 32) {
      const indicator = catalog[at];
      if (indicator === 0x90 || indicator === 0x91) {
        const platform = catalog[at + 1];
        const entries = catalog.readUInt16LE(at + 2);
        if (entries > 0 && catalog[at + 32] === 0x88) add(platform);
        at += 32 * entries;
        if (indicator === 0x91) break;
      } else if (indicator === 0x00) {
        break;
      }
    }
    break;
  }
  return [...platforms].sort();
}

/** Identifies `path` by content. Throws the fs error when it cannot be read. */
export async function identifyFile(path: string): Promise<FileInfo> {
  const fd = await open(path, 'r');
  try {
    const { size } = await fd.stat();
    if (size === 0) return { kind: 'empty', description: 'an empty file' };
    const head = await readAt(fd, 0, Math.min(HEAD_BYTES, size));
    // ISO9660 first: a hybrid ISO also carries an MBR signature.
    if (ascii(head, 0x8001, 'CD001')) {
      const boot = await isoBootPlatforms(fd, head);
      return {
        kind: 'iso',
        boot,
        description: `ISO9660 image (${boot.length ? `boots on ${boot.join(' and ').toUpperCase()}` : 'not bootable'})`,
      };
    }
    const plain = classifyPlain(head);
    if (plain) return plain;
    for (const c of COMPRESSIONS) {
      if (!bytes(head, 0, c.magic)) continue;
      const inner = c.name === 'gzip' ? gunzipHead(head) : undefined;
      const innerInfo = inner ? classifyPlain(inner) : undefined;
      if (innerInfo) {
        return {
          kind: innerInfo.kind,
          compression: c.name,
          description: `${c.name}-compressed ${innerInfo.description}`,
        };
      }
      return { kind: 'compressed', compression: c.name, description: `${c.name}-compressed data` };
    }
    // A fixed VHD is raw data followed by a 512-byte footer.
    if (size >= 1024) {
      const tail = await readAt(fd, size - 512, 512);
      if (ascii(tail, 0, 'conectix')) return { kind: 'vhd', description: 'VHD disk image (fixed)' };
    }
    if (size >= 1024 && ascii(head, 512, 'EFI PART'))
      return { kind: 'raw-gpt', description: 'raw disk image with a GPT' };
    if (size >= 512 && head[510] === 0x55 && head[511] === 0xaa)
      return { kind: 'raw-mbr', description: 'raw disk image with an MBR' };
    return { kind: 'unknown', description: 'data of an unknown format' };
  } finally {
    await fd.close();
  }
}
