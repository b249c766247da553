/** UEFI firmware (OVMF) for EFI images: found at the usual distribution paths, or given. */
import { accessSync, constants, statSync } from 'node:fs';
import { InvalidOptionsError } from '@vms/core';

/** Single-file OVMF builds usable with `-bios` (Debian/Ubuntu `ovmf`, Fedora `edk2-ovmf`, ...). */
export const OVMF_CANDIDATES = [
  '/usr/share/ovmf/OVMF.fd',
  '/usr/share/OVMF/OVMF.fd',
  '/usr/share/qemu/OVMF.fd',
  '/usr/share/edk2/ovmf/OVMF.fd',
  '/usr/share/edk2-ovmf/OVMF.fd',
  '/usr/share/edk2-ovmf/x64/OVMF.fd',
  '/usr/share/edk2/x64/OVMF.fd',
];

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The first readable firmware among `candidates`, or undefined. */
export function findUefiFirmware(
  candidates: readonly string[] = OVMF_CANDIDATES,
): string | undefined {
  return candidates.find(readable);
}

/**
 * The firmware for an EFI image: `explicit` when given (must be readable), else one found.
 * Throws InvalidOptionsError naming `image` (what needs it) when there is none.
 */
export function requireUefiFirmware(
  what: string,
  explicit: string | undefined,
  candidates: readonly string[] = OVMF_CANDIDATES,
): string {
  if (explicit) {
    if (readable(explicit)) return explicit;
    throw new InvalidOptionsError([
      { path: 'firmware', message: `UEFI firmware ${explicit} is not a readable file` },
    ]);
  }
  const found = findUefiFirmware(candidates);
  if (found) return found;
  throw new InvalidOptionsError(
    [
      {
        path: 'image',
        message: `${what} needs UEFI firmware, and none was found (looked for ${candidates.join(', ')})`,
      },
    ],
    { hint: 'apt-get install ovmf (or set the backend setting uefiFirmware to an OVMF.fd)' },
  );
}
