/**
 * Resolves what a user hands us (a LinuxKit output, by path) into something QEMU can boot:
 * kernel+initrd(+cmdline) by prefix, a BIOS/EFI ISO, or a disk image (raw, qcow2, vmdk, vhd),
 * all decided by content. What cannot run gets an InvalidOptionsError naming `image` and saying
 * what was found.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InvalidOptionsError } from '@vms/core';
import { type FileInfo, identifyFile } from './magic.js';

/** LinuxKit's output format names (`linuxkit build --format`). */
export type ImageFormat =
  | 'kernel+initrd'
  | 'iso-bios'
  | 'iso-efi'
  | 'raw-bios'
  | 'raw-efi'
  | 'qcow2-bios'
  | 'qcow2-efi'
  | 'vmdk'
  | 'vhd';

export type Firmware = 'bios' | 'efi';
export type FirmwarePreference = Firmware | 'auto';

interface ImageBase {
  format: ImageFormat;
  firmware: Firmware;
  /** What was detected, for messages and inspect ("Linux kernel (bzImage) + gzip cpio initrd"). */
  detected: string;
}
export type ResolvedImage =
  | (ImageBase & {
      boot: 'kernel';
      kernel: string;
      initrd: string;
      /** The `-cmdline` file, when there is one. */
      cmdlineFile?: string;
      /** Its content (trimmed), read at resolve time. */
      cmdline?: string;
    })
  | (ImageBase & { boot: 'iso'; iso: string })
  | (ImageBase & { boot: 'disk'; disk: string });

/** The files an image is made of, by role. */
export function imageFiles(image: ResolvedImage): { role: string; path: string }[] {
  switch (image.boot) {
    case 'kernel':
      return [
        { role: 'kernel', path: image.kernel },
        { role: 'initrd', path: image.initrd },
        ...(image.cmdlineFile ? [{ role: 'cmdline', path: image.cmdlineFile }] : []),
      ];
    case 'iso':
      return [{ role: 'iso', path: image.iso }];
    case 'disk':
      return [{ role: 'disk', path: image.disk }];
  }
}

const fail = (message: string): never => {
  throw new InvalidOptionsError([{ path: 'image', message }]);
};

async function kindOf(path: string): Promise<'file' | 'dir' | 'missing'> {
  try {
    return (await stat(path)).isDirectory() ? 'dir' : 'file';
  } catch {
    return 'missing';
  }
}

/** The LinuxKit output prefix of a triple member (`B-kernel`, `B-initrd.img`, ...). */
const TRIPLE_SUFFIX = /-(kernel|initrd\.img|cmdline|squashfs\.img|erofs\.img)$/;

const isKernel = (f: FileInfo) => f.kind === 'bzimage' || f.kind === 'elf';
const isInitrd = (f: FileInfo) => f.kind === 'cpio' || f.kind === 'compressed';

async function resolveTriple(prefix: string, shown: string): Promise<ResolvedImage> {
  const kernel = `${prefix}-kernel`;
  const initrd = `${prefix}-initrd.img`;
  const cmdlineFile = `${prefix}-cmdline`;
  if ((await kindOf(kernel)) !== 'file') {
    return fail(
      `${shown}: LinuxKit output ${basename(prefix)} has no kernel (${kernel} is missing)`,
    );
  }
  const k = await identifyFile(kernel);
  if (!isKernel(k)) return fail(`${kernel} is ${k.description}, not a Linux kernel`);
  if ((await kindOf(initrd)) !== 'file') {
    for (const root of ['squashfs', 'erofs']) {
      if ((await kindOf(`${prefix}-${root}.img`)) === 'file') {
        return fail(
          `${shown}: kernel+${root} output (${prefix}-${root}.img) is not supported: build with --format kernel+initrd, iso-bios or qcow2-bios`,
        );
      }
    }
    return fail(`${shown}: the kernel has no initrd (${initrd} is missing)`);
  }
  const i = await identifyFile(initrd);
  if (!isInitrd(i)) return fail(`${initrd} is ${i.description}, not an initrd (cpio archive)`);
  let cmdline: string | undefined;
  const hasCmdline = (await kindOf(cmdlineFile)) === 'file';
  if (hasCmdline) {
    cmdline = (await readFile(cmdlineFile, 'utf8')).trim();
    if (cmdline.includes('\0'))
      fail(`${cmdlineFile} is not a text file (a kernel command line was expected)`);
  }
  return {
    format: 'kernel+initrd',
    boot: 'kernel',
    firmware: 'bios',
    kernel,
    initrd,
    ...(hasCmdline ? { cmdlineFile, cmdline } : {}),
    detected: `${k.description} + ${i.description}`,
  };
}

/** For disks whose content does not say: LinuxKit names EFI outputs `B-efi.img`/`B-efi.qcow2`. */
function firmwareHint(path: string, preference: FirmwarePreference): Firmware {
  if (preference !== 'auto') return preference;
  return /-efi\.[^.]+$/.test(basename(path)) ? 'efi' : 'bios';
}

/**
 * Resolves `input` (absolute path): a file (classified by content), or a LinuxKit output prefix
 * (`DIR/NAME` for `DIR/NAME-kernel`, ...), as `linuxkit run` accepts them.
 */
export async function resolveImage(
  input: string,
  preference: FirmwarePreference = 'auto',
): Promise<ResolvedImage> {
  const kind = await kindOf(input);
  if (kind === 'missing') {
    if ((await kindOf(`${input}-kernel`)) === 'file') return resolveTriple(input, input);
    for (const root of ['squashfs', 'erofs']) {
      if ((await kindOf(`${input}-${root}.img`)) === 'file') return resolveTriple(input, input);
    }
    return fail(`${input} does not exist (nor does ${basename(input)}-kernel next to it)`);
  }
  if (kind === 'dir') return fail(`${input} is a directory; give an image file or output prefix`);

  const info = await identifyFile(input);
  const suffix = TRIPLE_SUFFIX.exec(basename(input));
  const prefix = suffix ? join(dirname(input), basename(input).slice(0, suffix.index)) : undefined;
  const what = `${input} is ${info.description}`;

  switch (info.kind) {
    case 'bzimage':
    case 'elf':
      if (prefix) return resolveTriple(prefix, input);
      return fail(
        `${what}: a bare kernel needs its initrd; name them NAME-kernel and NAME-initrd.img (LinuxKit's kernel+initrd output) and pass NAME`,
      );
    case 'cpio':
      if (prefix) return resolveTriple(prefix, input);
      return fail(`${what}: an initrd alone cannot boot; pass the LinuxKit output prefix`);
    case 'squashfs':
    case 'erofs':
      return fail(
        `${what}: a root filesystem without a kernel; kernel+${info.kind} outputs are not supported (build kernel+initrd, iso-bios or qcow2-bios)`,
      );
    case 'iso': {
      const boot = info.boot ?? [];
      if (boot.length === 0) return fail(`${what}: it has no El Torito boot entry`);
      const efi = preference === 'efi' || (preference === 'auto' && !boot.includes('bios'));
      if (efi && !boot.includes('efi')) return fail(`${what}; firmware "efi" was requested`);
      if (!efi && !boot.includes('bios')) return fail(`${what}; firmware "bios" was requested`);
      return {
        format: efi ? 'iso-efi' : 'iso-bios',
        boot: 'iso',
        firmware: efi ? 'efi' : 'bios',
        iso: input,
        detected: info.description,
      };
    }
    case 'qcow2':
    case 'raw-mbr':
    case 'raw-gpt':
    case 'vmdk':
    case 'vhd': {
      const firmware =
        info.kind === 'raw-gpt' && preference === 'auto'
          ? 'efi'
          : info.kind === 'raw-mbr' && preference === 'auto'
            ? 'bios'
            : firmwareHint(input, preference);
      const format: ImageFormat =
        info.kind === 'qcow2'
          ? `qcow2-${firmware}`
          : info.kind === 'vmdk' || info.kind === 'vhd'
            ? info.kind
            : `raw-${firmware}`;
      return { format, boot: 'disk', firmware, disk: input, detected: info.description };
    }
    case 'tar':
      return fail(
        info.compression
          ? `${what} (like LinuxKit's gcp output): unpack it and pass the disk.raw inside`
          : `${what} (LinuxKit's tar or docker output): a filesystem, not a bootable image`,
      );
    default:
      if (prefix && (await kindOf(`${prefix}-kernel`)) === 'file')
        return resolveTriple(prefix, input);
      return fail(`${what}, not a LinuxKit image this backend can boot`);
  }
}
