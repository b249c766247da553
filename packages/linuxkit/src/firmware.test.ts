import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findUefiFirmware, requireUefiFirmware } from './firmware.js';

const dir = mkdtempSync(join(tmpdir(), 'vlk-fw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('UEFI firmware', () => {
  const present = join(dir, 'OVMF.fd');
  writeFileSync(present, 'fw');
  const absent = join(dir, 'missing', 'OVMF.fd');

  it('finds the first readable candidate', () => {
    expect(findUefiFirmware([absent, present])).toBe(present);
    expect(findUefiFirmware([absent])).toBeUndefined();
  });

  it('an EFI image without firmware is a clear error naming image, with the install hint', () => {
    let error: unknown;
    try {
      requireUefiFirmware('iso-efi image /x.iso', undefined, [absent]);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'INVALID_OPTIONS', field: 'image' });
    expect((error as Error).message).toMatch(/iso-efi image \/x\.iso needs UEFI firmware/);
    expect((error as { hint: string }).hint).toMatch(/apt-get install ovmf/);
  });

  it('an explicit firmware must exist', () => {
    expect(requireUefiFirmware('x', present, [])).toBe(present);
    expect(() => requireUefiFirmware('x', absent, [present])).toThrow(
      /firmware: UEFI firmware .* not a readable file/,
    );
  });
});
